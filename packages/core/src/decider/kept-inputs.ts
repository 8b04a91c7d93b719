/**
 * What a package manager kept in its metadata cache, supplied to a judgement of many packages at once (`check` and
 * pnpm 12's updateConfig reading pnpm's cache, `portcullis-npm` reading npm's): each version's document, and the
 * release line the provenance downgrade check asks for next, found in the same read of the same file. Only supplied:
 * the gate verifies both like any registry document. A package nothing was kept for is fetched as before.
 */
import type { KeptVersion } from '../layouts/kept-metadata.js';
import { pnpmCached, pnpmKeepsAny, type OpenedCacheFiles } from '../layouts/pnpm-metadata-cache.js';
import type { PackageNode } from '../model.js';
import type { Packument } from '../registry/packument.js';
import type { JudgeInputs } from './gate.js';
import { mayBeEarlierInLineOf } from './provenance.js';

/**
 * A registry package's kept document (and, with `past`, its release line's versions: those `past` accepts, which
 * include every earlier version of the line, `mayBeEarlierInLineOf`), or undefined.
 */
export type KeptLookup = (pkg: PackageNode & { registry: string }, past: ((candidate: string) => boolean) | undefined) => KeptVersion | undefined;

/**
 * JudgeInputs from a kept cache read by `find`. `withPast` says which packages the downgrade check asks about: their
 * release line is read with their document. Each package's file is read once: a judgement asks for every version's
 * document first (gathering signatures) and for the release lines after, and the files of a real lockfile's
 * packuments (tens of megabytes) outgrow what a reader keeps meanwhile. For a judgement asked while the package
 * manager writes nothing to its cache.
 */
export function keptInputs(find: KeptLookup, withPast: (pkg: PackageNode) => boolean): Pick<JudgeInputs, 'supplied' | 'suppliedPackument'> {
  const fromRegistry = (pkg: PackageNode): pkg is PackageNode & { registry: string } => pkg.source === 'registry' && pkg.registry !== undefined;
  const cached = (pkg: PackageNode & { registry: string }, past: boolean) => find(pkg, past ? mayBeEarlierInLineOf(pkg.version) : undefined);
  // The release lines found while supplying the documents, until the downgrade check asks for them; and the packages
  // whose document was not there (nor, then, their release line: a file without the version says nothing of its past).
  const pasts = new Map<string, Packument>();
  const missing = new Set<string>();
  return {
    supplied: (pkg) => {
      if (!fromRegistry(pkg)) return undefined;
      const found = cached(pkg, withPast(pkg));
      if (found === undefined) missing.add(pkg.id);
      if (found?.past !== undefined) pasts.set(pkg.id, found.past);
      return found?.metadata;
    },
    suppliedPackument: (pkg) => {
      const kept = pasts.get(pkg.id);
      pasts.delete(pkg.id);
      if (kept !== undefined) return kept;
      return fromRegistry(pkg) && !missing.has(pkg.id) ? cached(pkg, true)?.past : undefined;
    },
  };
}

/**
 * keptInputs from pnpm's cache folders `cacheDirs` (the caller has checked each with keptCacheTrusted), for `check`
 * and pnpm 12's updateConfig before it installs. Whether pnpm keeps documents of a registry at all is asked once per
 * registry: a runner that restored Portcullis' cache but not pnpm's looks for no file.
 */
export function pnpmKeptInputs(cacheDirs: readonly string[], withPast: (pkg: PackageNode) => boolean, opened?: OpenedCacheFiles): Pick<JudgeInputs, 'supplied' | 'suppliedPackument'> {
  if (cacheDirs.length === 0) return {};
  const keeps = new Map<string, boolean>();
  const keptFrom = (registry: string): boolean => {
    let answer = keeps.get(registry);
    if (answer === undefined) keeps.set(registry, (answer = pnpmKeepsAny(cacheDirs, registry)));
    return answer;
  };
  return keptInputs((pkg, past) => (keptFrom(pkg.registry) ? pnpmCached(cacheDirs, pkg.registry, pkg.name, pkg.version, pkg.integrity, past, opened) : undefined), withPast);
}

/**
 * The release line pnpm's cache folders `cacheDirs` keep for a registry package (the earlier versions of its line that
 * claim attestations, from the file that holds it at the installed integrity), or undefined: for a judgement asked
 * while pnpm writes its cache (readPackage's batches, afterAllResolved), files kept in `opened`.
 */
export function pnpmKeptReleaseLine(cacheDirs: readonly string[], pkg: PackageNode, opened?: OpenedCacheFiles): Packument | undefined {
  return pkg.registry === undefined ? undefined : pnpmCached(cacheDirs, pkg.registry, pkg.name, pkg.version, pkg.integrity, mayBeEarlierInLineOf(pkg.version), opened)?.past;
}
