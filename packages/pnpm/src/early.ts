/**
 * pnpm 12 runs `updateConfig` in a first hook worker and loads the pnpmfile again in a second one only after that
 * hook returned; it takes the hook list from the second. Declaring `preResolution` there costs every pnpm 12 install
 * the wanted lockfile's trip to that worker, even when the hook then does nothing (measured, 300 packages, a no-op
 * pnpmfile with and without the hook: frozen 943 → 686 ms, warm 227 → 200 ms).
 *
 * So when updateConfig can judge the very lockfile pnpm installs — an install command, or `add`, `update`, `remove` or
 * `dedupe` (each starts from that lockfile), with none of the settings that make pnpm read another lockfile than
 * `<lockfileDir>/pnpm-lock.yaml` — it judges it there (hooks.ts), before pnpm fetches anything, and leaves the second
 * worker of the same pnpm process a token: "these lockfile bytes were judged and allowed, and these builds were
 * announced". The second worker, finding it, declares no `preResolution`. Where
 * there is no lockfile at all (a fresh resolution, judged by readPackage and afterAllResolved), the token says so, and
 * the second worker declares no `preResolution` while there is still none: pnpm would hand it an empty lockfile, and
 * pnpm wraps each call of that hook in an AsyncLocalStorage, which makes every promise and callback of the worker's
 * process pay for async hooks for the rest of the install (measured, a fresh resolution of 1,000 packages: the worker's
 * CPU 352.9 → 327.4 ms, 30 rounds; docs/benchmarks.md, "Thirty-eighth round").
 *
 * The token decides whether a check runs, so it is not a hint. It is named by pnpm's pid and start time (no other pnpm
 * process, nor a later one that reuses the pid, can find it) and kept in this user's state folder, beside the memo
 * secret and never in the cache folder (state-file.ts: believed for where it is, like the secret), valid for two
 * minutes, and believed only while the lockfile still has the bytes judged: the token carries the lockfile's settled
 * stamp, taken before it was read (file-state.ts: one stat checks it), or, for a lockfile changed in the last few
 * seconds, its bytes, compared with the file (no hash, so that worker loads no `node:crypto`); or, when there was none,
 * only while there is still none (a lockfile there by then is handed to preResolution as before). Without /proc, with another
 * lockfile, or with a token missing, stale, malformed or not this user's, the second worker declares `preResolution`
 * as before and pnpm hands it the lockfile to judge.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { PnpmProcess } from './ancestor.js';
import { stillHeld, type FileState } from './file-state.js';
import { fetchSeenByUpdateConfigAlone } from './quirks.js';
import { perProcessFile, readStateFile, writeStateFile } from './state-file.js';

const FOLDER = 'pnpm-judged-v3';
/** The token and the lockfile's bytes it carries (a lockfile larger than this is judged by preResolution). */
const MAX_BYTES = 64 * 1024 * 1024;
const MAX_NOTICED = 10_000;
/** updateConfig returns, pnpm starts the second worker and it loads the pnpmfile: well under a second (measured). */
const VALID_MS = 2 * 60 * 1000;

/**
 * The commands whose lockfile updateConfig may judge (pnpm with no command installs too): an install, and the commands
 * that change the dependencies and then install (`add`, `update`, `remove` and their aliases, `dedupe`). Each starts from the
 * same `<lockfileDir>/pnpm-lock.yaml` that preResolution would be handed; what it resolves anew is judged by readPackage
 * and afterAllResolved, as on an install whose package.json changed. Not a global one (`-g`: pnpm's global folder has
 * lockfiles of its own).
 */
const INSTALL_COMMANDS = new Set(['install', 'i', 'ci', 'add', 'update', 'up', 'upgrade', 'remove', 'rm', 'uninstall', 'un', 'dedupe']);
/**
 * Commands whose following words go to a script or a binary: a `fetch` after them is not pnpm's command.
 */
const PASSES_WORDS_ON = new Set(['run', 'run-script', 'exec', 'dlx', 'create', 'test', 't', 'tst', 'start', 'stop', 'restart']);
/** Of those, the ones that only install what package.json and the lockfile name. */
const INSTALL_ONLY = new Set(['install', 'i', 'ci']);

/**
 * Whether pnpm's command (`argv`, flags first) only installs: run again with nothing changed, pnpm resolves nothing
 * anew, so updateConfig's answer to it may be recorded and replayed (replay.ts), and a replayed answer need not tell the
 * other workers pnpm's registries (told.ts). `add`, `update`, `remove` and `dedupe` may resolve anew however often they
 * are run (`pnpm update` with a newer version published): their answer is decided, and told, every time.
 */
export function installsOnly(argv: readonly string[]): boolean {
  const command = commandOf(argv);
  return command === undefined || INSTALL_ONLY.has(command);
}

/**
 * Whether pnpm's command (`argv`, flags first) installs: an install (pnpm with no command too) or a command that changes
 * the dependencies and then installs. In a project without a lockfile, each resolves the whole graph.
 */
export function installs(argv: readonly string[]): boolean {
  const command = commandOf(argv);
  return command === undefined || INSTALL_COMMANDS.has(command);
}

/**
 * The flags before pnpm's command whose value is the next argument and which leave the lockfile where it is: a
 * workspace's projects selected (`pnpm --filter app install`; one lockfile for the workspace all the same).
 */
const SELECTING = new Set(['--filter', '-F', '--filter-prod']);

/**
 * pnpm's command in its command line: the first argument that is neither a flag nor a selecting flag's value (none:
 * pnpm installs). Any other flag with a value before the command (`-C dir`) makes its value look like the command, so
 * such a command line is never taken for an install.
 */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (SELECTING.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * Command-line and configuration keys with which pnpm 12 may read another lockfile than `<lockfileDir>/pnpm-lock.yaml`
 * (git-branch lockfiles, one lockfile per project, no lockfile, another lockfile folder than the one updateConfig is
 * told). `frozenLockfile`, `preferFrozenLockfile` and `lockfileOnly` do not change which file is read.
 */
const OTHER_LOCKFILE = /lockfile/i;
const SAME_LOCKFILE = new Set(['frozenLockfile', 'noFrozenLockfile', 'preferFrozenLockfile', 'noPreferFrozenLockfile', 'lockfileOnly']);

/**
 * Whether updateConfig can judge the lockfile pnpm installs: pnpm 12 (its worker layout), an install command (or `add`,
 * `update`, `remove`, `dedupe`) known from pnpm's own command line (`argv`: flags first, then the command; a workspace's projects
 * may be selected before it), not a global one, and no setting that selects another lockfile.
 */
export function judgesLockfileFirst(config: Record<string, unknown>, argv: readonly string[] | undefined, major: number): boolean {
  if (major < 12 || argv === undefined) return false;
  const command = commandOf(argv);
  // Another flag that takes a value (`-C dir`) makes `dir` look like the command: not an install then.
  if (command !== undefined && !INSTALL_COMMANDS.has(command) && !mayFetch(argv)) return false;
  if (config.global === true || argv.some((a) => a === '-g' || a === '--global' || a.startsWith('--global='))) return false;
  for (const arg of argv) {
    if (!arg.startsWith('--')) continue;
    const key = arg.slice(2).split('=')[0]!.replace(/^config\./, '').replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
    if (OTHER_LOCKFILE.test(key) && !SAME_LOCKFILE.has(key)) return false;
  }
  const truthy = (key: string) => config[key] !== undefined && config[key] !== false && config[key] !== null && !(Array.isArray(config[key]) && (config[key] as unknown[]).length === 0);
  if (truthy('gitBranchLockfile') || truthy('mergeGitBranchLockfiles') || truthy('mergeGitBranchLockfilesBranchPattern')) return false;
  if (config.sharedWorkspaceLockfile === false || config.useLockfile === false || config.lockfile === false) return false;
  return true;
}

/**
 * Whether pnpm's command line may be a `fetch`: pnpm 12 then links every package of the lockfile into its virtual store
 * and builds what allowBuilds allows, and shows no hook after updateConfig the lockfile (quirks.ts
 * `fetchSeenByUpdateConfigAlone`). Read so that no spelling escapes: the word `fetch` anywhere among the command line's
 * words (not a selecting flag's value, not after `--`) — after a flag with a value (`-C dir fetch`, `--store-dir x
 * fetch`), `recursive`/`m`/`multi fetch`, `with current fetch` (measured: each fetched and built on 12.24.0) — unless the
 * command hands its words to a script or binary (`run fetch`). A doubt costs a judgement of the lockfile, never a skip.
 */
function mayFetch(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return false;
    if (SELECTING.has(arg)) i++;
    else if (arg === 'fetch') return !PASSES_WORDS_ON.has(commandOf(argv) ?? '');
  }
  return false;
}

/**
 * Whether pnpm's command line (`argv`, flags first) may be one whose lockfile no hook after updateConfig sees (pnpm 12's
 * `fetch`): updateConfig then judges it or refuses, never leaves it to a preResolution that does not come.
 */
export function lockfileSeenByUpdateConfigAlone(argv: readonly string[] | undefined, major: number): boolean {
  return argv !== undefined && fetchSeenByUpdateConfigAlone(major) && mayFetch(argv);
}

interface Token {
  pnpmfile: string;
  pid: number;
  startTime: string;
  lockfile: string;
  /** The lockfile's settled stamp; absent when the token carries its bytes instead, or says there is none. */
  stamp?: string;
  /** There was no lockfile: nothing for preResolution to judge (the resolution's hooks judge what pnpm resolves). */
  absent?: true;
  noticed: string[];
  at: number;
}

/** The token's file for this pnpm process and pnpmfile: `<pid>-<start time>-<name of the pnpmfile's path>`. */
const location = (pnpmfile: string, pnpm: PnpmProcess, env: NodeJS.ProcessEnv): string | undefined => perProcessFile(FOLDER, pnpmfile, pnpm, env);

/** sha256 (hex) of a lockfile's bytes (the key of its remembered verdict, hooks.ts). */
export const lockfileDigest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * updateConfig, after judging `lockfile` allowed (`judged`: its state taken before the bytes judged were read, a stamp
 * or those bytes; file-state.ts), or after finding none there (`judged` null: a fresh resolution, which readPackage and
 * afterAllResolved judge): the token for the second worker of this pnpm process.
 */
export function leaveLockfileJudged(
  pnpmfile: string,
  pnpm: PnpmProcess,
  lockfile: string,
  judged: string | Buffer | null,
  noticed: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  now: number = Date.now(),
): boolean {
  try {
    const file = location(pnpmfile, pnpm, env);
    if (file === undefined || noticed.length > MAX_NOTICED || !isAbsolute(lockfile) || (judged instanceof Uint8Array && judged.byteLength > MAX_BYTES / 2)) return false;
    const state = judged === null ? { absent: true as const } : typeof judged === 'string' ? { stamp: judged } : {};
    const token: Token = { pnpmfile, pid: pnpm.pid, startTime: pnpm.startTime!, lockfile, ...state, noticed: [...noticed], at: now };
    writeStateFile(file, FOLDER, token, judged instanceof Uint8Array ? [judged] : [], VALID_MS, now);
    return true;
  } catch {
    // Not written: the second worker declares preResolution and judges the lockfile again.
    return false;
  }
}

function isToken(value: unknown): value is Token {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t.pnpmfile === 'string' &&
    typeof t.pid === 'number' &&
    typeof t.startTime === 'string' &&
    typeof t.lockfile === 'string' &&
    isAbsolute(t.lockfile) &&
    (t.stamp === undefined || (typeof t.stamp === 'string' && t.stamp.length < 256)) &&
    (t.absent === undefined || (t.absent === true && t.stamp === undefined)) &&
    Array.isArray(t.noticed) &&
    t.noticed.length <= MAX_NOTICED &&
    t.noticed.every((n) => typeof n === 'string' && n.length < 1024) &&
    typeof t.at === 'number' &&
    Number.isFinite(t.at)
  );
}

/**
 * The second worker, loading: what updateConfig of this same pnpm process judged, if its token is there and the
 * lockfile still has the judged bytes (then no `preResolution` is declared); or, `absent`, that it found no lockfile
 * and there still is none (a fresh resolution: no `preResolution` either, nothing else changes); undefined otherwise.
 * Any worker of that pnpm process may read it (pnpm may start more than two): each is told the same thing about the
 * same bytes.
 */
export function lockfileJudgedFirst(
  pnpmfile: string,
  pnpm: PnpmProcess | undefined,
  env: NodeJS.ProcessEnv = process.env,
  now: number = Date.now(),
): { lockfile: string; noticed: string[]; absent: boolean } | undefined {
  try {
    const file = pnpm === undefined ? undefined : location(pnpmfile, pnpm, env);
    // Looked for first: every pnpm 12 install's first worker finds none (its updateConfig leaves it; failing to open it
    // cost ~0.13 ms there, looking ~0.02 in the worker that finds it).
    const stored = file === undefined ? undefined : readStateFile(file, FOLDER, MAX_BYTES, true);
    if (stored === undefined) return undefined;
    const token = stored.header;
    if (!isToken(token) || token.pnpmfile !== pnpmfile || token.pid !== pnpm!.pid || token.startTime !== pnpm!.startTime) return undefined;
    if (now - token.at < 0 || now - token.at > VALID_MS) return undefined;
    // Its stamp, its bytes, or none there: one of the three, never neither.
    const blobs = stored.blobs.length;
    const judged: FileState | undefined = token.absent === true ? (blobs === 0 ? null : undefined) : token.stamp !== undefined ? (blobs === 0 ? token.stamp : undefined) : blobs === 1 ? stored.blobs[0]! : undefined;
    if (judged === undefined || stillHeld(token.lockfile, judged, now) === undefined) return undefined;
    return { lockfile: token.lockfile, noticed: token.noticed, absent: judged === null };
  } catch {
    // No token (the usual case on pnpm 10 and 11, and whenever updateConfig did not judge): preResolution judges.
    return undefined;
  }
}
