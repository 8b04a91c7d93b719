/**
 * npm started early and held: the wrapper starts npm's own Node process while it is still deciding, so that Node's
 * start (~70 ms on the machines the benchmarks run on) is paid beside the decision instead of after it. The held
 * process loads this loader first (`node --require <portcullis-npm.js> npm-cli.js …`), which blocks on a pipe the
 * wrapper holds before npm's own code is even loaded: npm reads nothing, writes nothing and runs nothing until the
 * wrapper writes GO. Anything else — the wrapper stops it, exits, is killed, or writes something else — ends the
 * process there with HELD_NPM_STOPPED.
 *
 * This module is the held side (imported by the loader, bin.ts); the wrapper's side is npm-process.ts `holdNpm`.
 */
import { closeSync, readSync } from 'node:fs';

/** Set in the held process's environment (and removed there at once): the file descriptor of the pipe to wait on. */
export const HOLD_ENV = 'PORTCULLIS_NPM_HOLD';
/** The only file descriptor a held npm waits on (the child's fourth stdio entry). */
export const HOLD_FD = 3;
/** The byte that lets a held npm go on. */
export const GO = 0x67;
/** How a held npm that was not let go ends. */
export const HELD_NPM_STOPPED = 125;

/**
 * In the held process: waits for the wrapper's answer and returns only on GO. Removes what made this process held
 * (the variable, and this loader from `process.execArgv`, which `child_process.fork` would pass on), so nothing npm
 * starts is held or loads the wrapper.
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
  const byte = Buffer.alloc(1);
  let read = 0;
  for (;;) {
    try {
      read = readSync(HOLD_FD, byte, 0, 1, null);
      break;
    } catch (error) {
      // A pipe left non-blocking answers EAGAIN until the wrapper writes: wait a millisecond and read again.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN') misused(`and file descriptor ${HOLD_FD} cannot be read: ${code ?? String(error)}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
  try {
    closeSync(HOLD_FD);
  } catch {
    // already closed
  }
  // The pipe closed (the wrapper stopped it, or ended) or said something else: npm does not run.
  if (read !== 1 || byte[0] !== GO) process.exit(HELD_NPM_STOPPED);
}
