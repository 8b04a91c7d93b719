/**
 * The gate: the one API every surface decides through. An adapter opens a gate for the project being installed,
 * hands it the packages its package manager is about to install (translated into PackageNodes), and translates
 * the Verdict into that package manager's native refusal. The gate owns every consequence: what blocks, what is
 * skipped, the exit code, the notices, which copies may build and in which order, and how messages read there.
 */
import type { AdvisorySourcesState } from '../advisories/sources.js';
import type { Env } from '../env.js';
import { scriptsMayRun } from '../evaluation/evaluate.js';
import { planBuilds, type BuildStep } from '../evaluation/build-plan.js';
import { evaluateBeforeFetch, type FetchedWhileResolving } from '../evaluation/before-fetch.js';
import type { Evidence, ScriptEvidence } from '../evaluation/evidence.js';
import type { Finding } from '../finding.js';
import { installedStamp, readInstalledFiles, type InstalledCopy, type InstalledFiles, type InstalledManifestReader } from '../layouts/installed.js';
import { isOwnCode, type LockfileKind, type PackageNode } from '../model.js';
import { rangedScriptNames, scriptAllowlist, scriptCandidateNeeded, scriptDenylist, scriptsAllowed } from '../policy/allowlist.js';
import { loadProjectPolicy, policyFileLookups } from '../policy/load.js';
import { createSpecMatcher } from '../policy/spec.js';
import type { Policy } from '../policy/types.js';
import { defaultCacheDir } from '../cache/metadata.js';
import { createRegistryClient, type RegistryFetch } from '../registry/client.js';
import type { RegistryConfig } from '../registry/config.js';
import type { Packument, PackumentVersion } from '../registry/packument.js';
import { forSurface, skippedNotice, type Surface } from '../report/notices.js';
import type { CheckResult } from '../report/result.js';
import { consequenceOf, idsWhere, patchedBuiltUnasked, type Purpose } from './consequence.js';
import { createDecider } from './decider.js';
import { patchesHold, rememberedPatches, type PatchReads, type RememberedPatches } from './patches.js';
import { scriptEvidence, type SignatureVerification } from './gather.js';
import { resolveInheritance, resolveInheritanceFromCache } from './organisation.js';
import { digestOf, RememberedReports, RememberedVerdicts, type RememberedReport, type RememberedVerdict, type SignedPackage } from './remembered.js';
import { defaultStateDir, memoSecret } from '../cache/verified-versions.js';
import { noDowngradeApplies } from '../policy/provenance.js';

export interface GateOptions {
  /** The project root: the folder of the lockfile the package manager installs (a workspace root from a member). */
  dir: string;
  /** Where the command started; a portcullis.json between here and `dir` is refused (PROJECT_AMBIGUOUS). Default: `dir`. */
  start?: string;
  packageManager: LockfileKind;
  /** Where the verdict is shown (messages are spelled for it). Default: the package manager. */
  surface?: Surface;
  /** An install (default) skips the scripts it may; a check reports every finding as a failure. */
  purpose?: Purpose;
  /** The registries (and credentials) the package manager installs from. */
  registryConfig: RegistryConfig;
  /** Strict mode, from `strictScripts()`: a script the policy does not allow fails the install. */
  strict?: boolean;
  env?: Env;
  /** Use only the metadata cache. */
  offline?: boolean;
  cacheDir?: string;
  /**
   * Whether registry metadata fetched for a judgement is written to the metadata cache (default true). Yarn's
   * install sets false: its HTTP stack cannot revalidate an entry, so one pays off only within the freshness window.
   */
  writeMetadataCache?: boolean;
  /** Fetch `/-/npm/v1/keys` of configured registries and add keys they publish (never replacing configured ones). */
  refreshKeys?: boolean;
  fetch?: RegistryFetch;
  /** Where this user's memo secret lives (default: `defaultStateDir`). */
  stateDir?: string;
  /** Read the install scripts' command lines of every judged version (approve records them as fingerprints). */
  recordScripts?: boolean;
  /**
   * The build of the code judging (a content hash of the shipped bundle). Given, `judgeLockfile` remembers the
   * verdicts that let an install go on for this build only; absent, nothing is remembered.
   */
  engine?: string;
  /** The clock of remembered verdicts (tests). */
  now?: () => number;
  /** Where registry signatures are verified (DecideOptions.signatureVerification). */
  signatureVerification?: SignatureVerification;
}

/** What one judgement may use beyond the packages themselves. */
export interface JudgeInputs {
  /** Reads installed copies (their package.json beats any metadata claim: manifest confusion). */
  readInstalled?: InstalledManifestReader;
  /** Registry metadata the package manager already handed over for some versions (verified all the same). */
  supplied?: (pkg: PackageNode) => PackumentVersion | undefined;
  /** A packument the package manager kept, with at least every earlier version of the package's release line (the provenance downgrade check reads it). */
  suppliedPackument?: (pkg: PackageNode) => Packument | undefined;
  /**
   * A part of an install, judged early (pnpm's readPackage batches): only what must stop the install counts;
   * strict mode and the skipped-scripts notice wait for the whole graph, and nothing is remembered yet.
   */
  partial?: boolean;
  /**
   * With `partial`: the whole graph is judged before anything is linked (pnpm 10 and 11 run afterAllResolved before
   * they link). Then a question about a package's past that the package manager's cache cannot answer yet (the
   * provenance downgrade check's release line, while pnpm is still writing its metadata cache) waits for that
   * judgement instead of fetching the packument now. Ignored without `partial`.
   */
  wholeGraphFollows?: boolean;
  /** Packages whose install scripts this package manager runs even when told not to (npm 10's git `prepare`). */
  scriptsUnskippable?: (pkg: PackageNode) => boolean;
  /**
   * This package manager builds a patched package without asking its build allowlist when the package's own files have
   * no install-time code (pnpm 10): such a package a patch may give scripts cannot be skipped (consequence.ts `patchedBuiltUnasked`).
   */
  patchedBuildsUnasked?: boolean;
  /** Told how many packages have been judged so far, for a progress line (`check` on a terminal). */
  onProgress?: (done: number, total: number) => void;
}

/** What a whole-lockfile judgement may use beyond the packages. */
export interface LockfileInputs {
  /**
   * Packages whose install scripts this package manager runs even when told not to, and `by`: everything the answer
   * depends on besides the package (the package manager and its version). `by` is part of what a remembered verdict
   * is keyed by, so a verdict decided for one package manager is never replayed for another that would run more.
   */
  scriptsUnskippable?: { test: (pkg: PackageNode) => boolean; by: string };
  /** As JudgeInputs' `patchedBuildsUnasked`; part of what a remembered verdict is keyed by. */
  patchedBuildsUnasked?: boolean;
  /** Registry documents the package manager kept (JudgeInputs' `supplied` and `suppliedPackument`): verified all the same. */
  kept?: Pick<JudgeInputs, 'supplied' | 'suppliedPackument'>;
}

/** The installed copies of one lockfile, for `judgeInstalled`. */
export interface InstalledCopies {
  /**
   * Every install path the lockfile names, found without translating it (as its keys); undefined: nothing is
   * remembered. A verdict is remembered only when these cover every path of `packages()`.
   */
  paths(): readonly string[] | undefined;
  packages(): readonly PackageNode[];
  /**
   * Reads the copies (the package.json on disk beats any metadata: manifest confusion). `files`: what is at the
   * lockfile's paths, already read by the gate; the reader must read those paths from it (installedManifestReader's
   * `files`), since a verdict may be remembered under a digest of those very bytes.
   */
  reader(files?: InstalledFiles): InstalledManifestReader;
  /** How to judge them when nothing is remembered (default: this gate's `judge`), e.g. from the metadata cache first. */
  judge?: (packages: readonly PackageNode[], inputs: JudgeInputs) => Promise<Verdict>;
}

/** A package, or just a name and version, asked "may it run install-time code?". */
export type BuildCandidate = Pick<PackageNode, 'name' | 'version'> & Partial<Pick<PackageNode, 'source' | 'insideProject' | 'bundledBy'>>;

/** The verdict on one set of packages, with every consequence decided. */
export interface Verdict {
  readonly packages: readonly PackageNode[];
  /** Every finding, fixes spelled for the surface. */
  readonly findings: readonly Finding[];
  /** What stops the install (for a check: every finding). */
  readonly blocking: readonly Finding[];
  /** Installed, with install scripts skipped. */
  readonly skipped: readonly Finding[];
  /** `name@version` of every package a blocking finding names. */
  readonly blocked: ReadonlySet<string>;
  /** The surface's exit code: 0 when nothing blocks, 1 for violations, 3 when something could not be decided. */
  readonly exitCode: 0 | 1 | 3;
  /** Plain-language notices that stand above single findings (mirrors stripping signatures, refreshed keys). */
  readonly notices: readonly string[];
  readonly strippedRegistries: readonly string[];
  /** The one notice for skipped install scripts on this surface (undefined when none, or for a partial judgement). */
  readonly skippedNotice: string | undefined;
  /** What the edges learnt, for `explain`. */
  readonly evidence: Evidence;
  /**
   * Whether a copy may run install-time code. Given only a name and version, every judged copy of it must be
   * allowed (own code always is); one not judged is answered by the policy.
   */
  mayBuild(pkg: BuildCandidate): boolean;
  /** The integrity the registry signed for a verified registry package: the bytes that may be installed for it. */
  signedIntegrity(pkg: PackageNode): string | undefined;
  /** Installed copies allowed to build, in build order (own code included, read through `readInstalled`). */
  buildPlan(readInstalled?: InstalledManifestReader): BuildStep[];
  /** A report of what blocks, for `formatText`/`formatJson`/`formatSarif`. */
  report(lockfile: CheckResult['lockfile']): CheckResult;
}

/**
 * What a whole-lockfile judgement gives a hook: what blocks, what is skipped, what to say, which copies may build,
 * and the bytes each verified registry package may be installed from.
 */
export type LockfileVerdict = Pick<Verdict, 'findings' | 'blocking' | 'skipped' | 'blocked' | 'exitCode' | 'notices' | 'strippedRegistries' | 'skippedNotice' | 'mayBuild'> & {
  /** Whether the verdict was remembered from an identical decision (nothing was translated or judged). */
  readonly remembered: boolean;
  /** Every verified registry package with the integrity the registry signed (`Verdict.signedIntegrity`, once per package). */
  readonly signed: readonly SignedPackage[];
  /** The whole verdict, when it was decided now (a refusal always is: its report). */
  readonly verdict?: Verdict;
  /**
   * Every patch file the verdict rests on, by absolute path, with the bytes judged (null: none read there); absent
   * without a project folder. A surface that replays the verdict without this gate checks them (pnpm's replay.ts).
   */
  readonly patchFiles?: PatchReads['files'];
};

/** The verdict on one dependency judged before it is fetched (`Gate.judgeBeforeFetch`). */
export type BeforeFetchVerdict = Pick<Verdict, 'findings' | 'blocking' | 'skipped' | 'blocked' | 'exitCode' | 'notices' | 'skippedNotice'>;

/** What a judgement of installed copies gives: a lockfile verdict and the copies that may build, in build order. */
export type InstalledVerdict = LockfileVerdict & { readonly buildSteps: readonly BuildStep[] };

/** The policy's build allowance in the terms of a package manager's own allowlist (names and exact versions). */
export interface BuildAllowance {
  /** Entries for a native allowlist: `name` for an entry without a range, `name@version` for each candidate a range covers. */
  allowlist(candidates: Iterable<{ name: string; version: string }>): string[];
  /** Candidates the policy never lets build: `name`, or `name@version` a ranged entry misses. */
  denylist(candidates: Iterable<{ name: string; version?: string }>): string[];
  /** Names whose entries carry a range (their versions must be enumerated for an exact-match allowlist). */
  rangedNames(): string[];
  /** Whether the policy lets `name` build at `version`, or at every version when none is given. */
  covers(name: string, version?: string): boolean;
  /** The scripts.allow entry that covers `name@version`, as written (for `explain`). */
  entryFor(name: string, version: string): string | undefined;
  /**
   * Every version a ranged or `@scope/*` entry could meet: those of `known` (a lockfile's) and, for ranged names,
   * those the registry publishes.
   * A registry that cannot be reached leaves versions out (they are then not built), never the other way round.
   */
  rangedCandidates(known: ReadonlyArray<{ name: string; version: string }>): Promise<Array<{ name: string; version: string }>>;
}

/** Gate.localInputs. */
export interface LocalInputs {
  files: string[];
  advisories: AdvisorySourcesState | null;
}

export interface Gate {
  readonly dir: string;
  readonly packageManager: LockfileKind;
  readonly surface: Surface;
  readonly strict: boolean;
  /** The portcullis.json that applies, or null for the defaults. */
  readonly policyFile: string | null;
  /** Whether registry signatures are checked at all (`signatures.require`). */
  readonly signaturesRequired: boolean;
  /** Whether the provenance downgrade check asks about the release line of `name@version` (kept-inputs.ts reads it with the version's document). */
  asksReleaseLine(name: string, version: string): boolean;
  /**
   * What the policy this gate applies was found and loaded from, when that is local: every path the policy lookup
   * looked at (a portcullis.json appearing at one of them would be the policy) and the trusted root it names (`files`:
   * their bytes count), and the advisory sources with the key of their state this gate's decisions used (stat alone,
   * as for remembered verdicts). Undefined when the policy also depends on what no local file holds: an organisation
   * policy, keys refreshed from the registry. A surface may replay an answer decided through this gate only while each
   * file has the bytes it had and the advisory sources the same key (pnpm's replay.ts); the rest of the gate's inputs
   * are its engine build and the environment, and what the surface itself asked it (`builds.rangedCandidates`).
   */
  localInputs(): LocalInputs | undefined;
  /**
   * The cooldown in a package manager's terms, so its own resolution can prefer older versions and agree with the
   * gate (pnpm's `minimumReleaseAge`, Yarn's `npmMinimalAgeGate`, npm's `--before`); null when the policy sets none.
   * The gate refuses a too-new version whatever the package manager resolved.
   */
  readonly cooldown: { minimumReleaseAgeMs: number; /** Names and `@scope/*` patterns. */ exclude: readonly string[] } | null;
  readonly builds: BuildAllowance;
  /**
   * A dependency the package manager fetches while it resolves, before any verdict, and whose fetch runs its code (Yarn
   * packs a git dependency to read its manifest): judged from its name and origin alone (evaluateBeforeFetch). Its
   * scripts cannot be skipped, so a script the policy does not allow blocks, like a missing signature. No I/O.
   */
  judgeBeforeFetch(dependency: FetchedWhileResolving): BeforeFetchVerdict;
  /** Gathers evidence for `packages`, evaluates the policy and decides every consequence. */
  judge(packages: readonly PackageNode[], inputs?: JudgeInputs): Promise<Verdict>;
  /**
   * Judges a whole lockfile as `judge` does, unless this gate already let the identical lockfile (`digest`: of
   * the lockfile as the package manager hands it over) through: then that verdict is replayed and `packages` is
   * never called (see remembered.ts for what the verdict is keyed by). Only verdicts with nothing blocking are
   * remembered, and only when the gate knows its engine build.
   */
  judgeLockfile(digest: string, packages: () => readonly PackageNode[], inputs?: LockfileInputs): Promise<LockfileVerdict>;
  /**
   * Judges what was installed from a lockfile (`digest`) as `judge` does with `readInstalled`, unless this gate
   * already let the identical lockfile through with the identical files on disk. Identical means: every
   * package.json and binding.gyp at the lockfile's paths (a folder's own where it has none) with the same stat (`installedStamp`: ctime included, which
   * no file's writer can set back), all settled before that decision read them; or, when a file is too fresh for its
   * stat to vouch for it (as right after `npm ci` wrote them all), the same bytes: the files are then read once, up
   * front (`readInstalledFiles`), the judgement reads those very bytes, and the verdict is remembered under their
   * digest. Then that verdict and its build plan are replayed; any difference or a refusal decides again.
   */
  judgeInstalled(digest: string, copies: InstalledCopies, inputs?: LockfileInputs): Promise<InstalledVerdict>;
  /**
   * For `check`: the report remembered for this gate (engine build, policy, registries, keys, trusted root,
   * advisory sources, `PORTCULLIS_*` settings, purpose, surface) and `digest` (the lockfile and what else the caller
   * keys it by), a day at most. Nothing without an engine build.
   */
  recallReport(digest: string): Promise<RememberedReport | undefined>;
  /** Remembers a check's report under this gate and `digest` (see recallReport); the caller says whether it may be. */
  rememberReport(digest: string, report: Omit<RememberedReport, 'decidedAt'>): Promise<void>;
  /** The policy's answer for one copy before any judgement (own code always may). */
  mayBuild(pkg: BuildCandidate): boolean;
  /** Starts fetching a package's metadata for a later judgement; a failure is met (and reported) by that judgement. */
  prefetch(name: string): void;
  /** Waits for metadata requests in flight to finish their cache writes, and writes none after (call before a refusal ends the process). */
  settle(): Promise<void>;
}

function pickLockfileVerdict(v: Verdict): Omit<LockfileVerdict, 'remembered'> {
  return {
    findings: v.findings,
    blocking: v.blocking,
    skipped: v.skipped,
    blocked: v.blocked,
    exitCode: v.exitCode,
    notices: v.notices,
    strippedRegistries: v.strippedRegistries,
    skippedNotice: v.skippedNotice,
    mayBuild: (pkg) => v.mayBuild(pkg),
    signed: signedPackagesOf(v),
    verdict: v,
  };
}

/** The verdict's verified registry packages with their signed integrities, once per id. */
function signedPackagesOf(v: Verdict): SignedPackage[] {
  const out = new Map<string, SignedPackage>();
  for (const pkg of v.packages) {
    const integrity = v.signedIntegrity(pkg);
    if (integrity !== undefined && !out.has(pkg.id)) out.set(pkg.id, { name: pkg.name, version: pkg.version, ...(pkg.resolved !== undefined ? { resolved: pkg.resolved } : {}), integrity });
  }
  return [...out.values()];
}

/**
 * The build answers a verdict gives for a bare `name@version` that the policy alone would not: `[key, answer]` for
 * each judged `name@version` whose copies' answer differs (own code, copies that disagree). With the drifted set
 * (from the findings) and the policy, these answer every candidate as the verdict did: see `replayedMayBuild`.
 */
function buildExceptions(v: Verdict, policyMayBuild: (pkg: BuildCandidate) => boolean): Array<[string, boolean]> {
  const out = new Map<string, boolean>();
  for (const pkg of v.packages) {
    const key = `${pkg.name}@${pkg.version}`;
    if (out.has(key)) continue;
    const candidate = { name: pkg.name, version: pkg.version };
    const answer = v.mayBuild(candidate);
    if (answer !== policyMayBuild(candidate)) out.set(key, answer);
  }
  return [...out];
}

/** `Verdict.mayBuild` rebuilt from a remembered verdict: its findings (drifted scripts), its exceptions, and the same policy. */
export function replayedMayBuild(findings: readonly Finding[], exceptions: ReadonlyArray<[string, boolean]>, policyMayBuild: (pkg: BuildCandidate) => boolean): (pkg: BuildCandidate) => boolean {
  const drifted = new Set(findings.filter((f) => f.code === 'SCRIPT_CHANGED').map((f) => `${f.package}@${f.version}`));
  const answers = new Map(exceptions);
  return (pkg) => {
    const key = `${pkg.name}@${pkg.version}`;
    if (drifted.has(key)) return false;
    if (pkg.source !== undefined) return policyMayBuild(pkg);
    return answers.get(key) ?? policyMayBuild(pkg);
  };
}

/**
 * Opens the gate for one project and one install: loads the policy and the organisation policy it extends, once
 * (PortcullisError when it is invalid, ambiguous, loosens the organisation's, or the organisation's cannot be had).
 */
export async function openGate(options: GateOptions): Promise<Gate> {
  const env = options.env ?? process.env;
  const policy = await effectivePolicy(options, env);
  return gateFor(policy, { ...options, env });
}

/**
 * The same gate from the cache alone, for a hook that must answer synchronously (Yarn's build decisions outside an
 * install): the organisation policy must have been fetched by an earlier run (METADATA_UNAVAILABLE otherwise).
 */
export function openCachedGate(options: GateOptions): Gate {
  const env = options.env ?? process.env;
  const repository = loadProjectPolicy(options.start ?? options.dir, options.dir, env);
  return gateFor(resolveInheritanceFromCache(repository, { env, ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}) }), { ...options, env });
}

/** The policy the project obeys: its portcullis.json merged with the organisation policy it extends, if any. */
export async function effectivePolicy(options: Pick<GateOptions, 'dir' | 'start' | 'registryConfig' | 'offline' | 'cacheDir' | 'fetch' | 'stateDir'>, env: Env = process.env): Promise<Policy> {
  const repository = loadProjectPolicy(options.start ?? options.dir, options.dir, env);
  return resolveInheritance(repository, {
    registryConfig: options.registryConfig,
    env,
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  });
}

/** The gate for a loaded policy (internal: `approve --publisher` judges with a policy that requires provenance). */
export function gateFor(policy: Policy, options: GateOptions): Gate {
  const surface = options.surface ?? options.packageManager;
  const strict = options.strict === true;
  const allowed = createSpecMatcher(policy.scripts.allow);
  const policyMayBuild = (pkg: BuildCandidate) => isOwnCode({ source: pkg.source ?? 'registry', insideProject: pkg.insideProject }) || scriptsMayRun(allowed, { name: pkg.name, version: pkg.version, bundledBy: pkg.bundledBy });
  const decider = createDecider({
    policy,
    registryConfig: options.registryConfig,
    projectDir: options.dir,
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.writeMetadataCache !== undefined ? { writeMetadataCache: options.writeMetadataCache } : {}),
    ...(options.refreshKeys !== undefined ? { refreshKeys: options.refreshKeys } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
    ...(options.recordScripts !== undefined ? { recordScripts: options.recordScripts } : {}),
    ...(options.signatureVerification !== undefined ? { signatureVerification: options.signatureVerification } : {}),
  });

  const consequences = (findings: readonly Finding[], partial: boolean, unskippable: ReadonlySet<string> = new Set()) =>
    consequenceOf(findings, { purpose: options.purpose ?? 'install', strict: strict && !partial, scriptsUnskippable: unskippable });
  /**
   * What a remembered verdict or report read of the project's patches, read again: the reads now, or undefined when they
   * differ (decide again). One remembered without them holds only for a gate without a project folder.
   */
  const patchesNow = (remembered: RememberedPatches | undefined): PatchReads | undefined => {
    if (remembered === undefined) return options.dir === '' ? { settings: '', files: [] } : undefined;
    return patchesHold(options.dir, remembered);
  };
  /** What this gate's judgements read of the project's patches, for a remembered verdict or report. */
  const patchesRead = (): { patches?: RememberedPatches } => {
    const reads = decider.patchReads();
    return reads === undefined ? {} : { patches: rememberedPatches(reads) };
  };
  /** A remembered verdict's consequences now; undefined when they would block (it was remembered when nothing did): decide again. */
  const replay = (hit: RememberedVerdict): LockfileVerdict | undefined => {
    const { blocking, skipped, exitCode } = consequences(hit.findings, false);
    if (blocking.length > 0) return undefined;
    const patches = patchesNow(hit.patches);
    if (patches === undefined) return undefined;
    return {
      findings: hit.findings,
      blocking,
      skipped,
      blocked: new Set<string>(),
      exitCode,
      notices: hit.notices,
      strippedRegistries: hit.strippedRegistries,
      skippedNotice: skippedNotice(skipped, surface),
      mayBuild: replayedMayBuild(hit.findings, hit.builds, policyMayBuild),
      signed: hit.signed,
      remembered: true,
      patchFiles: patches.files,
    };
  };
  let remembered: RememberedVerdicts | undefined;
  const rememberedVerdicts = () => {
    const env = options.env ?? process.env;
    return (remembered ??= new RememberedVerdicts(options.cacheDir ?? defaultCacheDir(env), options.dir, memoSecret(options.stateDir ?? defaultStateDir(env)), options.now));
  };
  let reports: RememberedReports | undefined;
  const rememberedReports = () => {
    const env = options.env ?? process.env;
    return (reports ??= new RememberedReports(options.cacheDir ?? defaultCacheDir(env), options.dir, memoSecret(options.stateDir ?? defaultStateDir(env)), options.now));
  };
  /** Everything a lockfile's verdict is decided from, besides the lockfile. */
  const gateDigest = async () => {
    const env = options.env ?? process.env;
    const settings = Object.keys(env)
      .filter((name) => name.startsWith('PORTCULLIS_'))
      .sort()
      .map((name) => [name, env[name]]);
    const registries = options.registryConfig;
    return digestOf({
      engine: options.engine,
      dir: options.dir,
      start: options.start ?? options.dir,
      packageManager: options.packageManager,
      surface,
      purpose: options.purpose ?? 'install',
      strict,
      policy,
      registries: { defaultRegistry: registries.defaultRegistry, scopes: registries.scopes, auth: digestOf(registries.auth) },
      settings,
      decider: await decider.inputsDigest(),
    });
  };

  return {
    dir: options.dir,
    packageManager: options.packageManager,
    surface,
    strict,
    policyFile: policy.file,
    localInputs() {
      if (policy.extends !== null || policy.sources.some((source) => source !== policy.file)) return undefined;
      if (options.refreshKeys === true) return undefined;
      const env = options.env ?? process.env;
      const lookups = new Set([...policyFileLookups(options.start ?? options.dir, env), ...policyFileLookups(options.dir, env)]);
      if (policy.provenance.trustedRoot !== null) lookups.add(policy.provenance.trustedRoot);
      return { files: [...lookups], advisories: decider.advisorySources() };
    },
    signaturesRequired: policy.signatures.require !== 'off',
    asksReleaseLine: (name, version) => noDowngradeApplies(policy, name, version),
    // Package managers exclude by name or scope pattern: a ranged exclude widens only their resolution, never the gate.
    cooldown: policy.cooldown.minimumReleaseAge === null ? null : { minimumReleaseAgeMs: policy.cooldown.minimumReleaseAge.ms, exclude: [...new Set(policy.cooldown.exclude.map((spec) => (spec.scope !== undefined ? `${spec.scope}/*` : spec.name)))] },
    builds: {
      allowlist: (candidates) => scriptAllowlist(policy, candidates),
      denylist: (candidates) => scriptDenylist(policy, candidates),
      rangedNames: () => rangedScriptNames(policy),
      covers: (name, version) => scriptsAllowed(policy, name, version),
      entryFor: (name, version) => allowed(name, version)?.raw,
      async rangedCandidates(known) {
        // Known packages a ranged or `@scope/*` entry covers; then the published versions of ranged names.
        const out = known.filter((pkg) => scriptCandidateNeeded(policy, pkg.name));
        const names = rangedScriptNames(policy);
        if (names.length === 0) return out;
        // Short timeout, no retries: this runs before the package manager starts, and a miss only builds less.
        const client = createRegistryClient({ config: options.registryConfig, cacheDir: options.cacheDir ?? defaultCacheDir(options.env ?? process.env), timeoutMs: 10_000, retries: 0, ...(options.fetch ? { fetch: options.fetch } : {}) });
        await Promise.all(
          names.map(async (name) => {
            try {
              for (const version of (await client.getPackument(name)).versions.keys()) out.push({ name, version });
            } catch {
              // Unreachable: versions missing here are simply not built.
            }
          }),
        );
        return out;
      },
    },
    mayBuild: policyMayBuild,
    judgeBeforeFetch(dependency) {
      const findings = evaluateBeforeFetch(policy, dependency).map((f) => forSurface(f, surface));
      // Its scripts run when it is fetched, whatever an install would skip.
      const { blocking, skipped, exitCode } = consequences(findings, false, new Set(findings.map((f) => f.id ?? '')));
      return { findings, blocking, skipped, blocked: new Set(blocking.map((f) => `${f.package}@${f.version}`)), exitCode, notices: [], skippedNotice: undefined };
    },
    prefetch: (name) => decider.prefetch(name),
    settle: () => decider.settle(),
    async recallReport(digest) {
      const memo = options.engine !== undefined ? rememberedReports() : undefined;
      const hit = memo?.enabled === true ? memo.recall(`${await gateDigest()}\0${digest}`) : undefined;
      // The patch files (and settings naming them) the check read must still hold what it read.
      return hit !== undefined && patchesNow(hit.patches) !== undefined ? hit : undefined;
    },
    async rememberReport(digest, report) {
      const memo = options.engine !== undefined ? rememberedReports() : undefined;
      if (memo?.enabled === true) memo.remember(`${await gateDigest()}\0${digest}`, { ...report, ...patchesRead() });
    },
    async judgeLockfile(digest, packages, inputs = {}) {
      const memo = options.engine !== undefined ? rememberedVerdicts() : undefined;
      const unskippable = inputs.scriptsUnskippable;
      const unasked = inputs.patchedBuildsUnasked === true ? ['patched builds unasked'] : [];
      const key = memo?.enabled === true ? digestOf(['lockfile', await gateDigest(), digest, unskippable?.by ?? null, ...unasked]) : undefined;
      const hit = key === undefined ? undefined : memo!.recall(key);
      if (hit !== undefined && hit.buildSteps === undefined) {
        const replayed = replay(hit);
        if (replayed !== undefined) return replayed;
      }
      const list = packages();
      const verdict = await this.judge(list, { ...inputs.kept, ...(unskippable !== undefined ? { scriptsUnskippable: unskippable.test } : {}), ...(unasked.length > 0 ? { patchedBuildsUnasked: true } : {}) });
      const decided = pickLockfileVerdict(verdict);
      // A patched package's verdict also rests on its patch file, and a project's settings may name patches whatever the
      // lockfile says (pnpm-workspace.yaml, package.json): neither is in the lockfile's digest, so the verdict keeps what
      // its judgement read of them, and is replayed only while that holds (`replay`).
      const patches = decider.patchReads();
      if (key !== undefined && verdict.blocking.length === 0 && verdict.exitCode === 0) {
        memo!.remember(key, { findings: [...verdict.findings], notices: [...verdict.notices], strippedRegistries: [...verdict.strippedRegistries], builds: buildExceptions(verdict, policyMayBuild), signed: [...decided.signed], ...(patches !== undefined ? { patches: rememberedPatches(patches) } : {}) });
      }
      return { ...decided, remembered: false, ...(patches !== undefined ? { patchFiles: patches.files } : {}) };
    },
    async judgeInstalled(digest, copies, inputs = {}) {
      const memo = options.engine !== undefined ? rememberedVerdicts() : undefined;
      const unskippable = inputs.scriptsUnskippable;
      // Taken before anything is read: a change after this moment gives another stamp.
      const paths = memo?.enabled === true ? copies.paths() : undefined;
      const stamp = paths === undefined ? undefined : installedStamp(options.dir, paths, (options.now ?? Date.now)());
      // Too fresh for their stat to vouch for them: the files themselves, read now, once; the judgement reads these bytes
      // (none held, and nothing remembered, when they are too large to hold at once).
      const files = paths !== undefined && stamp === undefined ? readInstalledFiles(options.dir, paths) : undefined;
      const key =
        stamp !== undefined
          ? digestOf(['installed', await gateDigest(), digest, unskippable?.by ?? null, stamp])
          : files !== undefined
            ? digestOf(['installed-bytes', await gateDigest(), digest, unskippable?.by ?? null, files.digest])
            : undefined;
      const hit = key === undefined ? undefined : memo!.recall(key);
      if (hit?.buildSteps !== undefined) {
        const replayed = replay(hit);
        if (replayed !== undefined) return { ...replayed, buildSteps: hit.buildSteps };
      }
      const packages = copies.packages();
      const readInstalled = copies.reader(files);
      const judgeInputs: JudgeInputs = { readInstalled, ...(unskippable !== undefined ? { scriptsUnskippable: unskippable.test } : {}) };
      const verdict = await (copies.judge ?? ((p, i) => this.judge(p, i)))(packages, judgeInputs);
      const buildSteps = verdict.blocking.length === 0 ? verdict.buildPlan(readInstalled) : [];
      const decided = pickLockfileVerdict(verdict);
      const stamped = new Set(paths);
      // Only what the stamp (or the bytes read up front) covers can be replayed: every path the judgement read.
      if (key !== undefined && verdict.blocking.length === 0 && verdict.exitCode === 0 && packages.every((pkg) => pkg.paths.every((path) => stamped.has(path)))) {
        memo!.remember(key, { findings: [...verdict.findings], notices: [...verdict.notices], strippedRegistries: [...verdict.strippedRegistries], builds: buildExceptions(verdict, policyMayBuild), signed: [...decided.signed], buildSteps, ...patchesRead() });
      }
      return { ...decided, buildSteps, remembered: false };
    },
    async judge(packages, inputs = {}) {
      const decision = await decider.decide(packages, {
        ...(inputs.readInstalled ? { readInstalled: inputs.readInstalled } : {}),
        ...(inputs.supplied ? { supplied: inputs.supplied } : {}),
        ...(inputs.suppliedPackument ? { suppliedPackument: inputs.suppliedPackument } : {}),
        ...(inputs.partial === true && inputs.wholeGraphFollows === true ? { wholeGraphFollows: true } : {}),
        ...(inputs.onProgress ? { onProgress: inputs.onProgress } : {}),
      });
      if (inputs.partial !== true) decider.save();
      // Judging what was installed: a copy on disk that is not the package checked stops the install (never built).
      const mismatched = (options.purpose ?? 'install') === 'install' && inputs.readInstalled?.at !== undefined ? installedMismatches(packages, inputs.readInstalled, options.packageManager) : [];
      const findings = [...decision.findings, ...mismatched].map((f) => forSurface(f, surface));
      const unskippable = idsWhere(packages, inputs.scriptsUnskippable);
      if (inputs.patchedBuildsUnasked === true) for (const id of patchedBuiltUnasked(packages, decision.evidence)) unskippable.add(id);
      const { blocking, skipped, exitCode } = consequences(findings, inputs.partial === true, unskippable);
      const copies = new Map<string, PackageNode[]>();
      for (const pkg of packages) {
        const key = `${pkg.name}@${pkg.version}`;
        copies.set(key, [...(copies.get(key) ?? []), pkg]);
      }
      const evidence = decision.evidence;
      // Changed install scripts never run, whatever else a surface does with the verdict.
      const drifted = new Set(findings.filter((f) => f.code === 'SCRIPT_CHANGED').map((f) => `${f.package}@${f.version}`));
      return {
        packages,
        findings,
        blocking,
        skipped,
        blocked: blockedBy(blocking, decision.shipped),
        exitCode,
        notices: decision.notices,
        strippedRegistries: decision.strippedRegistries,
        skippedNotice: inputs.partial === true ? undefined : skippedNotice(skipped, surface),
        evidence,
        mayBuild(pkg) {
          if (drifted.has(`${pkg.name}@${pkg.version}`)) return false;
          if (pkg.source !== undefined) return policyMayBuild(pkg);
          const judged = copies.get(`${pkg.name}@${pkg.version}`);
          return judged === undefined ? policyMayBuild(pkg) : judged.every(policyMayBuild);
        },
        signedIntegrity(pkg) {
          if (pkg.source !== 'registry' || evidence.signatures.get(pkg.id)?.status !== 'verified') return undefined;
          return evidence.integrities?.get(pkg.id);
        },
        buildPlan(readInstalled) {
          const scripts = new Map<string, ScriptEvidence>(evidence.scripts);
          if (readInstalled !== undefined) {
            // The user's own packages are not judged, but their install scripts run too (first, as npm orders them).
            for (const pkg of packages) {
              if (!isOwnCode(pkg) || pkg.paths.length === 0) continue;
              const found = scriptEvidence(pkg, undefined, readInstalled(pkg));
              if (found !== undefined) scripts.set(pkg.id, found);
            }
          }
          const steps = planBuilds(policy, packages.filter((pkg) => !drifted.has(`${pkg.name}@${pkg.version}`)), scripts);
          if (readInstalled === undefined) return steps;
          // Only the bytes that were checked may run: a step whose path holds no copy of the package checked (another
          // version left by the package manager, no package.json) is never built, whatever the metadata said.
          const byId = new Map(packages.map((p) => [p.id, p]));
          return steps.filter((step) => {
            const pkg = byId.get(step.id)!;
            if (isOwnCode(pkg)) return true;
            return readInstalled.at !== undefined ? 'manifest' in readInstalled.at(pkg, step.path) : readInstalled(pkg) !== null;
          });
        },
        report(lockfile) {
          return { findings: [...blocking], exitCode, packages: packages.length, lockfile, policy: policy.file, notices: [...decision.notices], strippedRegistries: [...decision.strippedRegistries] };
        },
      };
    },
  };
}

const REINSTALL: Record<LockfileKind, string> = {
  npm: 'rm -rf node_modules && portcullis-npm install',
  pnpm: 'rm -rf node_modules && pnpm install',
  yarn: 'rm -rf node_modules && yarn install',
};

/** INSTALLED_MISMATCH for every install path (of a package not the user's own) that holds something else than the package checked. */
function installedMismatches(packages: readonly PackageNode[], readInstalled: InstalledManifestReader, kind: LockfileKind): Finding[] {
  const out: Finding[] = [];
  for (const pkg of packages) {
    if (isOwnCode(pkg)) continue;
    for (const path of pkg.paths) {
      const copy: InstalledCopy = readInstalled.at!(pkg, path);
      if (!('differs' in copy)) continue;
      out.push({
        package: pkg.name,
        version: pkg.version,
        rule: 'scripts',
        code: 'INSTALLED_MISMATCH',
        message: `${pkg.name}@${pkg.version}: the copy installed at ${path} is not the one checked (${copy.differs}); its install scripts were not run.`,
        fix: REINSTALL[kind],
        id: pkg.id,
        ...(pkg.registry !== undefined ? { registry: pkg.registry } : {}),
      });
    }
  }
  return out;
}

/**
 * `name@version` of every package a blocking finding names, and of the bundler of each copy it names that the graph
 * does not list (a copy read from its bundler's tarball, Gathered.shipped): refusing the bundler refuses the copy.
 */
function blockedBy(blocking: readonly Finding[], shipped: readonly PackageNode[] | undefined): Set<string> {
  const blocked = new Set(blocking.map((f) => `${f.package}@${f.version}`));
  if (shipped === undefined || shipped.length === 0) return blocked;
  const bundlerOf = new Map(shipped.map((copy) => [copy.id, copy.bundledBy]));
  for (const f of blocking) {
    const bundler = f.id === undefined ? undefined : bundlerOf.get(f.id);
    if (bundler !== undefined) blocked.add(`${bundler.name}@${bundler.version}`);
  }
  return blocked;
}
