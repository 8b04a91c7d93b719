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
/**
 * The byte that lets a held npm go on and resolve, but not install before the wrapper judged what it resolved
 * (ask.ts): ASK_NONCE_BYTES of nonce follow it, then npm's arguments as after GO.
 */
export const GO_ASK = 0x6a;
/** The nonce a held npm that asks (GO_ASK) sends back with its question, so that the wrapper knows the question is its npm's. */
export const ASK_NONCE_BYTES = 16;
/** The held npm's second pipe (the child's fifth stdio entry): where it asks before installing (ask.ts); closed otherwise. */
export const ASK_FD = 4;
/**
 * HOLD_ENV's value: the file descriptor to wait on, or that and ASK_FD when the wrapper handed that pipe over too (only
 * then is ASK_FD this process's to use or close: otherwise it may be one of Node's own).
 */
export const HOLD_VALUE = String(HOLD_FD);
export const HOLD_ASK_VALUE = `${HOLD_FD},${ASK_FD}`;
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
export function waitForGo(value: string, loader: string): { ask: Buffer | undefined } {
  delete process.env[HOLD_ENV];
  for (let i = process.execArgv.length - 2; i >= 0; i--) {
    if ((process.execArgv[i] === '--require' || process.execArgv[i] === '-r') && process.execArgv[i + 1] === loader) process.execArgv.splice(i, 2);
  }
  // Set by hand, or with no pipe to wait on: say so (the wrapper's own refusal explains every other stop).
  const misused = (why: string): never => {
    process.stderr.write(`portcullis-npm: ${HOLD_ENV} is set (${why}); it is portcullis-npm's own, for an npm it started. Nothing was run: unset ${HOLD_ENV} and run the command again.\n`);
    process.exit(HELD_NPM_STOPPED);
  };
  if (value !== HOLD_VALUE && value !== HOLD_ASK_VALUE) misused(`to ${JSON.stringify(value)}`);
  const askPipe = value === HOLD_ASK_VALUE;
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
    // Only GO or GO_ASK starts an answer; more than any command line: not the wrapper's.
    if ((answer[0] !== GO && answer[0] !== GO_ASK) || length > HOLD_ANSWER_MAX_BYTES) process.exit(HELD_NPM_STOPPED);
  }
  closeQuietly(HOLD_FD);
  // The pipe closed without an answer (the wrapper stopped it, or ended), or with one that is not GO and arguments.
  const asks = length > 0 && answer[0] === GO_ASK;
  const start = asks ? 1 + ASK_NONCE_BYTES : 1;
  const args = length >= start && (answer[0] === GO || asks) ? argumentsOf(answer.subarray(start, length)) : undefined;
  if (args === undefined || (asks && !askPipe)) process.exit(HELD_NPM_STOPPED);
  // Only an npm that asks keeps its second pipe; nothing npm starts gets it otherwise.
  if (askPipe && !asks) closeQuietly(ASK_FD);
  process.argv.push(...args);
  return { ask: asks ? Buffer.from(answer.subarray(1, start)) : undefined };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // not open
  }
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

/** What the wrapper writes to let a held npm run `args`; with a nonce, to let it resolve and ask before it installs (ask.ts). */
export function goWith(args: readonly string[], askNonce?: Buffer): Buffer {
  if (askNonce !== undefined && askNonce.length !== ASK_NONCE_BYTES) throw new Error(`the nonce must be ${ASK_NONCE_BYTES} bytes`);
  const head = askNonce === undefined ? Buffer.from([GO]) : Buffer.concat([Buffer.from([GO_ASK]), askNonce]);
  return Buffer.concat([head, Buffer.from(JSON.stringify(args), 'utf8')]);
}
