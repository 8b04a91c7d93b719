/**
 * Remembered verdicts: an install that repeats a decision already made — the same lockfile, judged by the same
 * gate (engine build, policy as loaded, registries and their keys, trusted root, advisory sources, strictness,
 * purpose, surface, PORTCULLIS_* settings) — gets that verdict back without its packages being translated or
 * judged again. This is what lets a warm or frozen install with nothing changed cost almost nothing beyond the
 * package manager's own work.
 *
 * Only verdicts that let the install go on are remembered (a refusal is always decided again), each for at most
 * a day, in an AuthenticatedMemo per project: an entry is found only under an HMAC of everything above with this
 * user's secret (kept outside the cache directory), so a cache restored from elsewhere, or edited, vouches for
 * nothing. Nothing a verdict depends on changes with time in the permissive-to-refusing direction (a cooldown
 * only lets more in as releases age; signatures, provenance and publish times are facts of immutable versions),
 * and the day's bound keeps a forgotten input from lasting.
 */
import { createHash } from 'node:crypto';
import { AuthenticatedMemo } from '../cache/authenticated-memo.js';
import type { BuildStep } from '../evaluation/build-plan.js';
import type { RememberedPatches } from './patches.js';
import { FINDING_CODES, type Finding } from '../finding.js';
import type { SourceLocation } from '../model.js';
import type { CheckResult } from '../report/result.js';

export const REMEMBERED_FORMAT = 'decisions-v3';
/** The signed-package lists of remembered verdicts, each kept once (by its digest) however many verdicts share it. */
export const SIGNED_LISTS_FORMAT = 'signed-lists-v1';
/** How long a remembered verdict is used. */
export const REMEMBER_FOR_MS = 24 * 60 * 60 * 1000;
const MAX_FINDINGS = 100_000;
const MAX_NOTICES = 100;
const MAX_TEXT = 64 * 1024;
const MAX_PACKAGES = 200_000;
/** Lockfiles remembered per project beyond those used by the last install (each entry carries its signed packages). */
const KEEP_UNUSED = 16;

/** A registry package whose signature verified, with the integrity the registry signed (the bytes it may be installed from). */
export interface SignedPackage {
  name: string;
  version: string;
  /** The origin the lockfile records (a tarball URL), when it records one. */
  resolved?: string;
  integrity: string;
}

/** A verdict that let an install go on: what it skipped and said, and what an install still checks against it. */
export interface RememberedVerdict {
  /** Findings as shown on the surface (none blocking when remembered). */
  findings: Finding[];
  notices: string[];
  strippedRegistries: string[];
  /**
   * `name@version` whose build answer differs from the policy's alone (every judged copy is the user's own code,
   * or copies disagree): the verdict's answer. Every other candidate is answered by the policy, as a verdict does.
   */
  builds: Array<[string, boolean]>;
  /** Verified registry packages and their signed integrities: a replayed verdict still refuses other bytes. */
  signed: SignedPackage[];
  /** For a judgement of installed copies: the copies that may build, in build order. */
  buildSteps?: BuildStep[];
  /**
   * What the judgement read of the project's patches (patches.ts): replayed only while they hold. Absent when the gate
   * had no project folder to read them in.
   */
  patches?: RememberedPatches;
  /** When it was decided (ms since the epoch). */
  decidedAt: number;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_TEXT;
const isTextList = (value: unknown, max: number): value is string[] => Array.isArray(value) && value.length <= max && value.every(isText);

export function isFinding(value: unknown): value is Finding {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const f = value as Record<string, unknown>;
  return (
    isText(f.package) &&
    isText(f.version) &&
    isText(f.rule) &&
    typeof f.code === 'string' &&
    (FINDING_CODES as readonly string[]).includes(f.code) &&
    isText(f.message) &&
    isText(f.fix) &&
    (f.id === undefined || isText(f.id)) &&
    (f.registry === undefined || isText(f.registry))
  );
}

function isSignedPackage(value: unknown): value is SignedPackage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  return isText(p.name) && isText(p.version) && isText(p.integrity) && (p.resolved === undefined || isText(p.resolved));
}

const MAX_PATCH_FILES = 1_000;

/** A remembered verdict's or report's patch reads (RememberedPatches). */
export function isRememberedPatches(value: unknown): value is RememberedPatches {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  return isText(p.settings) && Array.isArray(p.files) && p.files.length <= MAX_PATCH_FILES && p.files.every((f) => Array.isArray(f) && f.length === 2 && isText(f[0]) && (f[1] === null || isText(f[1])));
}

const isBuildAnswer = (value: unknown): value is [string, boolean] => Array.isArray(value) && value.length === 2 && isText(value[0]) && typeof value[1] === 'boolean';

const MAX_STEPS = 100_000;

function isBuildStep(value: unknown): value is BuildStep {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const s = value as Record<string, unknown>;
  return (
    isText(s.id) &&
    isText(s.name) &&
    isText(s.version) &&
    isText(s.path) &&
    isTextList(s.scripts, MAX_NOTICES) &&
    typeof s.bindingGyp === 'boolean' &&
    typeof s.ownCode === 'boolean' &&
    typeof s.inBundle === 'boolean'
  );
}

export function isRememberedVerdict(value: unknown): value is RememberedVerdict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    Array.isArray(v.findings) &&
    v.findings.length <= MAX_FINDINGS &&
    v.findings.every(isFinding) &&
    isTextList(v.notices, MAX_NOTICES) &&
    isTextList(v.strippedRegistries, MAX_NOTICES) &&
    Array.isArray(v.builds) &&
    v.builds.length <= MAX_PACKAGES &&
    v.builds.every(isBuildAnswer) &&
    Array.isArray(v.signed) &&
    v.signed.length <= MAX_PACKAGES &&
    v.signed.every(isSignedPackage) &&
    (v.buildSteps === undefined || (Array.isArray(v.buildSteps) && v.buildSteps.length <= MAX_STEPS && v.buildSteps.every(isBuildStep))) &&
    (v.patches === undefined || isRememberedPatches(v.patches)) &&
    typeof v.decidedAt === 'number' &&
    Number.isFinite(v.decidedAt)
  );
}

/** A digest of any JSON-shaped input (a lockfile as a package manager parsed it, a policy as loaded). */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value) ?? 'undefined').digest('base64');
}

/** An authenticated memo whose entries are answered for a day at most after they were decided. */
class RememberedForADay<T extends { decidedAt: number }> {
  protected readonly memo: AuthenticatedMemo<T>;
  protected readonly now: () => number;

  protected constructor(memo: AuthenticatedMemo<T>, now: () => number) {
    this.memo = memo;
    this.now = now;
  }

  get enabled(): boolean {
    return this.memo.enabled;
  }

  /** What is remembered under `key` (everything it was decided from), while it is less than a day old. */
  protected fresh(key: string): T | undefined {
    const hit = this.memo.get(key);
    if (hit === undefined) return undefined;
    const age = this.now() - hit.decidedAt;
    return age >= 0 && age < REMEMBER_FOR_MS ? hit : undefined;
  }
}

/** A remembered verdict as stored: its signed packages by the digest of their list (SIGNED_LISTS_FORMAT). */
interface StoredVerdict extends Omit<RememberedVerdict, 'signed'> {
  signed: string;
}

/** One list of signed packages, kept once for every verdict naming it. */
interface SignedList {
  signed: SignedPackage[];
  decidedAt: number;
}

const isStoredVerdict = (value: unknown): value is StoredVerdict =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && isText((value as { signed?: unknown }).signed) && isRememberedVerdict({ ...value, signed: [] });

const isSignedList = (value: unknown): value is SignedList => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return Array.isArray(v.signed) && v.signed.length <= MAX_PACKAGES && v.signed.every(isSignedPackage) && typeof v.decidedAt === 'number' && Number.isFinite(v.decidedAt);
};

/**
 * The memo of one project's remembered verdicts. The verdicts of one lockfile (the lockfile's, then the installed
 * copies' under each stamp) carry the same signed packages — a thousand packages are ~230 KB of them — so each list is
 * kept once, in a memo of its own read only when a verdict is found: every install reads the small verdicts, and the
 * one list its verdict names.
 */
export class RememberedVerdicts extends RememberedForADay<StoredVerdict> {
  readonly #lists: () => AuthenticatedMemo<SignedList>;

  constructor(cacheDir: string, projectDir: string, secret: Buffer | null, now: () => number = Date.now) {
    super(AuthenticatedMemo.open(REMEMBERED_FORMAT, cacheDir, projectDir, secret, isStoredVerdict, { keepUnused: KEEP_UNUSED }), now);
    let lists: AuthenticatedMemo<SignedList> | undefined;
    this.#lists = () => (lists ??= AuthenticatedMemo.open(SIGNED_LISTS_FORMAT, cacheDir, projectDir, secret, isSignedList, { keepUnused: KEEP_UNUSED }));
  }

  /** The verdict remembered under `key` with its signed packages, while less than a day old; none when its list is gone. */
  recall(key: string): RememberedVerdict | undefined {
    const hit = this.fresh(key);
    if (hit === undefined) return undefined;
    const list = this.#lists().get(hit.signed);
    return list === undefined ? undefined : { ...hit, signed: list.signed };
  }

  remember(key: string, verdict: Omit<RememberedVerdict, 'decidedAt'>): void {
    const signed = verdict.signed.map((p) => ({ name: p.name, version: p.version, ...(p.resolved !== undefined ? { resolved: p.resolved } : {}), integrity: p.integrity }));
    const listKey = digestOf(signed);
    const decidedAt = this.now();
    // The list first: a verdict is never saved naming a list that is not.
    const lists = this.#lists();
    lists.set(listKey, { signed, decidedAt });
    lists.save();
    this.memo.set(key, {
      findings: [...verdict.findings],
      notices: [...verdict.notices],
      strippedRegistries: [...verdict.strippedRegistries],
      ...(verdict.buildSteps !== undefined ? { buildSteps: verdict.buildSteps.map((step) => ({ ...step, scripts: [...step.scripts] })) } : {}),
      ...(verdict.patches !== undefined ? { patches: { settings: verdict.patches.settings, files: verdict.patches.files.map(([path, digest]): [string, string | null] => [path, digest]) } } : {}),
      builds: [...verdict.builds],
      signed: listKey,
      decidedAt,
    });
    this.memo.save();
  }
}

/**
 * A `check` report remembered whole (findings included: a check's report is what it prints, refusals too), with
 * what it read from the installed tree: the copies the check read (name, version, install paths, aliases) and a
 * digest of what it found there. A replay reads those copies again and is used only when they read the same.
 * Never remembered: an undecidable check (exit 3, METADATA_UNAVAILABLE) and one whose report depends on the
 * clock (RELEASE_TOO_NEW: a cooldown lets a release in as it ages).
 */
export interface RememberedReport {
  result: CheckResult;
  /** Source locations of the packages findings name (SARIF and GitHub annotations point at them). */
  locations: Array<[string, SourceLocation]>;
  /** The copies whose installed files the check read, in lockfile order: [name, version, paths, aliases]. */
  reads: Array<[string, string, string[], string[]]>;
  /** Digest of what those reads found. */
  installed: string;
  /** What the check read of the project's patches (as RememberedVerdict's). */
  patches?: RememberedPatches;
  decidedAt: number;
}

export const REPORTS_FORMAT = 'checks-v1';
const MAX_READS = 1_000_000;

const isStringList = (value: unknown, max: number): value is string[] => Array.isArray(value) && value.length <= max && value.every(isText);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function isCheckResult(value: unknown): value is CheckResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  const lockfile = r.lockfile as Record<string, unknown> | null;
  return (
    Array.isArray(r.findings) &&
    r.findings.length <= MAX_FINDINGS &&
    r.findings.every(isFinding) &&
    (r.exitCode === 0 || r.exitCode === 1) &&
    isCount(r.packages) &&
    typeof lockfile === 'object' &&
    lockfile !== null &&
    (lockfile.kind === 'npm' || lockfile.kind === 'pnpm' || lockfile.kind === 'yarn') &&
    isText(lockfile.path) &&
    (r.policy === null || isText(r.policy)) &&
    isTextList(r.notices, MAX_NOTICES) &&
    (r.strippedRegistries === undefined || isTextList(r.strippedRegistries, MAX_NOTICES))
  );
}

export function isRememberedReport(value: unknown): value is RememberedReport {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    isCheckResult(v.result) &&
    Array.isArray(v.locations) &&
    v.locations.length <= MAX_FINDINGS &&
    v.locations.every((l) => Array.isArray(l) && l.length === 2 && isText(l[0]) && typeof l[1] === 'object' && l[1] !== null && isCount((l[1] as SourceLocation).line) && isCount((l[1] as SourceLocation).column)) &&
    Array.isArray(v.reads) &&
    v.reads.length <= MAX_READS &&
    v.reads.every((r) => Array.isArray(r) && r.length === 4 && isText(r[0]) && isText(r[1]) && isStringList(r[2], 1000) && isStringList(r[3], 1000)) &&
    isText(v.installed) &&
    (v.patches === undefined || isRememberedPatches(v.patches)) &&
    typeof v.decidedAt === 'number' &&
    Number.isFinite(v.decidedAt)
  );
}

/** Whether a check's report may be remembered: decided (not exit 3) and not depending on the clock. */
export function reportMayBeRemembered(result: CheckResult): boolean {
  return result.exitCode !== 3 && !result.findings.some((f) => f.code === 'METADATA_UNAVAILABLE' || f.code === 'RELEASE_TOO_NEW');
}

/** The memo of one project's remembered check reports (see RememberedReport), each for a day at most. */
export class RememberedReports extends RememberedForADay<RememberedReport> {
  constructor(cacheDir: string, projectDir: string, secret: Buffer | null, now: () => number = Date.now) {
    super(AuthenticatedMemo.open(REPORTS_FORMAT, cacheDir, projectDir, secret, isRememberedReport), now);
  }

  /** The report remembered under `key`, while it is less than a day old. */
  recall(key: string): RememberedReport | undefined {
    return this.fresh(key);
  }

  remember(key: string, report: Omit<RememberedReport, 'decidedAt'>): void {
    this.memo.set(key, { ...report, decidedAt: this.now() });
    // One report per project is enough (the tree as it is now); older ones would only make the file large.
    this.memo.forgetUnused();
    this.memo.save();
  }
}
