/** The `portcullis` command: parse, dispatch to one command per file, map errors to exit codes. */
import { PortcullisError } from '@portcullis/core';
import { approveCommand } from './commands/approve.js';
import { checkCommand } from './commands/check.js';
import { explainCommand } from './commands/explain.js';
import { initCommand } from './commands/init.js';

declare const PORTCULLIS_VERSION: string;

const USAGE = `Usage: portcullis <command> [options]

Commands:
  check [--dir DIR] [--format text|json|sarif|github] [--offline]
        Evaluate the lockfile in DIR against portcullis.json and print the findings
        (github: workflow-command annotations, and a job summary in $GITHUB_STEP_SUMMARY).
  approve [--dir DIR] [--offline] [--yes]
        On a terminal: list what the policy blocks (what each package would run, its signature and provenance)
        and pick what to approve. Without a terminal, or with --yes: list it and print the exact commands (exit 1).
  approve <name|name@version…> [--dir DIR]
        Allow the install scripts of the named packages, pinned to the versions in the lockfile.
  approve --all [--cooldown|--publisher] [--dir DIR]
        Approve every blocked package of that kind (install scripts unless --cooldown or --publisher).
  approve --publisher <name…> [--dir DIR] [--offline]
        Pin who builds the named packages (provenance.publishers: repository, workflow, ids) from their verified provenance.
  approve --cooldown <name|name@version…> [--dir DIR]
        A time-boxed exception to the cooldown for the versions in the lockfile (lapses when the cooldown would let them in).
  explain <name> [--dir DIR] [--format text|json] [--offline]
        For each installed copy of a package: every rule, its evidence, the policy line that decided,
        and the line that would change the verdict.
  init [npm|pnpm|yarn] [--dir DIR]
        Set enforcement up for a package manager and write a starter portcullis.json. With no package manager:
        detect every one the repository uses, set each up and import their existing build allowlists.

Exit codes: 0 allowed, 1 policy violations, 2 usage or configuration error, 3 could not decide.
Environment: PORTCULLIS_POLICY (policy file), PORTCULLIS_CACHE_DIR (metadata cache),
  PORTCULLIS_STATE_DIR (the secret that authenticates remembered verifications),
  PORTCULLIS_FETCH_TIMEOUT_MS (registry request timeout, default 30000).`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  check: checkCommand,
  approve: approveCommand,
  explain: explainCommand,
  init: initCommand,
};

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${typeof PORTCULLIS_VERSION === 'string' ? PORTCULLIS_VERSION : 'dev'}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined || !Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`portcullis: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (error) {
    if (error instanceof PortcullisError) {
      process.stderr.write(`portcullis: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`portcullis: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    // Anything unexpected means we could not decide: fail closed.
    process.stderr.write(`portcullis: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.PORTCULLIS_DEBUG) process.stderr.write(`${error instanceof Error ? error.stack : ''}\n`);
    return 3;
  }
}
