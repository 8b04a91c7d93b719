/**
 * updateConfig: runs once when pnpm loads its configuration, on every command and before any network
 * access. Portcullis replaces pnpm's build allowlist with the one portcullis.json implies, so nothing a
 * user writes in `allowBuilds`, `onlyBuiltDependencies` or `dangerouslyAllowAllBuilds` can widen it; the
 * settings pnpm applies after this hook are refused when they would (settings.ts). Packages the policy
 * never lets build are denied outright, so pnpm does not tell the user to approve them with its own command.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { keptCacheTrusted, pnpmGlobalVirtualStore, pnpmLockfilePackageKeys, pnpmStoreRefusal, pnpmStoreSettings, type BuildAllowance } from '@portcullis/core';
import { leaveCacheDir } from './handoff.js';
import { openProject, projectAt, registryConfigFromPnpm } from './project.js';
import { mergesOnlyBuiltDependencies, pnpmMajor } from './quirks.js';
import { excludedLinksError, refuseWidening, storeError } from './refuse.js';
import { commandLineWidening, perProjectWidening, pnpmCommandLine, rootManifestWidening, type WideningSetting } from './settings.js';
import type { InstallState, PnpmProject } from './state.js';
import { registryDependencies, type Manifest } from './translate.js';
import { inPnpm12HookWorker } from './worker-kind.js';

export type PnpmConfig = Record<string, unknown>;

/** Directory of the lockfile, where portcullis.json is looked up from. */
export function projectDirOf(config: PnpmConfig): string {
  for (const key of ['lockfileDir', 'workspaceDir', 'dir']) {
    const value = config[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return process.cwd();
}

/**
 * Every package the lockfile on disk lists (none when there is none). Read from its keys alone, on every pnpm
 * command: these only ever become `false` entries or ranged versions the policy covers, never a wider allowlist.
 */
export function lockfileCandidates(dir: string): Array<{ name: string; version: string }> {
  try {
    return pnpmLockfilePackageKeys(readFileSync(join(dir, 'pnpm-lock.yaml'), 'utf8'));
  } catch {
    // None, or unreadable: preResolution reports a broken lockfile; here it only means fewer candidates.
    return [];
  }
}

/** The registry packages a project's manifests name directly (aliases by their real name). */
function manifestCandidates(dirs: Iterable<string>): Array<{ name: string }> {
  const out: Array<{ name: string }> = [];
  for (const dir of dirs) {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
    } catch {
      continue;
    }
    for (const name of registryDependencies(manifest, ['dependencies', 'devDependencies', 'optionalDependencies'])) out.push({ name });
  }
  return out;
}

/**
 * Builds denied outright before resolution: of the packages known then (the lockfile's, the direct dependencies
 * of the manifests in `dirs`, and `versions` the registry publishes for ranged entries), those the policy never
 * lets build. Also recomputed by a hook in a fresh pnpm 12 worker (without the registry's versions).
 */
export function deniedBeforeResolution(project: PnpmProject, dirs: Iterable<string>, locked = lockfileCandidates(project.dir), versions: ReadonlyArray<{ name: string; version: string }> = []): string[] {
  return project.gate.builds.denylist([...locked, ...manifestCandidates(new Set(dirs)), ...versions]);
}

/**
 * Of the builds denied outright, those that name nothing but lockfile packages with no install script to skip: after
 * pnpm 12's updateConfig judged the lockfile (hooks.ts), `skipped` (`name@version`) are exactly its packages whose
 * install scripts the policy does not let run, so pnpm has nothing to build or to offer for approval in the others.
 * pnpm 12 pays for every allowBuilds entry on every install (measured, 1,000 packages: 849 `false` entries cost ~6 ms
 * of a ~100 ms warm install; 30 entries ~2 ms). Never one that a manifest's direct dependency or a ranged entry's
 * version also gives (pnpm may resolve another version of those), nor one of the user's own.
 */
export function unneededDenials(project: PnpmProject, from: NonNullable<PnpmProject['deniedFrom']>, skipped: Iterable<string>): Set<string> {
  const unneeded = new Set(project.gate.builds.denylist(from.locked));
  for (const entry of project.gate.builds.denylist([...manifestCandidates(new Set(from.dirs)), ...from.versions])) unneeded.delete(entry);
  for (const entry of from.own) unneeded.delete(entry);
  for (const id of skipped) {
    unneeded.delete(id);
    const at = id.lastIndexOf('@');
    if (at > 0) unneeded.delete(id.slice(0, at));
  }
  return unneeded;
}

/** pnpm 12, updateConfig, once the lockfile was judged and let through: drops the denials nothing needs (unneededDenials). */
export function narrowDenials(project: PnpmProject | undefined, config: PnpmConfig, skipped: Iterable<string>): void {
  const allowBuilds = config.allowBuilds;
  if (project?.deniedFrom === undefined || project.deniedBuilds === undefined || typeof allowBuilds !== 'object' || allowBuilds === null) return;
  const unneeded = unneededDenials(project, project.deniedFrom, skipped);
  for (const entry of unneeded) if ((allowBuilds as Record<string, unknown>)[entry] === false) delete (allowBuilds as Record<string, unknown>)[entry];
  project.deniedBuilds = new Set([...project.deniedBuilds].filter((entry) => !unneeded.has(entry)));
}

/** The settings pnpm applies after this hook that would widen the builds past the policy (pnpm 10: the root package.json). */
function wideningSettings(config: PnpmConfig, major: number, builds: BuildAllowance, dir: string): WideningSetting[] {
  const out = [...commandLineWidening(builds, pnpmCommandLine(config), major, config), ...perProjectWidening(config, major)];
  if (mergesOnlyBuiltDependencies(major)) {
    const manifestDir = typeof config.rootProjectManifestDir === 'string' ? config.rootProjectManifestDir : dir;
    let manifest = config.rootProjectManifest;
    if (typeof manifest !== 'object' || manifest === null) {
      try {
        manifest = JSON.parse(readFileSync(join(manifestDir, 'package.json'), 'utf8')) as unknown;
      } catch {
        manifest = undefined;
      }
    }
    out.push(...rootManifestWidening(builds, manifest, manifestDir));
  }
  return out;
}

/**
 * The same refusal again from a hook in pnpm 12's worker process, before any build: pnpm restores command-line
 * settings after updateConfig, so updateConfig is the only place that sees them, and its view of the command line
 * comes from /proc (a `node` shim on PATH once hid it). pnpm 10 and 11 run every hook in their own process,
 * after updateConfig: nothing to repeat.
 */
export function refuseCommandLineWidening(builds: BuildAllowance): void {
  if (!inPnpm12HookWorker()) return;
  refuseWidening(commandLineWidening(builds, pnpmCommandLine({}), 12, {}));
}

/**
 * Refuses a store or virtual store folder inside the project's checkout (core's pnpmStoreRefusal). pnpm hands
 * updateConfig `storeDir`, `virtualStoreDir` and `modulesDir` as they were written (where it hands one over at all: otherwise
 * the values the project's files and environment set are judged) — in pnpm-workspace.yaml, .npmrc (pnpm 10), a
 * `pnpm_config_`/`npm_config_` variable, or on the command line, which pnpm 10, 11 and 12 all show the hook (measured;
 * pnpm 10 and 11 expand a leading `~/`, pnpm 12.24.0 does not and reads it relative: both readings are judged) — and
 * `enableGlobalVirtualStore`; it resolves a relative value against the workspace's folder, else the project's: every
 * folder it could be read from is judged. A value the repository's own files wrote (pnpm-workspace.yaml, .npmrc) is
 * judged as theirs (checkout.ts: without a `.git`, a relative one is inside). A value given on the command line wins
 * over the files' and is judged alone (the fix the refusal gives). Unset: pnpm's default store, in the user's home
 * folder, and its default virtual store.
 */
export function refuseStoreInCheckout(config: PnpmConfig, dir: string, env: NodeJS.ProcessEnv = process.env): void {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const written = pnpmStoreSettings(dir, env);
  const globalVirtualStore = config.enableGlobalVirtualStore === true || pnpmGlobalVirtualStore(dir, env);
  const bases = new Set([dir, ...['workspaceDir', 'dir', 'lockfileDir'].map((key) => config[key]).filter((v): v is string => typeof v === 'string' && v !== '')]);
  for (const key of ['storeDir', 'virtualStoreDir', 'modulesDir'] as const) {
    const given = config[key];
    // pnpm hands over what it resolved; where it hands nothing, every value the project's files and environment set is judged.
    const values = typeof given === 'string' && given !== '' ? [given] : given === undefined ? written.filter((s) => s.key === key).map((s) => s.value) : [];
    for (const value of values) {
      const found = written.find((s) => s.key === key && s.value === value);
      const place = found?.place ?? "in pnpm's configuration";
      for (const base of bases) {
        const refusal = pnpmStoreRefusal({ key, value, place, base, fromRepository: found?.fromRepository === true }, dir, home, { globalVirtualStore });
        if (refusal !== undefined) throw storeError(refusal);
      }
    }
  }
}

/** The updateConfig hook. */
export async function updateConfig(state: InstallState, config: PnpmConfig): Promise<PnpmConfig> {
  const dir = projectDirOf(config);
  const major = pnpmMajor(config);
  state.pnpmMajor = major;
  // Before anything reads the store (pnpm fetches nothing before this hook has answered).
  refuseStoreInCheckout(config, dir);
  if (config.excludeLinksFromLockfile === true) throw excludedLinksError();
  // Only a cache outside the project's checkout is read (core's keptCacheTrusted): one the project's own files
  // could fill could hide a release line's earlier provenance.
  if (typeof config.cacheDir === 'string' && config.cacheDir !== '' && keptCacheTrusted(config.cacheDir, dir)) {
    state.pnpmCacheDir = config.cacheDir;
  }
  const registryConfig = registryConfigFromPnpm(config);
  const project = registryConfig ? (state.project = await openProject(dir, registryConfig)) : await projectAt(state, dir);
  // pnpm 12 runs the other hooks in a second worker, which is not told pnpm's cache folder: leave it there for this project (handoff.ts).
  if (major >= 12 && state.pnpmCacheDir !== undefined) leaveCacheDir(state.pnpmCacheDir, project.dir);
  const { builds } = project.gate;
  refuseWidening(wideningSettings(config, major, builds, dir));

  const allowBuilds: Record<string, boolean> = {};
  // A user's `false` only narrows: keep it. A user's `true` counts for nothing.
  const own = config.allowBuilds;
  const ownDenied = new Set<string>();
  if (typeof own === 'object' && own !== null) for (const [key, value] of Object.entries(own)) if (value === false) ownDenied.add(key);
  for (const key of ownDenied) allowBuilds[key] = false;
  const locked = lockfileCandidates(dir);
  const versions = await builds.rangedCandidates(locked);
  for (const entry of builds.allowlist(versions)) {
    if (allowBuilds[entry] !== false) allowBuilds[entry] = true;
  }
  // Packages the policy never lets build are denied outright rather than left "awaiting approval": pnpm then
  // skips them without telling the user to run `pnpm approve-builds`, which cannot widen the policy. Known
  // here: the lockfile's packages, the manifests' direct dependencies and the published versions of ranged
  // entries. In strict mode pnpm's own failure on unapproved builds stays as a second gate behind Portcullis'.
  if (!project.gate.strict) {
    const dirs = [dir, ...(typeof config.dir === 'string' ? [config.dir] : [])];
    const denied = deniedBeforeResolution(project, dirs, locked, versions);
    for (const entry of denied) allowBuilds[entry] = false;
    project.deniedBuilds = new Set(denied);
    project.deniedFrom = { locked, dirs, versions, own: ownDenied };
  }
  config.allowBuilds = allowBuilds;
  config.dangerouslyAllowAllBuilds = false;
  if (mergesOnlyBuiltDependencies(major)) {
    // pnpm 10 merges allowBuilds into onlyBuiltDependencies after this hook; start it empty so the
    // user's list is not merged too. (Never neverBuiltDependencies: it turns pnpm 10 into deny-list mode.)
    config.onlyBuiltDependencies = [];
    delete config.onlyBuiltDependenciesFile;
    // pnpm 10 turns dangerouslyAllowAllBuilds into an empty neverBuiltDependencies, which conflicts with the list above.
    delete config.neverBuiltDependencies;
  }
  config.strictDepBuilds = project.gate.strict;
  // The cooldown, in pnpm's own terms: a fresh resolution then prefers versions old enough (a range picks an older
  // one). Never lowered below what the user set; the gate refuses a too-new version whatever pnpm resolved.
  const cooldown = project.gate.cooldown;
  if (cooldown !== null) {
    const minutes = Math.ceil(cooldown.minimumReleaseAgeMs / 60_000);
    const own = typeof config.minimumReleaseAge === 'number' ? config.minimumReleaseAge : 0;
    config.minimumReleaseAge = Math.max(own, minutes);
    const excluded = Array.isArray(config.minimumReleaseAgeExclude) ? config.minimumReleaseAgeExclude.filter((e): e is string => typeof e === 'string') : [];
    config.minimumReleaseAgeExclude = [...new Set([...excluded, ...cooldown.exclude])];
  }
  return config;
}
