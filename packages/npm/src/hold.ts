/**
 * npm started early and held: the wrapper starts npm's own Node process while it is still deciding, so that Node's
 * start (~20–30 ms on the machines the benchmarks run on) is paid beside the decision instead of after it. The held
 * process loads this loader first (`node --require <portcullis-npm.js> npm-cli.js`), which blocks on a pipe the
 * wrapper holds before npm's own code is even loaded: npm reads nothing, writes nothing and runs nothing until the
 * wrapper writes GO and then npm's arguments (JSON) and closes the pipe. The arguments come with the answer, not on
 * the command line, so that the loader can start npm before the engine is even loaded (early-npm.ts): the command
 * npm runs is only known once the engine has read the project. Anything else — the wrapper stops it, exits, is
 * killed, or writes something else — ends the process there with HELD_NPM_STOPPED.
 *
 * This module is the held side (imported by the loader, bin.ts); the wrapper's side is npm-process.ts `holdNpm`.
 */
import { closeSync, readSync } from 'node:fs';

/** Set in the held process's environment (and removed there at once): the file descriptor of the pipe to wait on. */
export const HOLD_ENV = 'PORTCULLIS_NPM_HOLD';
/** The only file descriptor a held npm waits on (the child's fourth stdio entry). */
export const HOLD_FD = 3;
/** The byte that lets a held npm go on; npm's arguments follow it, as a JSON array of strings. */
export const GO = 0x67;
/** The most a held npm reads from the pipe (the answer and npm's arguments). */
export const HOLD_ANSWER_MAX_BYTES = 1024 * 1024;
/** How a held npm that was not let go ends. */
export const HELD_NPM_STOPPED = 125;

/**
 * In the held process: waits for the wrapper's answer and returns only on GO followed by npm's arguments, which it
 * adds to `process.argv` (where npm, loaded next, reads them). Removes what made this process held (the variable,
 * and this loader from `process.execArgv`, which `child_process.fork` would pass on), so nothing npm starts is held
 * or loads the wrapper.
 */
export function waitForGo(value: string, loader: string): void {
  delete process.env[HOLD_ENV];
  for (let i = process.execArgv.length - 2; i >= 0; i--) {
    if ((process.execArgv[i] === '--require' || process.execArgv[i] === '-r') && process.execArgv[i + 1] === loader) process.execArgv.splice(i, 2);
  }
  // Set by hand, or with no pipe to wait on: say so (the wrapper's own refusal explains every other stop).
  const misused = (why: string): never => {
    process.stderr.write(`portcullis-npm: ${HOLD_ENV} is set (${why}); it is portcullis-npm's own, for an npm it started. Nothing was run: unset ${HOLD_ENV} and run the command again.\n`);
    process.exit(HELD_NPM_STOPPED);
  };
  if (value !== String(HOLD_FD)) misused(`to ${JSON.stringify(value)}`);
  // Everything the wrapper writes, up to the end of the pipe (it closes its end after the arguments, or to stop).
  const answer = Buffer.alloc(HOLD_ANSWER_MAX_BYTES + 1);
  let length = 0;
  for (;;) {
    let read: number;
    try {
      read = readSync(HOLD_FD, answer, length, answer.length - length, null);
    } catch (error) {
      // A pipe left non-blocking answers EAGAIN until the wrapper writes: wait a millisecond and read again.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      // Before any answer this is a misuse (no pipe there); after part of one, the wrapper went away: npm does not run.
      if (length === 0) misused(`and file descriptor ${HOLD_FD} cannot be read: ${code ?? String(error)}`);
      process.exit(HELD_NPM_STOPPED);
    }
    if (read === 0) break;
    length += read;
    // Only GO starts an answer; more than any command line: not the wrapper's.
    if (answer[0] !== GO || length > HOLD_ANSWER_MAX_BYTES) process.exit(HELD_NPM_STOPPED);
  }
  try {
    closeSync(HOLD_FD);
  } catch {
    // already closed
  }
  // The pipe closed without an answer (the wrapper stopped it, or ended), or with one that is not GO and arguments.
  const args = length > 0 && answer[0] === GO ? argumentsOf(answer.subarray(1, length)) : undefined;
  if (args === undefined) process.exit(HELD_NPM_STOPPED);
  process.argv.push(...args);
}

/** npm's arguments as the wrapper wrote them after GO: a JSON array of strings, else undefined. */
function argumentsOf(bytes: Buffer): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return Array.isArray(parsed) && parsed.every((a) => typeof a === 'string') ? (parsed as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** What the wrapper writes to let a held npm run `args`. */
export function goWith(args: readonly string[]): Buffer {
  return Buffer.concat([Buffer.from([GO]), Buffer.from(JSON.stringify(args), 'utf8')]);
}
