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
import { FINDING_CODES, type Finding } from '../finding.js';

export const REMEMBERED_FORMAT = 'decisions-v1';
/** How long a remembered verdict is used. */
export const REMEMBER_FOR_MS = 24 * 60 * 60 * 1000;
const MAX_FINDINGS = 100_000;
const MAX_NOTICES = 100;
const MAX_TEXT = 64 * 1024;

/** A verdict that let an install go on: what it skipped and said. */
export interface RememberedVerdict {
  /** Findings as shown on the surface (none blocking when remembered). */
  findings: Finding[];
  notices: string[];
  strippedRegistries: string[];
  /** For a judgement of installed copies: the copies that may build, in build order. */
  buildSteps?: BuildStep[];
  /** When it was decided (ms since the epoch). */
  decidedAt: number;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length <= MAX_TEXT;
const isTextList = (value: unknown, max: number): value is string[] => Array.isArray(value) && value.length <= max && value.every(isText);

function isFinding(value: unknown): value is Finding {
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
    typeof s.ownCode === 'boolean'
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
    (v.buildSteps === undefined || (Array.isArray(v.buildSteps) && v.buildSteps.length <= MAX_STEPS && v.buildSteps.every(isBuildStep))) &&
    typeof v.decidedAt === 'number' &&
    Number.isFinite(v.decidedAt)
  );
}

/** A digest of any JSON-shaped input (a lockfile as a package manager parsed it, a policy as loaded). */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value) ?? 'undefined').digest('base64');
}

/** The memo of one project's remembered verdicts. */
export class RememberedVerdicts {
  readonly #memo: AuthenticatedMemo<RememberedVerdict>;
  readonly #now: () => number;

  constructor(cacheDir: string, projectDir: string, secret: Buffer | null, now: () => number = Date.now) {
    this.#memo = AuthenticatedMemo.open(REMEMBERED_FORMAT, cacheDir, projectDir, secret, isRememberedVerdict);
    this.#now = now;
  }

  get enabled(): boolean {
    return this.#memo.enabled;
  }

  /** The verdict remembered under `key` (everything it was decided from), while it is less than a day old. */
  recall(key: string): RememberedVerdict | undefined {
    const hit = this.#memo.get(key);
    if (hit === undefined) return undefined;
    const age = this.#now() - hit.decidedAt;
    return age >= 0 && age < REMEMBER_FOR_MS ? hit : undefined;
  }

  remember(key: string, verdict: Omit<RememberedVerdict, 'decidedAt'>): void {
    this.#memo.set(key, {
      findings: [...verdict.findings],
      notices: [...verdict.notices],
      strippedRegistries: [...verdict.strippedRegistries],
      ...(verdict.buildSteps !== undefined ? { buildSteps: verdict.buildSteps.map((step) => ({ ...step, scripts: [...step.scripts] })) } : {}),
      decidedAt: this.#now(),
    });
    this.#memo.save();
  }
}
