import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installs, installsOnly, judgesLockfileFirst, leaveLockfileJudged, lockfileJudgedFirst, lockfileSeenByUpdateConfigAlone } from './early.js';
import { fileState } from './file-state.js';
import type { PnpmProcess } from './ancestor.js';

const NOW = 1_800_000_000_000;
const PNPMFILE = '/work/app/.pnpmfile.cjs';
const PNPM: PnpmProcess = { pid: 4242, startTime: '991', argv: ['install', '--frozen-lockfile'] };

function setUp() {
  const base = mkdtempSync(join(tmpdir(), 'portcullis-early-'));
  const env = { PORTCULLIS_CACHE_DIR: join(base, 'cache'), PORTCULLIS_STATE_DIR: join(base, 'state') };
  const lockfile = join(base, 'pnpm-lock.yaml');
  writeFileSync(lockfile, "lockfileVersion: '9.0'\n");
  return { env, lockfile, digest: readFileSync(lockfile), folder: join(base, 'state', 'pnpm-judged-v3') };
}

describe("pnpm 12: the lockfile judged by updateConfig's worker, told to the second worker", () => {
  it('is believed by a worker of the same pnpm process, for the same pnpmfile, while the lockfile keeps its bytes', () => {
    const { env, lockfile, digest } = setUp();
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    expect(leaveLockfileJudged(PNPMFILE, PNPM, lockfile, digest, ['esbuild@0.25.0'], env, NOW)).toBe(true);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toEqual({ lockfile, noticed: ['esbuild@0.25.0'], absent: false });
    // every worker of that pnpm process may ask
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 900)).toEqual({ lockfile, noticed: ['esbuild@0.25.0'], absent: false });
  });

  it('is not believed by another pnpm process, a later one reusing the pid, another pnpmfile, or after two minutes', () => {
    const { env, lockfile, digest } = setUp();
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, digest, [], env, NOW);
    expect(lockfileJudgedFirst(PNPMFILE, { ...PNPM, pid: 4243 }, env, NOW)).toBeUndefined();
    expect(lockfileJudgedFirst(PNPMFILE, { ...PNPM, startTime: '992' }, env, NOW)).toBeUndefined();
    expect(lockfileJudgedFirst(PNPMFILE, { ...PNPM, startTime: undefined }, env, NOW)).toBeUndefined();
    expect(lockfileJudgedFirst(PNPMFILE, undefined, env, NOW)).toBeUndefined();
    expect(lockfileJudgedFirst('/work/other/.pnpmfile.cjs', PNPM, env, NOW)).toBeUndefined();
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 2 * 60 * 1000 + 1)).toBeUndefined();
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW - 1)).toBeUndefined();
  });

  it('is not believed once the lockfile has other bytes (a lockfile changed after it was judged)', () => {
    const { env, lockfile, digest } = setUp();
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, digest, [], env, NOW);
    writeFileSync(lockfile, "lockfileVersion: '9.0'\n# changed\n");
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
  });

  it('is not believed when damaged, edited to say something else, writable by others, or not in this user\'s state folder', () => {
    const { env, lockfile, digest, folder } = setUp();
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, digest, [], env, NOW);
    const [name] = readdirSync(folder);
    const file = join(folder, name!);
    const stored = readFileSync(file);
    const text = stored.toString('latin1');
    const rewrite = (value: string | Buffer) => writeFileSync(file, typeof value === 'string' ? Buffer.from(value, 'latin1') : value);
    const edited = (from: string | RegExp, to: string, what = text) => {
      const out = what.replace(from, to);
      expect(out, String(from)).not.toBe(what);
      return out;
    };

    // the token names another file than the one whose bytes it carries
    rewrite(edited(lockfile, '/etc/hostname'));
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    // other bytes than the lockfile's
    rewrite(edited("lockfileVersion: '9.0'", "lockfileVersion: '6.0'"));
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    // another pnpm process's token copied under this one's name
    rewrite(edited('"pid":4242', '"pid":4243'));
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    const head = text.slice(0, text.indexOf('\n', text.indexOf('\n') + 1) + 1);
    const body = text.slice(head.length);
    for (const hostile of ['', 'portcullis pnpm-judged-v3\n', `portcullis pnpm-replay-v3\n${text.slice(text.indexOf('\n') + 1)}`, head + body.slice(1), `${text}x`, edited(/"sizes":\[\d+\]/, '"sizes":[-1]', head) + body, edited(/"sizes":\[\d+\]/, '"sizes":[1e999]', head) + body, 'x'.repeat(300 * 1024)]) {
      rewrite(hostile);
      expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW), JSON.stringify(hostile.slice(0, 80))).toBeUndefined();
    }
    // a `__proto__` key is only a key: nothing else changes
    rewrite(edited(/"header":\{/, '"header":{"__proto__":{"at":0,"polluted":1},', head) + body);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeDefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // the original again: believed (the checks above were what refused)
    rewrite(stored);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeDefined();
    // a link to a token (even this user's own, whole) is not followed
    renameSync(file, `${file}.real`);
    symlinkSync(`${file}.real`, file);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    unlinkSync(file);
    renameSync(`${file}.real`, file);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeDefined();
    // a token others may write is not this user's word
    chmodSync(file, 0o666);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    chmodSync(file, 0o600);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeDefined();
    // only this user's state folder is looked in: another one (another user, or a token put in the cache folder, which
    // a CI may restore from elsewhere) says nothing about this install
    const other = { ...env, PORTCULLIS_STATE_DIR: join(env.PORTCULLIS_STATE_DIR, 'other-user') };
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, other, NOW)).toBeUndefined();
    mkdirSync(join(env.PORTCULLIS_CACHE_DIR, 'pnpm-judged-v3'), { recursive: true });
    writeFileSync(join(env.PORTCULLIS_CACHE_DIR, 'pnpm-judged-v3', name!), stored);
    rewrite('');
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
  });

  it('no lockfile (a fresh resolution): believed while there is still none; a lockfile appearing, or a token that says both, ends it', () => {
    const { env, lockfile, digest, folder } = setUp();
    unlinkSync(lockfile);
    expect(leaveLockfileJudged(PNPMFILE, PNPM, lockfile, null, [], env, NOW)).toBe(true);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toEqual({ lockfile, noticed: [], absent: true });
    // the same checks as any token: another pnpm process, or too late
    expect(lockfileJudgedFirst(PNPMFILE, { ...PNPM, pid: 4243 }, env, NOW)).toBeUndefined();
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 2 * 60 * 1000 + 1)).toBeUndefined();
    // a lockfile there now (written after updateConfig looked): pnpm reads it, so preResolution must judge it
    writeFileSync(lockfile, digest);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toBeUndefined();
    unlinkSync(lockfile);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toBeDefined();
    // a token saying there was none and carrying a stamp or bytes all the same says two things: not believed
    const [name] = readdirSync(folder);
    const file = join(folder, name!);
    const text = readFileSync(file, 'latin1');
    writeFileSync(file, Buffer.from(text.replace('"absent":true', '"absent":true,"stamp":"1:2:3"'), 'latin1'));
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toBeUndefined();
    writeFileSync(file, Buffer.from(text.replace('"absent":true', '"absent":false'), 'latin1'));
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toBeUndefined();
    // a token for bytes, read back while there is no lockfile: not believed either
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, digest, [], env, NOW);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toBeUndefined();
  });

  it("a lockfile not changed for a few seconds: the token carries its stamp, and any change to the file ends it", async () => {
    const { env, lockfile, folder } = setUp();
    // NOW is later than the file's change by far more than a stamp needs to settle: the state is a stamp, not bytes.
    const stamp = fileState(lockfile, NOW);
    expect(typeof stamp).toBe('string');
    expect(leaveLockfileJudged(PNPMFILE, PNPM, lockfile, stamp!, [], env, NOW)).toBe(true);
    const [name] = readdirSync(folder);
    const file = join(folder, name!);
    const stored = readFileSync(file);
    expect(stored.toString('latin1')).not.toContain('lockfileVersion');
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW + 500)).toEqual({ lockfile, noticed: [], absent: false });
    // The stamp edited in the token, or a token carrying both a stamp and bytes: not believed.
    const text = stored.toString('latin1');
    for (const forged of [text.replace(/"stamp":"(\d+):/, '"stamp":"1$1:'), text.replace('"sizes":[]', '"sizes":[1]') + 'x']) {
      expect(forged).not.toBe(text);
      writeFileSync(file, forged, 'latin1');
      expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    }
    writeFileSync(file, stored);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeDefined();
    // The kernel's clock moves on between changes (ctime is kept in steps as coarse as a few milliseconds).
    const tick = () => new Promise((done) => setTimeout(done, 30));
    const changes: Array<[string, () => void]> = [
      ['the same number of other bytes', () => writeFileSync(lockfile, "lockfileVersion: '6.0'\n")],
      ['the same bytes written again', () => writeFileSync(lockfile, "lockfileVersion: '9.0'\n")],
      ['its times set back', () => utimesSync(lockfile, new Date(2020, 1, 1), new Date(2020, 1, 1))],
      ['another file renamed over it', () => {
        copyFileSync(lockfile, `${lockfile}.copy`);
        renameSync(`${lockfile}.copy`, lockfile);
      }],
    ];
    for (const [what, change] of changes) {
      const now = fileState(lockfile, NOW)!;
      leaveLockfileJudged(PNPMFILE, PNPM, lockfile, now, [], env, NOW);
      expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW), what).toBeDefined();
      await tick();
      change();
      expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW), what).toBeUndefined();
    }
    // Gone: not believed either.
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, fileState(lockfile, NOW)!, [], env, NOW);
    unlinkSync(lockfile);
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
  });

  it('a lockfile changed in the last few seconds: its bytes, not its stamp (a stat cannot vouch for them yet)', () => {
    const { env, lockfile, folder } = setUp();
    const now = Date.now();
    const state = fileState(lockfile, now);
    expect(Buffer.isBuffer(state)).toBe(true);
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, state!, [], env, now);
    expect(readFileSync(join(folder, readdirSync(folder)[0]!), 'latin1')).toContain("lockfileVersion: '9.0'");
    expect(lockfileJudgedFirst(PNPMFILE, PNPM, env, now)).toBeDefined();
  });

  it('drops tokens of old installs as new ones are written (once the writer is done with its answer)', async () => {
    const { env, lockfile, digest, folder } = setUp();
    const now = Date.now();
    for (let pid = 1; pid <= 5; pid++) leaveLockfileJudged(PNPMFILE, { ...PNPM, pid }, lockfile, digest, [], env, now);
    await new Promise((done) => setImmediate(done));
    expect(readdirSync(folder)).toHaveLength(5);
    // the files' own times are now; an install three minutes later finds them old
    leaveLockfileJudged(PNPMFILE, PNPM, lockfile, digest, [], env, now + 3 * 60 * 1000);
    expect(readdirSync(folder)).toHaveLength(6);
    await new Promise((done) => setImmediate(done));
    expect(readdirSync(folder)).toHaveLength(1);
  });
});

describe('which pnpm 12 installs updateConfig judges the lockfile of', () => {
  const plain = {};
  it('an install with the plain lockfile settings, frozen or not', () => {
    for (const argv of [[], ['install'], ['i'], ['ci'], ['install', '--frozen-lockfile'], ['--frozen-lockfile'], ['install', '--no-frozen-lockfile'], ['install', '--prefer-frozen-lockfile'], ['install', '--lockfile-only'], ['install', '--store-dir=/s', '--config.confirmModulesPurge=false']]) {
      expect(judgesLockfileFirst(plain, argv, 12), argv.join(' ')).toBe(true);
    }
  });

  it('not pnpm 10 or 11, nor when the command line is unknown', () => {
    expect(judgesLockfileFirst(plain, ['install'], 11)).toBe(false);
    expect(judgesLockfileFirst(plain, ['install'], 10)).toBe(false);
    expect(judgesLockfileFirst(plain, undefined, 12)).toBe(false);
  });

  it('the commands that change the dependencies, then install from the same lockfile: add, update, remove, dedupe', () => {
    for (const argv of [['add', 'x'], ['add', 'x@1.0.0', '--save-dev'], ['update'], ['up', '--latest'], ['upgrade', 'x'], ['remove', 'x'], ['rm', 'x'], ['uninstall', 'x'], ['un', 'x'], ['add', 'x', '--lockfile-only'], ['dedupe'], ['dedupe', '--check']]) {
      expect(judgesLockfileFirst(plain, argv, 12), argv.join(' ')).toBe(true);
    }
  });

  it('of those, only an install is recorded and replayed: add, update and remove resolve anew however often they are run', () => {
    for (const argv of [[], ['install'], ['i'], ['ci'], ['--frozen-lockfile'], ['install', '--frozen-lockfile']]) expect(installsOnly(argv), argv.join(' ')).toBe(true);
    for (const argv of [['add', 'x'], ['update'], ['up', '--latest'], ['upgrade'], ['remove', 'x'], ['rm', 'x'], ['uninstall', 'x'], ['un', 'x'], ['--silent', 'update'], ['dedupe']]) expect(installsOnly(argv), argv.join(' ')).toBe(false);
  });

  it('which commands install (pnpm 10 and 11 start the judging thread for them in a project without a lockfile)', () => {
    for (const argv of [[], ['install'], ['i'], ['--frozen-lockfile'], ['add', 'x'], ['update'], ['up'], ['upgrade'], ['remove', 'x'], ['rm', 'x'], ['dedupe'], ['--filter', 'app', 'install'], ['--silent', 'add', 'x']]) {
      expect(installs(argv), argv.join(' ')).toBe(true);
    }
    // An argument named like a command is not the command: `pnpm run install`, `pnpm exec add`, `-C dir install`.
    for (const argv of [['run', 'install'], ['exec', 'add'], ['-C', 'sub', 'install'], ['--filter', 'app', 'run', 'install'], ['dlx', 'install'], ['rebuild'], ['store', 'add', 'x']]) {
      expect(installs(argv), argv.join(' ')).toBe(false);
    }
  });

  it('a workspace\'s projects selected before the command (--filter, -F): one lockfile for the workspace all the same', () => {
    for (const argv of [['--filter', 'app', 'install'], ['-F', 'app', 'install', '--frozen-lockfile'], ['--filter', 'app', '--filter', 'lib', 'add', 'x'], ['--filter-prod', 'app...', 'install'], ['--filter=app', 'install'], ['--filter', 'install', 'add', 'x'], ['--filter', 'app']]) {
      expect(judgesLockfileFirst(plain, argv, 12), argv.join(' ')).toBe(true);
    }
    expect(installsOnly(['--filter', 'app', 'install'])).toBe(true);
    expect(installsOnly(['--filter', 'install', 'add', 'x'])).toBe(false);
  });

  it('not other commands, nor a command after another flag that takes a value, nor a global one', () => {
    for (const argv of [['run', 'install'], ['-C', 'sub', 'install'], ['--dir', 'sub', 'install'], ['--filter', 'app', 'run', 'install'], ['dlx', 'x'], ['import'], ['exec', 'install'], ['rebuild'], ['run', 'fetch'], ['add', '-g', 'x'], ['add', 'x', '--global'], ['-g', 'add', 'x'], ['remove', '--global', 'x'], ['update', '-g']]) {
      expect(judgesLockfileFirst(plain, argv, 12), argv.join(' ')).toBe(false);
    }
    expect(judgesLockfileFirst({ global: true }, ['add', 'x'], 12)).toBe(false);
    expect(judgesLockfileFirst({ global: true }, ['install'], 12)).toBe(false);
  });

  it('not when pnpm may read another lockfile: git-branch lockfiles, a lockfile per project, no lockfile, another lockfile folder', () => {
    for (const argv of [['install', '--git-branch-lockfile'], ['install', '--merge-git-branch-lockfiles'], ['install', '--config.shared-workspace-lockfile=false'], ['install', '--no-lockfile'], ['install', '--lockfile-dir=/x'], ['install', '--config.lockfile=false']]) {
      expect(judgesLockfileFirst(plain, argv, 12), argv.join(' ')).toBe(false);
    }
    for (const config of [{ gitBranchLockfile: true }, { mergeGitBranchLockfiles: true }, { mergeGitBranchLockfilesBranchPattern: ['main'] }, { sharedWorkspaceLockfile: false }, { useLockfile: false }, { lockfile: false }]) {
      expect(judgesLockfileFirst(config, ['install'], 12), JSON.stringify(config)).toBe(false);
    }
    expect(judgesLockfileFirst({ gitBranchLockfile: false, mergeGitBranchLockfilesBranchPattern: [], sharedWorkspaceLockfile: true }, ['install'], 12)).toBe(true);
  });
});

describe("pnpm 12's fetch: updateConfig alone sees its lockfile", () => {
  it('judged there like an install (pnpm 12 links and builds what it fetches, and calls no preResolution)', () => {
    for (const argv of [['fetch'], ['fetch', '--prod'], ['--filter', 'app', 'fetch'], ['-r', 'fetch'], ['fetch', '--frozen-lockfile']]) {
      expect(judgesLockfileFirst({}, argv, 12), argv.join(' ')).toBe(true);
      expect(lockfileSeenByUpdateConfigAlone(argv, 12), argv.join(' ')).toBe(true);
    }
    // Never recorded and replayed: decided every time.
    expect(installsOnly(['fetch'])).toBe(false);
  });

  it('every spelling pnpm 12 fetches with: after a flag with a value, recursive/m/multi, with <version> (measured: each fetched and built)', () => {
    for (const argv of [['-C', '/p', 'fetch'], ['--store-dir', '/s', 'fetch'], ['--reporter', 'append-only', 'fetch'], ['recursive', 'fetch'], ['m', 'fetch'], ['multi', 'fetch'], ['with', 'current', 'fetch'], ['-C', '/p', 'run', 'fetch']]) {
      expect(lockfileSeenByUpdateConfigAlone(argv, 12), argv.join(' ')).toBe(true);
      expect(judgesLockfileFirst({}, argv, 12), argv.join(' ')).toBe(true);
    }
  });

  it('only on pnpm 12 (10 and 11 hand it to preResolution), not a script or binary named fetch, not a selecting value, and only with a known command line', () => {
    for (const major of [0, 10, 11]) expect(lockfileSeenByUpdateConfigAlone(['fetch'], major)).toBe(false);
    for (const argv of [['install'], ['run', 'fetch'], ['exec', 'fetch'], ['dlx', 'fetch'], ['test', 'fetch'], ['--filter', 'fetch', 'install'], ['exec', '--', 'fetch'], ['install', '--', 'fetch']]) expect(lockfileSeenByUpdateConfigAlone(argv, 12), argv.join(' ')).toBe(false);
    expect(lockfileSeenByUpdateConfigAlone(undefined, 12)).toBe(false);
    expect(judgesLockfileFirst({}, ['run', 'fetch'], 12)).toBe(false);
  });

  it('with another lockfile setting it is not judged first, and hooks.ts then refuses it (no preResolution would follow)', () => {
    expect(judgesLockfileFirst({ gitBranchLockfile: true }, ['fetch'], 12)).toBe(false);
    expect(judgesLockfileFirst({}, ['fetch', '--lockfile-dir=/x'], 12)).toBe(false);
    expect(lockfileSeenByUpdateConfigAlone(['fetch', '--lockfile-dir=/x'], 12)).toBe(true);
  });
});
