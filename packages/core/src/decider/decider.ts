/**
 * The decider under the gate: for the length of one install, one registry client (each packument fetched once,
 * kept in memory), one keyring, one verified-versions memo read from disk once. It gathers evidence and
 * evaluates the policy; the gate (gate.ts) decides what the findings mean.
 */
import type { Env } from '../env.js';
import { PortcullisError } from '../errors.js';
import { evaluate, exitCodeFor } from '../evaluation/evaluate.js';
import type { AdvisoryEvidence, Evidence } from '../evaluation/evidence.js';
import type { Finding } from '../finding.js';
import { isOwnCode, type PackageNode } from '../model.js';
import { recordedIn, scriptDriftApplies } from '../policy/fingerprint.js';
import { createSpecMatcher, specCoversName } from '../policy/spec.js';
import type { Policy } from '../policy/types.js';
import { keyCache } from '../cache/keys.js';
import { defaultCacheDir } from '../cache/metadata.js';
import { defaultStateDir, memoSecret, refusedMemoKey, VerifiedVersions } from '../cache/verified-versions.js';
import { createRegistryClient, type RegistryFetch } from '../registry/client.js';
import type { RegistryConfig } from '../registry/config.js';
import type { Packument, PackumentVersion } from '../registry/packument.js';
import { createKeyring, refreshKeys, type Keyring } from '../signatures/keyring.js';
import { describeSignatureStripping } from '../signatures/mirror.js';
import type { InstalledManifestReader } from '../layouts/installed.js';
import { defaultTrust, defaultTrustId, loadTrustedRoot, type SigstoreTrust } from '../provenance/trusted-root.js';
import { gatherEvidence, type SignatureVerification } from './gather.js';
import { gatherPatches, PatchFiles, type PatchReads } from './patches.js';
import { gatherProvenance, isProvenanceFacts, type ProvenanceFacts } from './provenance.js';
import { gatherPublishTimes, isPublishTime } from './published.js';
import { buildAdvisoryIndex, type AdvisoryIndex } from '../advisories/index.js';
import { AuthenticatedMemo } from '../cache/authenticated-memo.js';
import { listSourceFiles, type AdvisorySourcesState } from '../advisories/sources.js';
import { INDEX_FORMAT } from '../advisories/store.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { digestOf } from './remembered.js';

/** The settings packages are judged by. */
export interface DecideOptions {
  policy: Policy;
  registryConfig: RegistryConfig;
  env?: Env;
  offline?: boolean;
  cacheDir?: string;
  /** Whether fetched registry metadata is written to the cache (default true; see RegistryClientOptions.writeCache). */
  writeMetadataCache?: boolean;
  refreshKeys?: boolean;
  fetch?: RegistryFetch;
  /** The project being decided on: its verified versions are remembered in a file of its own. */
  projectDir?: string;
  /** Where this user's memo secret lives (default: `defaultStateDir`). */
  stateDir?: string;
  /** The clock of the cooldown (tests). */
  now?: () => number;
  /** Read every judged version's install script command lines (approve records them as fingerprints). */
  recordScripts?: boolean;
  /**
   * Where registry signatures are verified (default: libuv's thread pool). 'calling-thread' where the cores are taken by
   * the package manager's own work anyway: pnpm 12's hook worker, beside pnpm's own process, where a verification
   * handed to the pool took its thread's core from this one and cost more than verifying here (docs/benchmarks.md,
   * twenty-sixth round).
   */
  signatureVerification?: SignatureVerification;
}

/** The decision on a set of packages: findings, exit code, the evidence behind them and plain notices. */
export interface Decision {
  findings: Finding[];
  exitCode: 0 | 1 | 3;
  evidence: Evidence;
  notices: string[];
  strippedRegistries: string[];
  /** Copies bundling packages ship that the graph does not list, judged with it (see Gathered.shipped). */
  shipped?: readonly PackageNode[];
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
  /** A packument the package manager kept, with at least every earlier version of the package's release line (see ProvenanceGatherOptions.supplied). */
  suppliedPackument?: (pkg: PackageNode) => Packument | undefined;
  /** A judgement of the whole graph follows before anything is linked (see ProvenanceGatherOptions.wholeGraphFollows). */
  wholeGraphFollows?: boolean;
  /** Told how many packages have their evidence gathered (see GatherOptions.onProgress). */
  onProgress?: (done: number, total: number) => void;
}

/** A decider kept for the length of one install (hooks that see packages a few at a time decide through one). */
export interface Decider {
  decide(packages: readonly PackageNode[], inputs?: DecisionInputs): Promise<Decision>;
  /** Starts fetching a package's metadata for a later decision; a failure is met (and reported) by that decision. */
  prefetch(name: string): void;
  /** Writes the verified-versions memo back to the cache directory. */
  save(): void;
  /**
   * What this decider's verdicts depend on besides the packages and the policy: the keys it trusts (after any
   * refresh), the trusted root's content and the advisory sources' state. Part of a remembered verdict's key.
   */
  inputsDigest(): Promise<string>;
  /**
   * The advisory sources this decider's verdicts use (absolute paths, as listed) and the key of their state it took
   * the first time it needed it (`listSourceFiles` with `format`: stat alone), used for the rest of its life; null when
   * the policy names none. Whoever replays a verdict checks that key again.
   */
  advisorySources(): AdvisorySourcesState | null;
  /**
   * What this decider's decisions read of the project's patches so far (its settings' `patchedDependencies` and each
   * patch file: patches.ts), read once for its whole life; undefined without a project folder. Whoever replays a
   * verdict checks them again (`patchesHold`).
   */
  patchReads(): PatchReads | undefined;
  /**
   * Waits for metadata requests still in flight (prefetches) to finish writing the cache, and writes none after: a
   * hook process that is ended right after a refusal (pnpm 12's worker) then leaves no half-written file behind.
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
    ...(options.writeMetadataCache === false ? { writeCache: false } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...fetchTimeoutFrom(env),
  });
  let verified: VerifiedVersions | undefined;
  let trust: SigstoreTrust | undefined;
  let provenanceMemo: AuthenticatedMemo<ProvenanceFacts> | undefined;
  let publishedMemo: AuthenticatedMemo<string> | undefined;
  let advisoryIndex: AdvisoryIndex | undefined;
  let keys: Promise<{ keyring: Keyring; notices: string[]; withoutKeysEndpoint: string[] }> | undefined;
  let advisoriesState: AdvisorySourcesState | undefined;
  // Read once per decider (an install's batches each decide): the settings and each patch file, for every decision.
  const patchFiles = options.projectDir === undefined || options.projectDir === '' ? undefined : new PatchFiles(options.projectDir);
  const advisorySources = () => {
    const osv = options.policy.advisories.osv;
    if (osv.length === 0) return null;
    advisoriesState ??= { sources: osv.map((source) => resolve(source)), format: INDEX_FORMAT, key: listSourceFiles(osv, INDEX_FORMAT).key };
    return advisoriesState;
  };

  async function loadKeys(): Promise<{ keyring: Keyring; notices: string[]; withoutKeysEndpoint: string[] }> {
    let keyring: Keyring = createKeyring(options.policy.registries, { file: options.policy.file });
    const notices: string[] = [];
    const withoutKeysEndpoint: string[] = [];
    if (!options.refreshKeys) return { keyring, notices, withoutKeysEndpoint };
    const cache = keyCache(cacheDir);
    for (const registry of keyring.registries) {
      const refresh = await refreshKeys(keyring, registry, {
        fetchKeys: () => client.getKeys(registry),
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

  // With a cooldown, every version it applies to needs its full packument (publish times): fetch that one document.
  const cooldownExcluded = createSpecMatcher(options.policy.cooldown.exclude);
  const wantsFull = (pkg: PackageNode) => options.policy.cooldown.minimumReleaseAge !== null && cooldownExcluded(pkg.name, pkg.version) === undefined;
  // A prefetch knows the name only: with a cooldown it asks for the full document unless an exclude covers every version
  // of the name (by name or `@scope/*`), so that the decision reads the document fetched ahead of it instead of
  // fetching the full one after it (and keeping both).
  const prefetchesFull = (name: string) => options.policy.cooldown.minimumReleaseAge !== null && !options.policy.cooldown.exclude.some((spec) => specCoversName(spec, name));
  // Script drift compares command lines, which only a full document (or the installed package.json) lists.
  const recorded = recordedIn(options.policy);
  const needsCommands = (pkg: PackageNode) => options.recordScripts === true || scriptDriftApplies(options.policy, pkg, recorded);

  return {
    async decide(packages, inputs = {}) {
      keys ??= loadKeys();
      const { keyring, notices: keyNotices, withoutKeysEndpoint } = await keys;
      verified ??= VerifiedVersions.open(cacheDir, options.projectDir ?? '', memoSecret(options.stateDir ?? defaultStateDir(env)));
      const gathered = await gatherEvidence(packages, {
        wantsFull,
        needsCommands,
        policy: options.policy,
        client,
        keyring,
        verified,
        withoutKeysEndpoint,
        ...(inputs.readInstalled ? { readInstalled: inputs.readInstalled } : {}),
        ...(inputs.supplied ? { supplied: inputs.supplied } : {}),
        ...(inputs.onProgress ? { onProgress: inputs.onProgress } : {}),
        ...(options.signatureVerification !== undefined ? { signatureVerification: options.signatureVerification } : {}),
      });
      const { stripping } = gathered;
      const unavailable = new Map(gathered.evidence.unavailable);
      provenanceMemo ??= AuthenticatedMemo.open('provenance-v1', cacheDir, options.projectDir ?? '', memoSecret(options.stateDir ?? defaultStateDir(env)), isProvenanceFacts);
      const rootFile = options.policy.provenance.trustedRoot;
      const trustOf = () => (trust ??= rootFile !== null ? loadTrustedRoot(rootFile) : defaultTrust());
      const provenance = await gatherProvenance(
        packages,
        {
          policy: options.policy,
          client,
          trust: trustOf,
          integrityOf: (pkg) => gathered.evidence.integrities?.get(pkg.id) ?? pkg.integrity,
          skip: (pkg) => unavailable.has(pkg.id) || (pkg.inBundle === true && gathered.evidence.notBundled?.has(pkg.id) !== true),
          memo: provenanceMemo,
          wantsFull,
          ...(inputs.suppliedPackument ? { supplied: inputs.suppliedPackument } : {}),
          ...(inputs.wholeGraphFollows === true ? { wholeGraphFollows: true } : {}),
        },
        // The embedded root's id needs no parsing: a run answered from the memo never builds the trust.
        () => (rootFile !== null ? trustOf().id : defaultTrustId()),
      );
      for (const [id, reason] of provenance.unavailable) unavailable.set(id, reason);
      publishedMemo ??= AuthenticatedMemo.open('published-v1', cacheDir, options.projectDir ?? '', memoSecret(options.stateDir ?? defaultStateDir(env)), isPublishTime);
      const times = await gatherPublishTimes(packages, {
        policy: options.policy,
        client,
        skip: (pkg) => unavailable.has(pkg.id) || (pkg.inBundle === true && gathered.evidence.notBundled?.has(pkg.id) !== true),
        memo: publishedMemo,
      });
      for (const [id, reason] of times.unavailable) unavailable.set(id, reason);
      const advisories = new Map<string, AdvisoryEvidence[]>();
      if (options.policy.advisories.osv.length > 0) {
        advisoryIndex ??= buildAdvisoryIndex(options.policy.advisories.osv, { cacheDir, secret: memoSecret(options.stateDir ?? defaultStateDir(env)) });
        // With the copies bundling packages ship that the graph does not list (pnpm's lockfile lists none).
        for (const pkg of [...packages, ...gathered.shipped]) {
          if (isOwnCode(pkg)) continue;
          const listed = advisoryIndex.lookup(pkg.name, pkg.version);
          if (listed.length > 0) advisories.set(pkg.id, listed.map((a) => ({ id: a.id, summary: a.summary })));
        }
      }
      const evidence: Evidence = {
        ...gathered.evidence,
        unavailable,
        provenance: provenance.provenance,
        downgrades: provenance.downgrades,
        publisherChanges: provenance.publisherChanges,
        published: times.published,
        advisories,
        patches: gatherPatches(packages, patchFiles),
        now: (options.now ?? Date.now)(),
      };
      const findings = evaluate(options.policy, gathered.shipped.length > 0 ? [...packages, ...gathered.shipped] : packages, evidence);
      const notices = [...keyNotices, ...provenance.notices];
      const refusedKey = refusedMemoKey(options.stateDir ?? defaultStateDir(env));
      if (refusedKey !== undefined) {
        notices.push(
          `${refusedKey} is not a memo key Portcullis can use (64 hex digits with at most one line ending, in a plain file this user owns and nobody else may write), so nothing is remembered and every version is judged from its metadata. Fix: write the key again as docs/ci.md shows, or delete the file to have a key made.`,
        );
      }
      if (advisoryIndex !== undefined && advisoryIndex.problemCount > 0) {
        const first = advisoryIndex.problems[0];
        notices.push(`${advisoryIndex.problemCount} OSV record(s) in advisories.osv could not be read in full${first ? ` (first: ${first.source}: ${first.reason})` : ''}: one that names a package but whose versions cannot be read counts against every version of it; one that names no package is skipped`);
      }
      for (const s of stripping) {
        const { message, fix } = describeSignatureStripping(s);
        notices.push(`${message} Fix: ${fix}`);
      }
      return { findings, exitCode: exitCodeFor(findings), evidence, notices, strippedRegistries: stripping.map((s) => s.registry), ...(gathered.shipped.length > 0 ? { shipped: gathered.shipped } : {}) };
    },
    prefetch(name) {
      let registry: string;
      try {
        registry = options.registryConfig.registryFor(name);
      } catch {
        return;
      }
      client.getPackument(name, { registry, ...(prefetchesFull(name) ? { full: true } : {}) }).catch(() => undefined);
    },
    async inputsDigest() {
      // Without a refresh the keys are the policy's (part of the gate's key already): no need to parse them here.
      let refreshed: unknown = null;
      if (options.refreshKeys === true) {
        keys ??= loadKeys();
        const { keyring, notices, withoutKeysEndpoint } = await keys;
        refreshed = { keys: keyring.registries.map((registry) => [registry, keyring.forRegistry(registry).id]), notices, withoutKeysEndpoint };
      }
      const rootFile = options.policy.provenance.trustedRoot;
      return digestOf({
        refreshed,
        // The embedded root is part of the engine; a root file is read (it is at most a few MiB).
        trustedRoot: rootFile === null ? null : createHash('sha256').update(readFileSync(rootFile)).digest('base64'),
        advisories: advisorySources()?.key ?? null,
        offline: options.offline === true,
        refreshKeys: options.refreshKeys === true,
      });
    },
    advisorySources,
    patchReads: () => patchFiles?.reads(),
    save() {
      verified?.save();
      provenanceMemo?.save();
      publishedMemo?.save();
    },
    settle() {
      return client.settle();
    },
  };
}

