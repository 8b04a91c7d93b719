/** Finding and running the npm the user has: `PORTCULLIS_NPM`, else `npm` on PATH. */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
// The loader's face of core (Node built-ins only): this module is bundled into the loader (bin.ts), which must not carry the engine.
import { MAX_LOCKFILE_BYTES } from '@portcullis/core/loader';
import { ALLOW, ASK, askHeadBytes, CANNOT, STOP, type ResolvedLockfile } from './ask.js';
import { ASK_FD, ASK_NONCE_BYTES, goWith, HOLD_ANSWER_MAX_BYTES, HOLD_ASK_VALUE, HOLD_ENV, HOLD_FD } from './hold.js';

/** How to start npm: an executable and the arguments that precede npm's own. */
export interface NpmBinary {
  command: string;
  prefixArgs: string[];
  /** npm's version, when it could be read from its package.json. */
  version: string | undefined;
}

function versionNear(file: string): string | undefined {
  // npm-cli.js lives in <npm>/bin/; its package.json one level up.
  for (let dir = dirname(file), i = 0; i < 3; i++, dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'npm' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // not here
    }
  }
  return undefined;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The npm to run: a `.js`/`.cjs` file runs with this Node, anything else is executed directly. */
export function locateNpm(env: NodeJS.ProcessEnv): NpmBinary {
  const configured = env.PORTCULLIS_NPM;
  const target = configured !== undefined && configured !== '' ? configured : onPath('npm', env);
  if (target === undefined) throw new Error('npm was not found on PATH; set PORTCULLIS_NPM to npm-cli.js or an npm binary');
  let real = target;
  try {
    real = realpathSync(target);
  } catch {
    // a bare command name: let spawn find it
  }
  const version = versionNear(real);
  if (/\.c?js$/.test(real)) return { command: process.execPath, prefixArgs: [real], version };
  return { command: target, prefixArgs: [], version };
}

export interface NpmRun {
  code: number;
  /** Captured output (empty when it went to the terminal). */
  stdout: string;
  stderr: string;
}

/** npm's exit code as the wrapper passes it on: a signal's conventional code when npm was killed. */
const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null): number => code ?? (signal === 'SIGINT' ? 130 : 128 + 15);

/** Runs `wait` (npm running in the foreground) with Ctrl-C and SIGTERM left to npm: the wrapper waits, then cleans up. */
async function whileNpmRuns<T>(wait: () => Promise<T>): Promise<T> {
  // The terminal sends Ctrl-C to npm too.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  try {
    return await wait();
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', ignore);
  }
}

/** Runs npm; `inherit` shows its output as is, otherwise it is captured. Never throws for a failing npm. */
export function runNpm(npm: NpmBinary, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; inherit: boolean }): Promise<NpmRun> {
  return whileNpmRuns(
    () =>
      new Promise((resolve, reject) => {
        const child = spawn(npm.command, [...npm.prefixArgs, ...args], {
          cwd: options.cwd,
          env: options.env,
          stdio: options.inherit ? 'inherit' : ['inherit', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code: exitCodeOf(code, signal), stdout, stderr }));
      }),
  );
}

/** The environment for npm runs that must run nothing; inherited by nested npm processes (git dependencies). */
export function quietEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, npm_config_ignore_scripts: 'true' };
}

/**
 * How a held npm let go with `goAsking` ended: `cannot` — it could not ask, and ended without installing anything (or
 * was never held): run the command the usual way; `allowed` / `stopped` — it asked, and `judge` answered; `unasked` — it
 * ended without asking (npm failed before it had resolved, or did not install).
 */
export type AskOutcome = 'cannot' | 'allowed' | 'stopped' | 'unasked';

/** An npm started early (hold.ts): it runs only after `go`; `stop` ends it before it has read anything. */
export interface HeldNpm {
  /** Lets npm run `args` (its output to the terminal) and waits for it, as runNpm does. Once. */
  go(args: string[]): Promise<NpmRun>;
  /**
   * Lets npm run `args`, which resolve and install, asking `judge` about the lockfile npm resolved before it installs
   * anything (ask.ts): npm goes on only when `judge` resolves true, and ends at once otherwise. Once, instead of `go`.
   */
  goAsking(args: string[], judge: (lockfile: ResolvedLockfile) => Promise<boolean>): Promise<NpmRun & { outcome: AskOutcome }>;
  /** Ends the held npm without letting it run; resolves once it exited. Nothing after `go`. */
  stop(): Promise<void>;
  /** The held process (undefined when npm could not be held and starts at `go`). */
  readonly pid: number | undefined;
}

/**
 * Whether `npm` can be held (`holdWith`: the wrapper's own file, as CommonJS): only an npm that is a script this Node
 * runs (`--require` is this Node's option), and not on Windows (a child's extra pipes are handed over differently
 * there, and a failed read would end every install).
 */
export function canHold(npm: NpmBinary, holdWith: string | undefined): holdWith is string {
  return holdWith !== undefined && process.platform !== 'win32' && npm.command === process.execPath && npm.prefixArgs.length === 1;
}

/**
 * Starts npm now, held before npm's own code loads until `go` says what to run (hold.ts), so that its Node starts
 * while the wrapper decides. An npm that cannot be held (canHold) is started by `go`, as is one whose held process
 * already ended. The held process is not waited for by this one's event loop: if the wrapper ends without `go` (an
 * exception, a signal, a damaged engine), the pipe closes and the held npm ends unrun.
 */
export function holdNpm(npm: NpmBinary, options: { cwd: string; env: NodeJS.ProcessEnv; holdWith: string | undefined }): HeldNpm {
  const { holdWith } = options;
  // npm started the usual way, when it cannot be (or no longer is) held.
  const startNow = (args: string[]) => runNpm(npm, args, { cwd: options.cwd, env: options.env, inherit: true });
  let state: 'held' | 'going' | 'stopped' = 'held';
  const going = () => {
    if (state !== 'held') throw new Error(`npm was ${state === 'going' ? 'already let go' : 'stopped'}`);
    state = 'going';
  };
  if (!canHold(npm, holdWith)) {
    return {
      pid: undefined,
      go: async (args) => {
        going();
        return startNow(args);
      },
      goAsking: async () => {
        going();
        return { code: 0, stdout: '', stderr: '', outcome: 'cannot' };
      },
      stop: async () => {
        if (state === 'held') state = 'stopped';
      },
    };
  }
  const stdio: Array<'inherit' | 'pipe'> = ['inherit', 'inherit', 'inherit'];
  stdio[HOLD_FD] = 'pipe';
  stdio[ASK_FD] = 'pipe';
  const child = spawn(npm.command, ['--require', holdWith, ...npm.prefixArgs], { cwd: options.cwd, env: { ...options.env, [HOLD_ENV]: HOLD_ASK_VALUE }, stdio });
  const pipe = child.stdio[HOLD_FD] as Socket;
  const askPipe = child.stdio[ASK_FD] as Socket;
  // A held npm that ends as it is let go makes the write fail: its exit is what go() reports.
  pipe.on('error', () => {});
  askPipe.on('error', () => {});
  child.unref();
  pipe.unref();
  askPipe.unref();
  // Ended while still held (it could not start, or its wait failed): npm never ran, and go() starts it the usual way.
  let endedHeld = false;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  void ended.then(() => {
    if (state === 'held') endedHeld = true;
  });
  return {
    pid: child.pid,
    async go(args) {
      going();
      const answer = goWith(args);
      // More than a held npm reads (a command line no shell passes): it is ended unrun, and npm started the usual way.
      if (answer.length > HOLD_ANSWER_MAX_BYTES) {
        pipe.destroy();
        await ended;
        return startNow(args);
      }
      if (endedHeld) return startNow(args);
      askPipe.destroy();
      child.ref();
      return whileNpmRuns(async () => {
        pipe.end(answer);
        const { code, signal, error } = await ended;
        if (error !== undefined) throw error;
        return { code: exitCodeOf(code, signal), stdout: '', stderr: '' };
      });
    },
    async goAsking(args, judge) {
      going();
      const nonce = randomBytes(ASK_NONCE_BYTES);
      const answer = goWith(args, nonce);
      if (answer.length > HOLD_ANSWER_MAX_BYTES || endedHeld) {
        pipe.destroy();
        askPipe.destroy();
        await ended;
        return { code: 0, stdout: '', stderr: '', outcome: 'cannot' };
      }
      child.ref();
      return whileNpmRuns(async () => {
        const asked = answerQuestion(askPipe, nonce, judge, () => child.kill('SIGKILL'));
        pipe.end(answer);
        const { code, signal, error } = await ended;
        const { outcome, failure } = await asked.settled();
        if (error !== undefined) throw error;
        if (failure !== undefined) throw failure;
        return { code: exitCodeOf(code, signal), stdout: '', stderr: '', outcome };
      });
    },
    async stop() {
      if (state !== 'held') return;
      state = 'stopped';
      askPipe.destroy();
      pipe.destroy();
      child.ref();
      await ended;
    },
  };
}

/** The most bytes of a held npm's question: the lockfile's largest text, every character escaped in JSON. */
const MAX_QUESTION_BYTES = 6 * MAX_LOCKFILE_BYTES + 64 * 1024;

/**
 * The wrapper's side of ask.ts: reads the held npm's one question from `askPipe`, has `judge` decide and answers ALLOW
 * or STOP. Anything else on the pipe — another nonce, a second question, more than a question holds, text that is not
 * `{ file, text }` — ends npm (`kill`) without an answer. `settled` resolves once npm ended and any judging is over.
 */
function answerQuestion(askPipe: Socket, nonce: Buffer, judge: (lockfile: ResolvedLockfile) => Promise<boolean>, kill: () => void) {
  let outcome: AskOutcome = 'unasked';
  let failure: unknown;
  let judging: Promise<void> | undefined;
  const head = askHeadBytes(nonce.length);
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const refuse = (why: string) => {
    done = true;
    failure ??= new Error(`npm's question about the lockfile it resolved was not npm's (${why}); nothing was installed`);
    outcome = 'stopped';
    askPipe.destroy();
    kill();
  };
  askPipe.on('data', (chunk: Buffer) => {
    if (done) return refuse('more than one question');
    chunks.push(chunk);
    size += chunk.length;
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (bytes[0] === CANNOT) {
      if (size !== 1) return refuse('more after CANNOT');
      done = true;
      outcome = 'cannot';
      return;
    }
    if (bytes[0] !== ASK) return refuse('not a question');
    if (size < head) return;
    if (!bytes.subarray(1, 1 + nonce.length).equals(nonce)) return refuse('another nonce');
    const length = bytes.readUInt32BE(1 + nonce.length);
    if (length > MAX_QUESTION_BYTES) return refuse(`${length} bytes`);
    if (size < head + length) return;
    if (size > head + length) return refuse('more than the question');
    done = true;
    let lockfile: ResolvedLockfile;
    try {
      const parsed = JSON.parse(bytes.subarray(head).toString('utf8')) as Partial<ResolvedLockfile> | null;
      if (typeof parsed?.file !== 'string' || typeof parsed.text !== 'string') throw new Error('not { file, text }');
      lockfile = { file: parsed.file, text: parsed.text };
    } catch (error) {
      return refuse(error instanceof Error ? error.message : String(error));
    }
    chunks.length = 0;
    judging = judge(lockfile).then(
      (allowed) => {
        outcome = allowed ? 'allowed' : 'stopped';
        if (allowed) {
          askPipe.end(Buffer.from([ALLOW]));
        } else {
          askPipe.end(Buffer.from([STOP]));
          kill();
        }
      },
      (error: unknown) => {
        failure = error;
        outcome = 'stopped';
        askPipe.end(Buffer.from([STOP]));
        kill();
      },
    );
  });
  return {
    /** Once npm ended: how it ended, and what went wrong on the wrapper's side. */
    async settled(): Promise<{ outcome: AskOutcome; failure: unknown }> {
      askPipe.destroy();
      await judging;
      return { outcome, failure };
    },
  };
}

/** `major.minor` of a version as numbers, for feature checks. */
export function versionAtLeast(version: string | undefined, major: number, minor = 0): boolean {
  if (version === undefined) return false;
  const [a, b] = version.split('.').map((n) => Number.parseInt(n, 10));
  if (a === undefined || Number.isNaN(a)) return false;
  return a > major || (a === major && (b ?? 0) >= minor);
}
