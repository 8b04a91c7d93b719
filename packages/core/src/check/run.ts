/** `check` end to end: find and read the project, gather evidence, evaluate, summarize. */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { PortcullisError } from '../errors.js';
import { evaluate, exitCodeFor } from '../evaluation/evaluate.js';
import type { Evidence } from '../evaluation/evidence.js';
import type { Finding } from '../finding.js';
import type { Lockfile, LockfileKind, PackageNode, SourceLocation } from '../model.js';
import { findProjectLockfile, readLockfile } from '../lockfile/index.js';
import { loadProjectPolicy } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { defaultCacheDir } from '../registry/cache.js';
import { createRegistryClient } from '../registry/client.js';
import type { RegistryConfig } from '../registry/config.js';
import type { PackumentVersion } from '../registry/packument.js';
import { loadNpmConfig, type Env } from '../registry/npmrc.js';
import { loadYarnConfig } from '../registry/yarnrc.js';
import type { CheckResult } from '../report/result.js';
import { createKeyring, refreshKeys, type KeyCache, type Keyring } from '../signatures/keyring.js';
import { describeSignatureStripping } from '../signatures/mirror.js';
import { gatherEvidence } from './gather.js';
import { defaultStateDir, memoSecret, VerifiedVersions } from './verified-versions.js';
import { installedManifestReader, type InstalledManifestReader } from './installed.js';

/** A project as Portcullis sees it: its policy, its lockfile and its package manager's registry settings. */
export interface Project {
  dir: string;
  policy: Policy;
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
 * Loads policy, lockfile and registry settings for the project that governs `start`: the folder of its
 * lockfile (a workspace root when `start` is a member or a sub-folder). A portcullis.json between `start`
 * and that root is not the policy the install obeys, so it is refused (as portcullis-npm does), never used.
 */
export async function loadProject(start: string, options: { env?: Env; kind?: LockfileKind } = {}): Promise<Project> {
  const env = options.env ?? process.env;
  const found = findProjectLockfile(start, options.kind);
  const dir = dirname(found.path);
  const policy = loadProjectPolicy(start, dir, env);
  const registryConfig = await loadRegistryConfig(found.kind, dir, env, start);
  const lockfile = readLockfile(found.path, { projectDir: dir, registryFor: (name) => registryConfig.registryFor(name) });
  return { dir, policy, lockfile, registryConfig };
}

export interface CheckOptions {
  env?: Env;
  kind?: LockfileKind;
  /** Use only the metadata cache. */
  offline?: boolean;
  cacheDir?: string;
  /** Fetch `/-/npm/v1/keys` of configured registries and add keys they publish (never replacing embedded ones). */
  refreshKeys?: boolean;
  fetch?: typeof fetch;
}

/** Everything a check produced, for reports and for `explain`. */
export interface CheckRun {
  project: Project;
  result: CheckResult;
  evidence: Evidence;
  locations: Map<string, SourceLocation>;
}

/** Refreshed key lists, one file per registry beside the metadata cache (validated again on every read). */
function keyCache(cacheDir: string): KeyCache {
  const file = (registry: string) => join(cacheDir, 'keys-v1', `${createHash('sha256').update(registry).digest('hex')}.json`);
  return {
    get(registry) {
      try {
        return JSON.parse(readFileSync(file(registry), 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
    set(registry, entry) {
      try {
        mkdirSync(join(cacheDir, 'keys-v1'), { recursive: true });
        writeFileAtomic(file(registry), JSON.stringify(entry));
      } catch {
        // A cache that cannot be written only costs a fetch next time.
      }
    },
  };
}

/** What an adapter hands in: the packages its package manager is about to install, and the settings to judge them by. */
export interface DecideOptions {
  policy: Policy;
  registryConfig: RegistryConfig;
  env?: Env;
  offline?: boolean;
  cacheDir?: string;
  refreshKeys?: boolean;
  fetch?: typeof fetch;
  readInstalled?: InstalledManifestReader;
  /** The project being decided on: its verified versions are remembered in a file of its own. */
  projectDir?: string;
  /** Where this user's memo secret lives (default: `defaultStateDir`). */
  stateDir?: string;
}

/** The decision on a set of packages: findings, exit code, the evidence behind them and plain notices. */
export interface Decision {
  findings: Finding[];
  exitCode: 0 | 1 | 3;
  evidence: Evidence;
  notices: string[];
  strippedRegistries: string[];
}

/** `PORTCULLIS_FETCH_TIMEOUT_MS`: the per-request registry timeout (default 30 s), for slow registries and fault tests. */
function fetchTimeoutFrom(env: Env): { timeoutMs?: number } {
  const raw = env.PORTCULLIS_FETCH_TIMEOUT_MS;
  if (raw === undefined || raw === '') return {};
  const ms = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || ms < 1 || ms > 600_000) {
    throw new PortcullisError('USAGE', `PORTCULLIS_FETCH_TIMEOUT_MS must be a whole number of milliseconds from 1 to 600000, not "${raw.slice(0, 40)}"`);
  }
  return { timeoutMs: ms };
}

/** What one decision may use beyond the packages themselves. */
export interface DecisionInputs {
  readInstalled?: InstalledManifestReader;
  /** Registry metadata the package manager already handed over for some versions (see GatherOptions.supplied). */
  supplied?: (pkg: PackageNode) => PackumentVersion | undefined;
}

/**
 * A decider kept for the length of one install: one registry client (each packument fetched once, kept
 * in memory), one keyring, one signature memo read from disk once. Hooks that see packages a few at a
 * time (pnpm's readPackage) decide through it without paying for set-up on every call.
 */
export interface Decider {
  decide(packages: readonly PackageNode[], inputs?: DecisionInputs): Promise<Decision>;
  /** Starts fetching a package's metadata for a later decision; a failure is met (and reported) by that decision. */
  prefetch(name: string): void;
  /** Writes the verified-versions memo back to the cache directory. */
  save(): void;
  /**
   * Waits for metadata requests still in flight (prefetches) to finish writing the cache: a hook process that
   * is ended right after a refusal (pnpm 12's worker) then leaves no half-written file behind.
   */
  settle(): Promise<void>;
}

export function createDecider(options: DecideOptions): Decider {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const client = createRegistryClient({
    config: options.registryConfig,
    cacheDir,
    offline: options.offline === true,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...fetchTimeoutFrom(env),
  });
  let verified: VerifiedVersions | undefined;
  let keys: Promise<{ keyring: Keyring; notices: string[]; withoutKeysEndpoint: string[] }> | undefined;

  async function loadKeys(): Promise<{ keyring: Keyring; notices: string[]; withoutKeysEndpoint: string[] }> {
    let keyring: Keyring = createKeyring(options.policy.registries, { file: options.policy.file });
    const notices: string[] = [];
    const withoutKeysEndpoint: string[] = [];
    if (!options.refreshKeys) return { keyring, notices, withoutKeysEndpoint };
    const cache = keyCache(cacheDir);
    for (const registry of keyring.registries) {
      const refresh = await refreshKeys(keyring, registry, {
        fetchKeys: async () => {
          const served = await client.getKeys(registry);
          return served === null ? null : JSON.stringify({ keys: served });
        },
        cache,
      });
      keyring = refresh.keyring;
      if (refresh.status === 'missing') withoutKeysEndpoint.push(registry);
      if (refresh.status === 'refreshed' && refresh.added.length > 0) notices.push(`${registry} publishes keys not in portcullis.json, now trusted for this run: ${refresh.added.join(', ')}`);
      if (refresh.status === 'rejected') notices.push(`ignored the keys served by ${registry}: ${refresh.reason}`);
      if (refresh.status === 'unavailable') notices.push(`could not refresh the keys of ${registry} (${refresh.reason}); the keys in portcullis.json decide`);
    }
    return { keyring, notices, withoutKeysEndpoint };
  }

  return {
    async decide(packages, inputs = {}) {
      keys ??= loadKeys();
      const { keyring, notices: keyNotices, withoutKeysEndpoint } = await keys;
      verified ??= VerifiedVersions.open(cacheDir, options.projectDir ?? '', memoSecret(options.stateDir ?? defaultStateDir(env)));
      const { evidence, stripping } = await gatherEvidence(packages, {
        policy: options.policy,
        client,
        keyring,
        verified,
        withoutKeysEndpoint,
        ...(inputs.readInstalled ? { readInstalled: inputs.readInstalled } : {}),
        ...(inputs.supplied ? { supplied: inputs.supplied } : {}),
      });
      const findings = evaluate(options.policy, packages, evidence);
      const notices = [...keyNotices];
      for (const s of stripping) {
        const { message, fix } = describeSignatureStripping(s);
        notices.push(`${message} Fix: ${fix}`);
      }
      return { findings, exitCode: exitCodeFor(findings), evidence, notices, strippedRegistries: stripping.map((s) => s.registry) };
    },
    prefetch(name) {
      let registry: string;
      try {
        registry = options.registryConfig.registryFor(name);
      } catch {
        return;
      }
      client.getPackument(name, { registry }).catch(() => undefined);
    },
    save() {
      verified?.save();
    },
    settle() {
      return client.settle();
    },
  };
}

/** Gathers evidence for `packages` (registry metadata, signatures) and evaluates the policy: what every adapter calls. */
export async function decide(packages: readonly PackageNode[], options: DecideOptions): Promise<Decision> {
  const decider = createDecider(options);
  const decision = await decider.decide(packages, options.readInstalled ? { readInstalled: options.readInstalled } : {});
  decider.save();
  return decision;
}

/** Runs a whole check of the project in `dir`. */
export async function runCheck(start: string, options: CheckOptions = {}): Promise<CheckRun> {
  const env = options.env ?? process.env;
  const project = await loadProject(start, { env, ...(options.kind ? { kind: options.kind } : {}) });
  const dir = project.dir;
  const decision = await decide(project.lockfile.packages, {
    policy: project.policy,
    registryConfig: project.registryConfig,
    env,
    projectDir: dir,
    readInstalled: installedManifestReader(project.lockfile, dir),
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.refreshKeys !== undefined ? { refreshKeys: options.refreshKeys } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  const locations = new Map<string, SourceLocation>();
  for (const pkg of project.lockfile.packages) if (pkg.location) locations.set(pkg.id, pkg.location);
  const result: CheckResult = {
    findings: decision.findings,
    exitCode: decision.exitCode,
    packages: project.lockfile.packages.length,
    lockfile: { kind: project.lockfile.kind, path: project.lockfile.path },
    policy: project.policy.file,
    notices: decision.notices,
    strippedRegistries: decision.strippedRegistries,
  };
  return { project, result, evidence: decision.evidence, locations };
}
