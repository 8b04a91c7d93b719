/**
 * What pnpm kept in its metadata cache, supplied to a judgement of many packages at once (`check`, pnpm 12's
 * updateConfig judging the lockfile): each version's document (layouts/pnpm-metadata-cache.ts `pnpmCached`), and the
 * release line the provenance downgrade check asks for next, found in the same read of the same file. Only supplied:
 * the gate verifies both like any registry document. A package pnpm kept nothing for is fetched as before.
 */
import { pnpmCached, pnpmKeepsAny, type OpenedCacheFiles } from '../layouts/pnpm-metadata-cache.js';
import type { PackageNode } from '../model.js';
import type { Packument } from '../registry/packument.js';
import type { JudgeInputs } from './gate.js';
import { earlierInLineOf } from './provenance.js';

/**
 * JudgeInputs from pnpm's cache folders `cacheDirs` (the caller has checked each with keptCacheTrusted). `withPast`
 * says which packages the downgrade check asks about: their release line is read with their document. Each file is
 * read once: a judgement asks for every version's document first (gathering signatures) and for the release lines
 * after; the files of a real lockfile's packuments (tens of megabytes) outgrow what `opened` keeps meanwhile. For a
 * judgement asked while pnpm writes nothing to its cache (`check`, pnpm 12's updateConfig before it installs).
 */
export function pnpmKeptInputs(cacheDirs: readonly string[], withPast: (pkg: PackageNode) => boolean, opened?: OpenedCacheFiles): Pick<JudgeInputs, 'supplied' | 'suppliedPackument'> {
  if (cacheDirs.length === 0) return {};
  const fromRegistry = (pkg: PackageNode): pkg is PackageNode & { registry: string } => pkg.source === 'registry' && pkg.registry !== undefined;
  const cached = (pkg: PackageNode & { registry: string }, past: boolean) =>
    pnpmCached(cacheDirs, pkg.registry, pkg.name, pkg.version, pkg.integrity, past ? earlierInLineOf(pkg.version) : undefined, opened);
  // Whether pnpm keeps documents of a registry at all, asked once per registry: a runner that restored Portcullis'
  // cache but not pnpm's looks for no file.
  const keeps = new Map<string, boolean>();
  const keptFrom = (registry: string): boolean => {
    let answer = keeps.get(registry);
    if (answer === undefined) keeps.set(registry, (answer = pnpmKeepsAny(cacheDirs, registry)));
    return answer;
  };
  // The release lines found while supplying the documents, until the downgrade check asks for them; and the packages
  // whose document was not there (nor, then, their release line: a file without the version says nothing of its past).
  const pasts = new Map<string, Packument>();
  const missing = new Set<string>();
  return {
    supplied: (pkg) => {
      if (!fromRegistry(pkg) || !keptFrom(pkg.registry)) return undefined;
      const found = cached(pkg, withPast(pkg));
      if (found === undefined) missing.add(pkg.id);
      if (found?.past !== undefined) pasts.set(pkg.id, found.past);
      return found?.metadata;
    },
    suppliedPackument: (pkg) => {
      const kept = pasts.get(pkg.id);
      pasts.delete(pkg.id);
      if (kept !== undefined) return kept;
      return fromRegistry(pkg) && !missing.has(pkg.id) && keptFrom(pkg.registry) ? cached(pkg, true)?.past : undefined;
    },
  };
}
