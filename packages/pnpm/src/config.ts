/**
 * updateConfig: runs once when pnpm loads its configuration, on every command and before any network
 * access. Portcullis replaces pnpm's build allowlist with the one portcullis.json implies, so nothing a
 * user writes in `allowBuilds`, `onlyBuiltDependencies` or `dangerouslyAllowAllBuilds` can widen it; the
 * settings pnpm applies after this hook are refused when they would (settings.ts). Packages the policy
 * never lets build are denied outright, so pnpm does not tell the user to approve them with its own command.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRegistryClient,
  defaultCacheDir,
  pnpmLockfilePackageKeys,
  rangedScriptNames,
  registryPackageOf,
  scriptAllowlist,
  scriptDenylist,
  type Policy,
  type RegistryConfig,
} from '@portcullis/core';
import { pnpmError } from './errors.js';
import { policyFor, registryConfigFromPnpm, rememberProject, projectAt, strictBuilds, type Project } from './project.js';
import { commandLineWidening, perProjectWidening, pnpmCommandLine, rootManifestWidening, type WideningSetting } from './settings.js';

export type PnpmConfig = Record<string, unknown>;

/** pnpm's major version, from the user agent it sends (`pnpm/10.34.8 npm/? node/…`). */
export function pnpmMajor(config: PnpmConfig): number {
  const match = typeof config.userAgent === 'string' ? /^pnpm\/(\d+)\./.exec(config.userAgent) : null;
  return match ? Number(match[1]) : 0;
}

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
function lockfileCandidates(dir: string): Array<{ name: string; version: string }> {
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
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    for (const field of [manifest.dependencies, manifest.devDependencies, manifest.optionalDependencies]) {
      if (typeof field !== 'object' || field === null) continue;
      for (const [name, spec] of Object.entries(field)) {
        const real = typeof spec === 'string' ? registryPackageOf(name, spec) : undefined;
        if (real !== undefined) out.push({ name: real });
      }
    }
  }
  return out;
}

/**
 * Builds denied outright before resolution: of the packages known then (the lockfile's, the direct dependencies
 * of the manifests in `dirs`, and `versions` the registry publishes for ranged entries), those the policy never
 * lets build. Also recomputed by a hook in a fresh pnpm 12 worker (without the registry's versions).
 */
export function deniedBeforeResolution(project: Project, dirs: Iterable<string>, locked = lockfileCandidates(project.dir), versions: ReadonlyArray<{ name: string; version: string }> = []): string[] {
  return scriptDenylist(project.policy, [...locked, ...manifestCandidates(new Set(dirs)), ...versions]);
}

/** Every version a ranged scripts.allow entry could meet: those in the lockfile, and those the registry publishes. */
async function candidateVersions(policy: Policy, locked: ReadonlyArray<{ name: string; version: string }>, registryConfig: RegistryConfig): Promise<Array<{ name: string; version: string }>> {
  const names = rangedScriptNames(policy);
  if (names.length === 0) return [];
  const out = locked.filter((pkg) => names.includes(pkg.name));
  // A fresh resolution may pick a version the lockfile does not have yet: list what the registry publishes.
  const client = createRegistryClient({ config: registryConfig, cacheDir: defaultCacheDir(process.env), timeoutMs: 10_000, retries: 0 });
  await Promise.all(
    names.map(async (name) => {
      try {
        const packument = await client.getPackument(name);
        for (const version of packument.versions.keys()) out.push({ name, version });
      } catch {
        // Unreachable: versions missing here are simply not built (never the other way round).
      }
    }),
  );
  return out;
}

/** The settings pnpm applies after this hook that would widen the builds past the policy (pnpm 10: the root package.json). */
function wideningSettings(config: PnpmConfig, major: number, policy: Policy, dir: string): WideningSetting[] {
  const out = [...commandLineWidening(policy, pnpmCommandLine(config), major, config), ...perProjectWidening(config, major)];
  if (major <= 10) {
    const manifestDir = typeof config.rootProjectManifestDir === 'string' ? config.rootProjectManifestDir : dir;
    let manifest = config.rootProjectManifest;
    if (typeof manifest !== 'object' || manifest === null) {
      try {
        manifest = JSON.parse(readFileSync(join(manifestDir, 'package.json'), 'utf8')) as unknown;
      } catch {
        manifest = undefined;
      }
    }
    out.push(...rootManifestWidening(policy, manifest, manifestDir));
  }
  return out;
}

/** Refuses the install when a setting pnpm applies after this hook would let a package build that the policy does not allow. */
function refuseWidening(settings: readonly WideningSetting[]): void {
  if (settings.length === 0) return;
  const s = settings.length === 1 ? '' : 's';
  const message = `portcullis refused the install: ${settings.length} pnpm setting${s} would let packages build that scripts.allow of portcullis.json does not allow, and pnpm applies ${s ? 'them' : 'it'} after Portcullis' hook. Nothing was fetched or built`;
  const hint = settings.map((w) => `  SETTING_WIDENS_BUILDS  ${w.setting} ${w.place} allows ${w.allows.join(', ')}\n    fix: ${w.fix}`).join('\n');
  throw pnpmError('SETTINGS', message, hint);
}

/**
 * The same refusal again from a hook in pnpm 12's worker process, before any build: pnpm restores command-line
 * settings after updateConfig, so updateConfig is the only place that sees them, and its view of the command line
 * comes from /proc (a `node` shim on PATH once hid it). pnpm 10 and 11 run every hook in their own process,
 * after updateConfig: nothing to repeat.
 */
export function refuseCommandLineWidening(policy: Policy): void {
  if (process.argv.length > 2) return;
  refuseWidening(commandLineWidening(policy, pnpmCommandLine({}), 12, {}));
}

/** The updateConfig hook. */
export async function updateConfig(config: PnpmConfig): Promise<PnpmConfig> {
  const dir = projectDirOf(config);
  const major = pnpmMajor(config);
  const registryConfig = registryConfigFromPnpm(config);
  const project: Project = registryConfig ? { dir, policy: policyFor(dir), registryConfig, strictBuilds: strictBuilds(dir) } : await projectAt(dir);
  rememberProject(project);
  refuseWidening(wideningSettings(config, major, project.policy, dir));

  const allowBuilds: Record<string, boolean> = {};
  // A user's `false` only narrows: keep it. A user's `true` counts for nothing.
  const own = config.allowBuilds;
  if (typeof own === 'object' && own !== null) for (const [key, value] of Object.entries(own)) if (value === false) allowBuilds[key] = false;
  const locked = lockfileCandidates(dir);
  const versions = await candidateVersions(project.policy, locked, project.registryConfig);
  for (const entry of scriptAllowlist(project.policy, versions)) {
    if (allowBuilds[entry] !== false) allowBuilds[entry] = true;
  }
  // Packages the policy never lets build are denied outright rather than left "awaiting approval": pnpm then
  // skips them without telling the user to run `pnpm approve-builds`, which cannot widen the policy. Known
  // here: the lockfile's packages, the manifests' direct dependencies and the published versions of ranged
  // entries. In strict mode pnpm's own failure on unapproved builds stays as a second gate behind Portcullis'.
  if (!project.strictBuilds) {
    const denied = deniedBeforeResolution(project, [dir, ...(typeof config.dir === 'string' ? [config.dir] : [])], locked, versions);
    for (const entry of denied) allowBuilds[entry] = false;
    project.deniedBuilds = new Set(denied);
  }
  config.allowBuilds = allowBuilds;
  config.dangerouslyAllowAllBuilds = false;
  if (major <= 10) {
    // pnpm 10 merges allowBuilds into onlyBuiltDependencies after this hook; start it empty so the
    // user's list is not merged too. (Never neverBuiltDependencies: it turns pnpm 10 into deny-list mode.)
    config.onlyBuiltDependencies = [];
    delete config.onlyBuiltDependenciesFile;
    // pnpm 10 turns dangerouslyAllowAllBuilds into an empty neverBuiltDependencies, which conflicts with the list above.
    delete config.neverBuiltDependencies;
  }
  config.strictDepBuilds = project.strictBuilds;
  return config;
}
