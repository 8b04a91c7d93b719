/**
 * updateConfig: runs once when pnpm loads its configuration, on every command and before any network
 * access. Portcullis replaces pnpm's build allowlist with the one portcullis.json implies, so nothing a
 * user writes in `allowBuilds`, `onlyBuiltDependencies` or `dangerouslyAllowAllBuilds` can widen it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistryClient, defaultCacheDir, rangedScriptNames, readPnpmLockfile, scriptAllowlist, type Policy, type RegistryConfig } from '@portcullis/core';
import { policyFor, registryConfigFromPnpm, rememberProject, projectAt } from './project.js';

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

/** Strict mode: a skipped build fails the install. `PORTCULLIS_STRICT_BUILDS=1`, or `strictDepBuilds: true` written in pnpm-workspace.yaml. */
export function strictBuilds(dir: string): boolean {
  if (/^(1|true)$/i.test(process.env.PORTCULLIS_STRICT_BUILDS ?? '')) return true;
  try {
    return /^strictDepBuilds:\s*true\s*(#.*)?$/m.test(readFileSync(join(dir, 'pnpm-workspace.yaml'), 'utf8'));
  } catch {
    return false;
  }
}

/** Every version a ranged scripts.allow entry could meet: those in the lockfile, and those the registry publishes. */
async function candidateVersions(policy: Policy, dir: string, registryConfig: RegistryConfig): Promise<Array<{ name: string; version: string }>> {
  const names = rangedScriptNames(policy);
  if (names.length === 0) return [];
  const out: Array<{ name: string; version: string }> = [];
  const lockfilePath = join(dir, 'pnpm-lock.yaml');
  if (existsSync(lockfilePath)) {
    try {
      const lockfile = readPnpmLockfile(readFileSync(lockfilePath, 'utf8'), { path: lockfilePath, projectDir: dir, registryFor: (name) => registryConfig.registryFor(name) });
      for (const pkg of lockfile.packages) if (names.includes(pkg.name)) out.push({ name: pkg.name, version: pkg.version });
    } catch {
      // An unreadable lockfile is reported by preResolution; here it only means fewer candidates.
    }
  }
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

/** The updateConfig hook. */
export async function updateConfig(config: PnpmConfig): Promise<PnpmConfig> {
  const dir = projectDirOf(config);
  const registryConfig = registryConfigFromPnpm(config);
  const project = registryConfig ? { dir, policy: policyFor(dir), registryConfig } : await projectAt(dir);
  rememberProject(project);

  const allowBuilds: Record<string, boolean> = {};
  // A user's `false` only narrows: keep it. A user's `true` counts for nothing.
  const own = config.allowBuilds;
  if (typeof own === 'object' && own !== null) for (const [key, value] of Object.entries(own)) if (value === false) allowBuilds[key] = false;
  for (const entry of scriptAllowlist(project.policy, await candidateVersions(project.policy, dir, project.registryConfig))) {
    if (allowBuilds[entry] !== false) allowBuilds[entry] = true;
  }
  config.allowBuilds = allowBuilds;
  config.dangerouslyAllowAllBuilds = false;
  if (pnpmMajor(config) <= 10) {
    // pnpm 10 merges allowBuilds into onlyBuiltDependencies after this hook; start it empty so the
    // user's list is not merged too. (Never neverBuiltDependencies: it turns pnpm 10 into deny-list mode.)
    config.onlyBuiltDependencies = [];
    delete config.onlyBuiltDependenciesFile;
    // pnpm 10 turns dangerouslyAllowAllBuilds into an empty neverBuiltDependencies, which conflicts with the list above.
    delete config.neverBuiltDependencies;
  }
  config.strictDepBuilds = strictBuilds(dir);
  return config;
}
