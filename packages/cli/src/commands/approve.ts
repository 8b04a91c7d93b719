/**
 * `portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow.
 * `portcullis approve --publisher <name…>`: pin who builds them (provenance.publishers), from their verified provenance.
 * `portcullis approve --cooldown <name…>`: a time-boxed cooldown exception for the versions in the lockfile.
 * `portcullis approve` (no names): on a terminal, pick from what the policy blocks; otherwise list it and the commands.
 * `portcullis approve --all`: every blocked package of that form (scripts unless --cooldown/--publisher).
 */
import { parseArgs } from 'node:util';
import {
  approveCooldown,
  approvePublishers,
  approveReviewed,
  approveScripts,
  describeApproval,
  describeCooldownApproval,
  describePublisherApproval,
  describeReviewed,
  formatReview,
  PortcullisError,
  reviewBlocked,
  reviewCommands,
  runCheck,
  type ApproveForm,
} from '@portcullis/core';
import { terminalPicker, type Picker } from './approve-picker.js';
import { projectDir } from './options.js';

/** What approve needs from where it runs: whether it may ask, and how. */
export interface ApproveTerminal {
  interactive: boolean;
  pick: Picker;
}

/** Asking needs a person on both ends: stdin and stdout on a terminal. */
const realTerminal = (): ApproveTerminal => ({ interactive: process.stdin.isTTY === true && process.stdout.isTTY === true, pick: terminalPicker });

export async function approveCommand(args: string[], terminal: ApproveTerminal = realTerminal()): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      publisher: { type: 'boolean', default: false },
      cooldown: { type: 'boolean', default: false },
      offline: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.publisher && values.cooldown) throw new PortcullisError('USAGE', 'approve takes --publisher or --cooldown, not both');
  if (values.all && positionals.length > 0) throw new PortcullisError('USAGE', 'approve takes package names or --all, not both');
  const dir = projectDir(values.dir);
  if (positionals.length > 0) {
    if (values.cooldown) {
      process.stdout.write(describeCooldownApproval(await approveCooldown(dir, positionals)));
      return 0;
    }
    if (values.publisher) {
      process.stdout.write(describePublisherApproval(await approvePublishers(dir, positionals, { offline: values.offline })));
      return 0;
    }
    process.stdout.write(describeApproval(await approveScripts(dir, positionals)));
    return 0;
  }

  // No names: judge the whole lockfile as `check` does, and offer what an approve form can let in.
  const form: ApproveForm | undefined = values.cooldown ? 'cooldown' : values.publisher ? 'publisher' : values.all ? 'scripts' : undefined;
  const run = await runCheck(dir, { offline: values.offline });
  const review = await reviewBlocked(run, { offline: values.offline });
  const shown = form === undefined ? review : { ...review, entries: review.entries.filter((e) => e.form === form) };

  if (values.all) {
    if (shown.entries.length === 0) {
      process.stdout.write(`nothing to approve${form === 'scripts' ? ' (no install scripts are blocked)' : ''}\n`);
      return review.exitCode;
    }
    process.stdout.write(describeReviewed(await approveReviewed(dir, shown.entries, { offline: values.offline })));
    return 0;
  }

  process.stdout.write(formatReview(shown));
  if (shown.entries.length === 0) return review.exitCode;
  if (values.yes || !terminal.interactive) {
    // Never a prompt without a person at a terminal (CI must not hang): the exact commands instead.
    const commands = reviewCommands(shown.entries);
    process.stdout.write(`To approve ${commands.length === 1 ? 'them' : 'each group'} (pinned to the versions in ${run.project.lockfile.path}):\n${commands.map((c) => `  ${c}`).join('\n')}\nor run \`portcullis approve\` in a terminal to pick.\n`);
    return review.exitCode === 0 ? 1 : review.exitCode;
  }
  const chosen = await terminal.pick(shown.entries);
  if (chosen === undefined) {
    process.stdout.write('cancelled: nothing written\n');
    return 1;
  }
  if (chosen.length === 0) {
    process.stdout.write('nothing chosen: nothing written\n');
    return 1;
  }
  process.stdout.write(describeReviewed(await approveReviewed(dir, chosen, { offline: values.offline })));
  process.stdout.write(`Next: install again (${run.project.lockfile.kind === 'npm' ? 'portcullis-npm install' : `${run.project.lockfile.kind} install`}) so that the approved packages build.\n`);
  return 0;
}
