/** `check` end to end: find and read the project, judge every package through the gate, report. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Env } from '../env.js';
import { findProjectLockfile, readLockfile } from '../lockfile/index.js';
import { installedManifestReader } from '../layouts/installed.js';
import type { Lockfile, LockfileKind, PackageNode, SourceLocation } from '../model.js';
import { defaultPnpmCacheDirs, pnpmCached } from '../layouts/pnpm-metadata-cache.js';
import { noDowngradeApplies } from '../policy/provenance.js';
import type { Packument } from '../registry/packument.js';
import { earlierInLine } from './provenance.js';
import { pnpmWorkspaceSettings } from '../setup/pnpm.js';
import type { RegistryConfig } from '../registry/config.js';
import { loadNpmConfig } from '../registry/npmrc.js';
import { loadYarnConfig } from '../registry/yarnrc.js';
import type { Surface } from '../report/notices.js';
import type { CheckResult } from '../report/result.js';

import type { Policy } from '../policy/types.js';
import { effectivePolicy, gateFor, type Gate, type Verdict } from './gate.js';

/** A project as Portcullis sees it: its root, its lockfile and its package manager's registry settings. */
export interface Project {
  dir: string;
  /** The folder the command started in (a member or a sub-folder of `dir`). */
  start: string;
  lockfile: Lockfile;
  registryConfig: RegistryConfig;
}

/**
 * Registry settings the way the project's package manager reads them when started in `from` (default: the
 * project root): npm and pnpm read the root's `.npmrc`; Yarn merges `.yarnrc.yml` files from `from` upwards.
 */
export async function loadRegistryConfig(kind: LockfileKind, dir: string, env: Env, from: string = dir): Promise<RegistryConfig> {
  return kind === 'yarn' ? loadYarnConfig({ projectDir: from, env }) : loadNpmConfig({ projectDir: dir, env });
}

/**
 * Loads the lockfile and registry settings of the project that governs `start`: the folder of its lockfile (a
 * workspace root when `start` is a member or a sub-folder). Its policy is the gate's to load (`openGate`).
 */
export async function loadProject(start: string, options: { env?: Env; kind?: LockfileKind; registryConfig?: RegistryConfig } = {}): Promise<Project> {
  const env = options.env ?? process.env;
  const found = findProjectLockfile(start, options.kind);
  const dir = dirname(found.path);
  const registryConfig = options.registryConfig ?? (await loadRegistryConfig(found.kind, dir, env, start));
  const lockfile = readLockfile(found.path, { projectDir: dir, registryFor: (name) => registryConfig.registryFor(name) });
  return { dir, start, lockfile, registryConfig };
}

export interface CheckOptions {
  env?: Env;
  kind?: LockfileKind;
  /** The registries as the package manager itself read them (the Yarn plugin passes Yarn's); default: read from its files. */
  registryConfig?: RegistryConfig;
  /** Where the report is shown (fixes are spelled for it: `yarn portcullis …` inside Yarn). Default: the CLI. */
  surface?: Surface;
  /** Use only the metadata cache. */
  offline?: boolean;
  cacheDir?: string;
  /** Fetch `/-/npm/v1/keys` of configured registries and add keys they publish (never replacing embedded ones). */
  refreshKeys?: boolean;
  fetch?: typeof fetch;
  /** Told how many packages have been judged so far (the CLI's progress line on a terminal). */
  onProgress?: (done: number, total: number) => void;
}

/** Everything a check produced, for reports and for `explain`. */
export interface CheckRun {
  project: Project;
  gate: Gate;
  /** The policy the gate judged by (for `explain`: which line decided). */
  policy: Policy;
  verdict: Verdict;
  result: CheckResult;
  locations: Map<string, SourceLocation>;
}

/** pnpm's cache folders for a project: its pnpm-workspace.yaml `cacheDir`, the environment, the default. */
function pnpmCacheDirsOf(dir: string, env: Env): string[] {
  let configured: unknown;
  try {
    configured = pnpmWorkspaceSettings(readFileSync(join(dir, 'pnpm-workspace.yaml'), 'utf8')).cacheDir;
  } catch {
    configured = undefined;
  }
  return [...(typeof configured === 'string' && configured !== '' ? [resolve(dir, configured)] : []), ...defaultPnpmCacheDirs(env)];
}

/** Runs a whole check of the project that governs `start`. */
export async function runCheck(start: string, options: CheckOptions = {}): Promise<CheckRun> {
  const env = options.env ?? process.env;
  const project = await loadProject(start, { env, ...(options.kind ? { kind: options.kind } : {}), ...(options.registryConfig ? { registryConfig: options.registryConfig } : {}) });
  // The policy the project obeys (merged with the organisation policy it extends), loaded once.
  const policy = await effectivePolicy({
    dir: project.dir,
    start: project.start,
    registryConfig: project.registryConfig,
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  }, env);
  const gate = gateFor(policy, {
    dir: project.dir,
    start: project.start,
    packageManager: project.lockfile.kind,
    surface: options.surface ?? 'cli',
    purpose: 'check',
    registryConfig: project.registryConfig,
    env,
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.refreshKeys !== undefined ? { refreshKeys: options.refreshKeys } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  // A pnpm project: pnpm 12 kept the registry's documents (signatures included) in its own cache; reading them
  // there saves fetching each packument (they are only supplied, and verified like any registry document). The
  // provenance downgrade check reads a version's release line there too (the attestation claims of earlier versions).
  const pnpmCaches = project.lockfile.kind === 'pnpm' ? pnpmCacheDirsOf(project.dir, env) : [];
  const fromRegistry = (pkg: PackageNode): pkg is PackageNode & { registry: string } => pkg.source === 'registry' && pkg.registry !== undefined;
  const cached = (pkg: PackageNode & { registry: string }, withPast: boolean) =>
    pnpmCached(pnpmCaches, pkg.registry, pkg.name, pkg.version, pkg.integrity, withPast ? (candidate) => earlierInLine(candidate, pkg.version) : undefined);
  // Each file is read once: the release line found while supplying a version's metadata waits for the downgrade check.
  const pasts = new Map<string, Packument>();
  const supplied =
    pnpmCaches.length > 0
      ? (pkg: PackageNode) => {
          if (!fromRegistry(pkg)) return undefined;
          const found = cached(pkg, noDowngradeApplies(policy, pkg.name, pkg.version));
          if (found?.past !== undefined) pasts.set(pkg.id, found.past);
          return found?.metadata;
        }
      : undefined;
  const suppliedPackument =
    pnpmCaches.length > 0
      ? (pkg: PackageNode) => {
          const kept = pasts.get(pkg.id);
          pasts.delete(pkg.id);
          return kept ?? (fromRegistry(pkg) ? cached(pkg, true)?.past : undefined);
        }
      : undefined;
  const verdict = await gate.judge(project.lockfile.packages, {
    readInstalled: installedManifestReader(project.lockfile, project.dir),
    ...(supplied ? { supplied } : {}),
    ...(suppliedPackument ? { suppliedPackument } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const locations = new Map<string, SourceLocation>();
  for (const pkg of project.lockfile.packages) if (pkg.location) locations.set(pkg.id, pkg.location);
  return { project, gate, policy, verdict, result: verdict.report({ kind: project.lockfile.kind, path: project.lockfile.path }), locations };
}
