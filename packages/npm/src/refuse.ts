/** How portcullis-npm refuses and reports, always on stderr so that npm's own stdout (`--json`) stays clean. */
import { formatText, skippedNotice, type Lockfile, type Verdict } from '@portcullis/core';

export function say(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The wrapper's own refusal (an install it does not gate): exit 2, nothing run. */
export function refuse(message: string): number {
  say(`portcullis-npm: ${message}`);
  return 2;
}

/**
 * A verdict that stops the install: its blocking findings in the layout of `portcullis check`, then what state
 * the project was left in. Returns the verdict's exit code.
 */
export function reportBlocked(verdict: Verdict, lockfile: Pick<Lockfile, 'kind' | 'path'>, state: string, color = process.stderr.isTTY === true && !process.env.NO_COLOR): number {
  say(formatText(verdict.report({ kind: lockfile.kind, path: lockfile.path }), { color }));
  say(`portcullis-npm: ${state}`);
  return verdict.exitCode;
}

/**
 * The verdict's one notice for packages installed with their scripts skipped, with the command that approves
 * them; for `rebuild <names>` (`only`), the same notice about those packages alone.
 */
export function reportSkipped(verdict: Pick<Verdict, 'skippedNotice' | 'skipped'>, only?: readonly string[]): void {
  const notice = only === undefined ? verdict.skippedNotice : skippedNotice(verdict.skipped.filter((f) => only.includes(f.package)), 'npm');
  if (notice !== undefined) say(notice);
}
