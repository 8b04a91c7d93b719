/** What the wrapper says, always on stderr so that npm's own stdout (`--json`) stays clean. */
import { approveCommand, formatText, type Decision, type Finding, type Lockfile, type Policy } from '@portcullis/core';

export function say(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The findings that stopped an install, in the same layout as `portcullis check`. */
export function reportBlocked(decision: Decision, blocking: Finding[], exitCode: 0 | 1 | 3, lockfile: Lockfile, policy: Policy, state: string): void {
  const color = process.stderr.isTTY === true && !process.env.NO_COLOR;
  const text = formatText(
    {
      findings: blocking,
      exitCode,
      packages: lockfile.packages.length,
      lockfile: { kind: lockfile.kind, path: lockfile.path },
      policy: policy.file,
      notices: decision.notices,
      strippedRegistries: decision.strippedRegistries,
    },
    { color },
  );
  say(text);
  say(`portcullis-npm: ${state}`);
}

/** One notice for every package installed with its scripts skipped, with the command that approves them. */
export function reportSkipped(skipped: Finding[]): void {
  if (skipped.length === 0) return;
  const what = skipped.map((f) => `  - ${f.message}`);
  say(
    [
      `portcullis-npm: installed without running the install scripts of ${new Set(skipped.map((f) => `${f.package}@${f.version}`)).size} package(s) that portcullis.json does not allow:`,
      ...what,
      `To let them run: ${approveCommand(skipped)} && portcullis-npm rebuild`,
    ].join('\n'),
  );
}
