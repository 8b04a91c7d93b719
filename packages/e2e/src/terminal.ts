/**
 * A real terminal for tests of interactive commands: tmux (`new-session -d -x 200 -y 50`, `send-keys`,
 * `capture-pane -p`) when it is on PATH, else util-linux `script -qfec` (a pseudo-terminal fed through a pipe).
 * Neither on PATH is an error that says what to install, never a silent skip.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Keys a test types: names (tmux's) or literal text. */
export type Key = 'Space' | 'Down' | 'Up' | 'Enter' | 'C-c' | { text: string };

export interface Terminal {
  /** Which driver runs it. */
  readonly driver: 'tmux' | 'script';
  /** What the terminal shows now (with scrollback), without colours. */
  screen(): Promise<string>;
  /** Types keys one after another. */
  send(...keys: Key[]): Promise<void>;
  /** Waits until the screen matches, and returns it; throws with the screen on timeout. */
  waitFor(pattern: RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<string>;
  /** The command's exit code once it has ended. */
  exitCode(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

const EXIT_MARK = '[terminal-command-exited ';

/** Whether an executable of that name is on PATH (looked up on disk: nothing is spawned while the registry serves). */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[()][A-Za-z0-9]|\u001b[=>78]|\u001b\][^\u0007]*\u0007|\r/g;

/** Which driver this machine offers; PORTCULLIS_E2E_TERMINAL=script forces the fallback (to test it where tmux exists). */
export function terminalDriver(): 'tmux' | 'script' {
  const forced = process.env.PORTCULLIS_E2E_TERMINAL;
  if (forced !== 'script' && onPath('tmux')) return 'tmux';
  if (onPath('script')) return 'script';
  throw new Error('interactive e2e tests need a real terminal: neither tmux nor script (util-linux) is on PATH — install tmux (apt-get install tmux)');
}

/** Starts `argv` in a 200×50 terminal in `cwd` with exactly `env`. */
export function openTerminal(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Terminal {
  const command = `${argv.map(shellQuote).join(' ')}; echo "${EXIT_MARK}$?]"`;
  return terminalDriver() === 'tmux' ? tmuxTerminal(command, options) : scriptTerminal(command, options);
}

async function poll(read: () => Promise<string>, test: (screen: string) => boolean, timeoutMs: number, what: string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = await read();
    if (test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`terminal: timed out waiting for ${what}; the screen shows:\n${screen}`);
    await sleep(100);
  }
}

function exitCodeOf(screen: string): number | undefined {
  const at = screen.lastIndexOf(EXIT_MARK);
  if (at < 0) return undefined;
  const code = /^(\d+)\]/.exec(screen.slice(at + EXIT_MARK.length));
  return code ? Number(code[1]) : undefined;
}

function tmuxTerminal(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Terminal {
  // A server of our own (its own socket, no user config): nothing of anyone else's tmux is touched.
  const home = mkdtempSync(join(tmpdir(), 'pc-tmux-'));
  const socket = join(home, 's');
  const env = { ...options.env, TERM: 'xterm-256color' };
  // Asynchronous: the test registry serves from this same process, so nothing may block its event loop.
  const tmux = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile('tmux', ['-S', socket, '-f', '/dev/null', ...args], { env, encoding: 'utf8' }, (error, stdout, stderr) => (error ? reject(new Error(`tmux ${args[0]} failed: ${stderr || error.message}`)) : resolve(stdout)));
    });
  // Keep the pane after the command ends, so its last screen and exit mark can be read.
  const started = tmux('new-session', '-d', '-s', 'e2e', '-x', '200', '-y', '50', '-c', options.cwd, `sh -c ${shellQuote(`${command}; sleep 600`)}`);
  const screen = async () => {
    await started;
    return (await tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', 'e2e')).replace(ANSI, '');
  };
  return {
    driver: 'tmux',
    screen,
    async send(...keys) {
      for (const key of keys) {
        await started;
        if (typeof key === 'string') await tmux('send-keys', '-t', 'e2e', key);
        else await tmux('send-keys', '-t', 'e2e', '-l', key.text);
        // Pacing only (a person types no faster): each key is still checked on the screen by the test.
        await sleep(150);
      }
    },
    waitFor: (pattern, timeoutMs = 60_000) => poll(screen, typeof pattern === 'function' ? pattern : (s) => pattern.test(s), timeoutMs, String(pattern)),
    async exitCode(timeoutMs = 60_000) {
      return exitCodeOf(await poll(screen, (s) => exitCodeOf(s) !== undefined, timeoutMs, 'the command to end'))!;
    },
    async close() {
      await tmux('kill-server').catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const KEY_BYTES: Record<string, string> = { Space: ' ', Down: '\u001b[B', Up: '\u001b[A', Enter: '\r', 'C-c': '\u0003' };

function scriptTerminal(command: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Terminal {
  // script gives the command a pseudo-terminal; its size comes from stty, as nothing else sets one.
  const child: ChildProcessWithoutNullStreams = spawn('script', ['-qfec', `stty cols 200 rows 50; ${command}`, '/dev/null'], { cwd: options.cwd, env: { ...options.env, TERM: 'xterm-256color' } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const screen = async () => output.replace(ANSI, '');
  return {
    driver: 'script',
    screen,
    async send(...keys) {
      for (const key of keys) {
        child.stdin.write(typeof key === 'string' ? KEY_BYTES[key]! : key.text);
        await sleep(150);
      }
    },
    waitFor: (pattern, timeoutMs = 60_000) => poll(screen, typeof pattern === 'function' ? pattern : (s) => pattern.test(s), timeoutMs, String(pattern)),
    async exitCode(timeoutMs = 60_000) {
      return exitCodeOf(await poll(screen, (s) => exitCodeOf(s) !== undefined, timeoutMs, 'the command to end'))!;
    },
    async close() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
