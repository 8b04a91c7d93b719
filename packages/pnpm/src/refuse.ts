/**
 * pnpm's way of refusing (pnpm-error.ts): every refusal of the pnpmfile's engine is built here from the core's verdict
 * (or from a setting that would widen the builds).
 */
import { findingsHeadline, formatFindingLines, PortcullisError, type PnpmStoreRefusal, type Verdict } from '@portcullis/core';
import { pnpmError, type PnpmError } from './pnpm-error.js';

export { pnpmError, type PnpmError, type PortcullisPnpmCode } from './pnpm-error.js';

/** A portcullis.json that cannot be used stops pnpm with its file, line and column. */
export function policyError(error: unknown): unknown {
  if (error instanceof PortcullisError) return pnpmError('POLICY', error.message, 'Fix portcullis.json (see docs/policy.md), then run the install again.');
  return error;
}

/** The error that stops pnpm for a verdict that blocks; `what` names what was judged (`pnpm-lock.yaml`). */
export function blockedError(verdict: Pick<Verdict, 'blocked' | 'exitCode' | 'notices' | 'blocking'>, what: string): PnpmError {
  const n = verdict.blocked.size;
  const s = n === 1 ? '' : 's';
  const message =
    verdict.exitCode === 3
      ? `portcullis could not decide on ${n} package${s} in ${what}: ${findingsHeadline(verdict.blocking)}. Nothing was installed (fail closed)`
      : `portcullis blocked ${n} package${s} in ${what}: ${findingsHeadline(verdict.blocking)}. Nothing was linked and no install script ran`;
  const notices = verdict.notices.map((n) => `  ! ${n}`).join('\n');
  const hint = [notices, formatFindingLines(verdict.blocking)].filter(Boolean).join('\n');
  return pnpmError(verdict.exitCode === 3 ? 'UNDECIDED' : 'BLOCKED', message, hint);
}

/**
 * pnpm 12's `fetch`: no hook after updateConfig sees the lockfile it links and builds, and updateConfig could not judge
 * it (`reason`): refused rather than fetched unjudged.
 */
export function unjudgedFetchError(reason: string): PnpmError {
  return pnpmError(
    'UNDECIDED',
    `portcullis refused pnpm fetch: pnpm 12 shows no hook but updateConfig the lockfile it fetches, links and builds, and portcullis could not judge it there: ${reason}. Nothing was fetched, linked or built (fail closed)`,
    '  fix: run pnpm install --frozen-lockfile instead (its preResolution hook judges the lockfile as pnpm parsed it)',
  );
}

/** pnpm's store or virtual store set to a folder inside the checkout (core's pnpmStoreRefusal) stops pnpm before it reads it. */
export function storeError(refusal: PnpmStoreRefusal): PnpmError {
  return pnpmError('STORE', `portcullis refused the install: ${refusal.message}. Nothing was fetched, linked or built`, `  STORE_IN_CHECKOUT  ${refusal.path}\n    fix: ${refusal.fix}`);
}

/**
 * `excludeLinksFromLockfile`: pnpm then leaves the project's `link:` dependencies out of the lockfile, so the gate, which
 * judges the lockfile, would never see what they link (measured on pnpm 10.34.8, 11.28.10 and 12.24.0: a folder outside
 * the project was linked).
 */
export function excludedLinksError(): PnpmError {
  return pnpmError('SETTINGS', "portcullis refused the install: pnpm's setting excludeLinksFromLockfile leaves the project's link: dependencies out of the lockfile, so what they link cannot be judged. Nothing was fetched, linked or built", '  fix: remove excludeLinksFromLockfile from pnpm-workspace.yaml (or the command line), then install again');
}

/** One setting that would widen the builds past the policy: where it is, what it lets build, and the fix. */
export interface WideningSetting {
  /** Where it is written: `in /repo/package.json`, `on the command line`. */
  place: string;
  setting: string;
  /** What it allows that the policy does not (`name`, `name@version`), or why it widens. */
  allows: string[];
  fix: string;
}

/** Refuses the install when a setting pnpm applies after updateConfig would let a package build that the policy does not allow. */
export function refuseWidening(settings: readonly WideningSetting[]): void {
  if (settings.length === 0) return;
  const s = settings.length === 1 ? '' : 's';
  const message = `portcullis refused the install: ${settings.length} pnpm setting${s} would let packages build that scripts.allow of portcullis.json does not allow, and pnpm applies ${s ? 'them' : 'it'} after Portcullis' hook. Nothing was fetched or built`;
  const hint = settings.map((w) => `  SETTING_WIDENS_BUILDS  ${w.setting} ${w.place} allows ${w.allows.join(', ')}\n    fix: ${w.fix}`).join('\n');
  throw pnpmError('SETTINGS', message, hint);
}

/** Said when pnpm will also offer its own approval, which cannot widen the policy. */
export const PNPM_APPROVAL_NOTE = 'portcullis: pnpm may also suggest "pnpm approve-builds" (or "pnpm approve") for these: that cannot allow them past portcullis.json; use the portcullis approve command above.';

/** The skipped-scripts notice as pnpm users see it (on stderr), with a word about pnpm's own approval when pnpm will offer it. */
export function skippedNoticeText(notice: string, pnpmOffersApproval: boolean): string {
  return pnpmOffersApproval ? `${notice}\n${PNPM_APPROVAL_NOTE}` : notice;
}
