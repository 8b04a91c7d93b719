import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import { createRegistryConfig } from '../registry/config.js';
import { makeSigningKey } from '../signatures/signing-key.fixture.js';
import { createDecider } from '../decider/decider.js';
import { defaultStateDir, memoSecret, VerifiedVersions, type VersionFacts, type VersionQuery } from './verified-versions.js';

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `portcullis-verified-${prefix}-`));
const query: VersionQuery = { keySetId: 'ks1', registry: 'https://r.example/', name: 'left-pad', version: '1.0.0', integrity: 'sha512-AAAA' };
const facts: VersionFacts = { integrity: 'sha512-AAAA', keyid: 'SHA256:k', hasInstallScript: true, gypfile: false, scripts: ['postinstall'] };
const memoFile = (cacheDir: string) => join(cacheDir, 'verified-v5', readdirSync(join(cacheDir, 'verified-v5'))[0]!);

describe('memoSecret', () => {
  it('creates a 32-byte secret once, mode 0600, and returns the same one afterwards', () => {
    const dir = join(temp('state'), 'nested');
    const secret = memoSecret(dir);
    expect(secret?.length).toBe(32);
    expect(statSync(join(dir, 'memo-key')).mode & 0o777).toBe(0o600);
    expect(memoSecret(dir)?.equals(secret!)).toBe(true);
  });

  it('is null (nothing remembered) when the file is malformed or cannot be created', () => {
    const dir = temp('bad');
    writeFileSync(join(dir, 'memo-key'), 'not hex');
    expect(memoSecret(dir)).toBeNull();
    const file = join(temp('file'), 'f');
    writeFileSync(file, '');
    expect(memoSecret(join(file, 'under-a-file'))).toBeNull();
  });

  it('reads a key written by someone else (a CI secret): 64 hex digits of either case, one line ending at most', () => {
    const key = 'c0ffee'.padEnd(64, '5a');
    for (const written of [key, `${key}\n`, `${key}\r\n`, key.toUpperCase()]) {
      const dir = temp('written');
      writeFileSync(join(dir, 'memo-key'), written);
      expect(memoSecret(dir)?.toString('hex')).toBe(key);
    }
    for (const written of [`${key}\n\n`, ` ${key}`, `${key} `, key.slice(0, 63), `${key}0`, `${key.slice(0, 63)}g`, `${key}\r`]) {
      const dir = temp('not-a-key');
      writeFileSync(join(dir, 'memo-key'), written);
      expect(memoSecret(dir)).toBeNull();
      // Left alone: nothing is remembered rather than a key the user did not write.
      expect(readFileSync(join(dir, 'memo-key'), 'utf8')).toBe(written);
    }
  });

  it.runIf(typeof process.getuid === 'function')('does not take a key file that others may write, that another user owns, or a link', () => {
    const key = '5a'.repeat(32);
    const others = temp('others');
    writeFileSync(join(others, 'memo-key'), key);
    chmodSync(join(others, 'memo-key'), 0o666);
    expect(memoSecret(others)).toBeNull();
    const group = temp('group');
    writeFileSync(join(group, 'memo-key'), key);
    chmodSync(join(group, 'memo-key'), 0o620);
    expect(memoSecret(group)).toBeNull();
    // Readable by others (as `echo` under the usual umask writes it) is still this user's key.
    const readable = temp('readable');
    writeFileSync(join(readable, 'memo-key'), key);
    chmodSync(join(readable, 'memo-key'), 0o644);
    expect(memoSecret(readable)?.toString('hex')).toBe(key);
    const linked = temp('linked');
    symlinkSync(join(readable, 'memo-key'), join(linked, 'memo-key'));
    expect(memoSecret(linked)).toBeNull();
    if (process.getuid!() === 0) {
      const foreign = temp('foreign');
      writeFileSync(join(foreign, 'memo-key'), key, { mode: 0o600 });
      chownSync(join(foreign, 'memo-key'), 4242, 4242);
      expect(memoSecret(foreign)).toBeNull();
    }
  });

  it('lives outside the cache directory', () => {
    expect(defaultStateDir({}, '/home/u', 'linux')).toBe('/home/u/.local/state/portcullis');
    expect(defaultStateDir({ XDG_STATE_HOME: '/s' }, '/home/u', 'linux')).toBe('/s/portcullis');
    expect(defaultStateDir({ PORTCULLIS_STATE_DIR: '/x' }, '/home/u', 'linux')).toBe('/x');
  });

  it("is under the home folder os.homedir() names, by default (this process's $HOME on POSIX, read without node:os)", () => {
    const home = process.env.HOME;
    try {
      expect(defaultStateDir({})).toBe(join(homedir(), '.local', 'state', 'portcullis'));
      if (process.platform !== 'win32') {
        process.env.HOME = '/elsewhere/u';
        expect(defaultStateDir({})).toBe('/elsewhere/u/.local/state/portcullis');
        expect(homedir()).toBe('/elsewhere/u');
        process.env.HOME = '';
        expect(defaultStateDir({})).toBe(join(homedir(), '.local', 'state', 'portcullis'));
      }
    } finally {
      if (home === undefined) delete process.env.HOME;
      else process.env.HOME = home;
    }
  });
});

describe('VerifiedVersions', () => {
  it('remembers facts across processes for the same user, keyed by keys, registry, name, version and integrity', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    const first = VerifiedVersions.open(cache, '/project', secret);
    first.set(query, facts);
    first.save();
    const second = VerifiedVersions.open(cache, '/project', secret);
    expect(second.get(query)).toEqual(facts);
    expect(second.get({ ...query, integrity: 'sha512-BBBB' })).toBeUndefined();
    expect(second.get({ ...query, keySetId: 'ks2' })).toBeUndefined();
    expect(second.get({ ...query, version: '1.0.1' })).toBeUndefined();
    expect(second.get({ ...query, registry: 'https://other.example/' })).toBeUndefined();
    // Another project's file is another file.
    expect(VerifiedVersions.open(cache, '/elsewhere', secret).get(query)).toBeUndefined();
  });

  it('remembers the command lines when the metadata listed them, and says so when it did not', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    const memo = VerifiedVersions.open(cache, '/project', secret);
    const withCommands: VersionFacts = { ...facts, commands: { postinstall: 'node install.js' } };
    memo.set(query, withCommands);
    memo.set({ ...query, name: 'other' }, facts);
    memo.set({ ...query, name: 'long' }, { ...facts, commands: { postinstall: 'x'.repeat(16 * 1024 + 1) } });
    memo.save();
    const reopened = VerifiedVersions.open(cache, '/project', secret);
    expect(reopened.get(query)).toEqual(withCommands);
    expect(reopened.get({ ...query, name: 'other' })?.commands).toBeUndefined();
    // Too long to remember: remembered without command lines (read from the packument again when needed).
    const long = reopened.get({ ...query, name: 'long' });
    expect(long).toMatchObject({ integrity: facts.integrity, scripts: ['postinstall'] });
    expect(long?.commands).toBeUndefined();
  });

  it('ignores every entry written with another secret (a cache restored from another machine or job)', () => {
    const cache = temp('cache');
    const theirs = VerifiedVersions.open(cache, '/project', memoSecret(temp('state-a'))!);
    theirs.set(query, facts);
    theirs.save();
    expect(VerifiedVersions.open(cache, '/project', memoSecret(temp('state-b'))!).get(query)).toBeUndefined();
  });

  it('ignores a file with an entry edited on disk (the file\'s tag no longer matches): nothing in it is read', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    const memo = VerifiedVersions.open(cache, '/project', secret);
    memo.set(query, facts);
    memo.set({ ...query, name: 'other' }, facts);
    memo.save();
    const file = memoFile(cache);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<[string, unknown[]]> };
    doc.entries[0]![1][2] = 0; // hasInstallScript: 1 → 0, keeping the file's tag
    writeFileSync(file, JSON.stringify(doc));
    const reopened = VerifiedVersions.open(cache, '/project', secret);
    expect(reopened.get(query)).toBeUndefined();
    expect(reopened.get({ ...query, name: 'other' })).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('treats torn, hostile or oversized files as empty, and remembers nothing without a secret', () => {
    const secret = memoSecret(temp('state'))!;
    for (const text of ['{', '', '[]', '{"format":"portcullis-verified-v2","entries":[[1,2,3],["a",["x","y",0,0,"rm -rf"],"t"]]}', '{"__proto__":{"polluted":1}}']) {
      const cache = temp('cache');
      const memo = VerifiedVersions.open(cache, '/project', secret);
      memo.set(query, facts);
      memo.save();
      writeFileSync(memoFile(cache), text);
      expect(VerifiedVersions.open(cache, '/project', secret).get(query)).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
    const disabled = VerifiedVersions.open(temp('cache'), '/project', null);
    disabled.set(query, facts);
    expect(disabled.enabled).toBe(false);
    expect(disabled.get(query)).toBeUndefined();
  });

  it('keeps the entries this run used, and older ones up to twice as many (at least 5,000)', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    const memo = VerifiedVersions.open(cache, '/project', secret);
    for (let i = 0; i < 6_000; i++) memo.set({ ...query, version: `1.0.${i}` }, facts);
    memo.save();
    const next = VerifiedVersions.open(cache, '/project', secret);
    expect(next.get({ ...query, version: '1.0.0' })).toEqual(facts);
    next.set({ ...query, name: 'fresh' }, facts);
    next.save();
    const after = VerifiedVersions.open(cache, '/project', secret);
    // 2 used this run, so 5,000 entries are kept: the used ones and the newest unused ones.
    expect(after.get({ ...query, version: '1.0.0' })).toEqual(facts);
    expect(after.get({ ...query, name: 'fresh' })).toEqual(facts);
    expect(after.get({ ...query, version: '1.0.5999' })).toEqual(facts);
    expect(after.get({ ...query, version: '1.0.1' })).toBeUndefined();
  });
});

describe('createDecider with verified versions', () => {
  const key = makeSigningKey();
  const registry = 'https://r.example/';
  const integrity = `sha512-${createHash('sha512').update('left-pad').digest('base64')}`;
  const signed = (sig: string) =>
    JSON.stringify({ name: 'left-pad', versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', dist: { integrity, signatures: [{ keyid: key.record.keyid, sig }] } } } });
  const node: PackageNode = { id: 'left-pad@1.0.0', name: 'left-pad', version: '1.0.0', integrity, source: 'registry', registry, aliases: [], paths: [], dependents: ['.'] };
  const policy = parsePolicy(JSON.stringify({ registries: { [registry]: { keys: [key.record] } } }), '/project/portcullis.json');

  function setUp(body: () => string, stateDir: string, cacheDir: string, withPolicy = policy) {
    const requests: string[] = [];
    const fetch = (async (url: string | URL | Request) => {
      requests.push(String(url));
      // Served as the registry serves the abbreviated document these bodies are shaped like.
      return new Response(body(), { status: 200, headers: { 'content-type': 'application/vnd.npm.install-v1+json' } });
    }) as typeof globalThis.fetch;
    const decider = createDecider({ policy: withPolicy, registryConfig: createRegistryConfig({ defaultRegistry: registry }), env: {}, cacheDir, stateDir, projectDir: '/project', fetch });
    return { decider, requests };
  }

  it('a version verified before needs no packument; a forged packument is caught when the memo is not this user\'s', async () => {
    const cacheDir = temp('cache');
    const stateDir = temp('state');
    let sig = key.sign(`left-pad@1.0.0:${integrity}`);
    const first = setUp(() => signed(sig), stateDir, cacheDir);
    expect((await first.decider.decide([node])).findings).toEqual([]);
    first.decider.save();
    expect(first.requests).toHaveLength(1);

    // The registry and the cached packument now hold a forged signature.
    const genuine = sig;
    sig = key.sign('something else');
    let forged = 0;
    for (const f of readdirSync(cacheDir, { recursive: true, encoding: 'utf8' }).map((f) => join(cacheDir, f))) {
      if (!f.includes('metadata') || !statSync(f).isFile()) continue;
      const text = readFileSync(f, 'utf8');
      if (text.includes(genuine)) {
        writeFileSync(f, text.replace(genuine, sig));
        forged++;
      }
    }
    expect(forged).toBe(1);
    const again = setUp(() => signed(sig), stateDir, cacheDir);
    expect((await again.decider.decide([node])).findings).toEqual([]);
    expect(again.requests).toEqual([]);

    // Same cache directory, another user's (or job's) secret: decided from metadata, and the forgery is found.
    const elsewhere = setUp(() => signed(sig), temp('state-other'), cacheDir);
    const decision = await elsewhere.decider.decide([{ ...node }]);
    expect(decision.findings.map((f) => f.code)).toEqual(['BAD_SIGNATURE']);
  });

  it('runners that each write the same key into a new state directory (a CI secret) believe what an earlier one remembered; another key believes nothing', async () => {
    const cacheDir = temp('cache');
    const shared = 'ab12'.repeat(16);
    const runner = (written: string) => {
      const stateDir = join(temp('runner'), 'state');
      mkdirSync(stateDir, { mode: 0o700 });
      writeFileSync(join(stateDir, 'memo-key'), written, { mode: 0o600 });
      return stateDir;
    };
    let sig = key.sign(`left-pad@1.0.0:${integrity}`);
    const first = setUp(() => signed(sig), runner(`${shared}\n`), cacheDir);
    expect((await first.decider.decide([node])).findings).toEqual([]);
    first.decider.save();

    // The registry and the restored cache now hold a forged signature: a runner with the key decides from the memo
    // (no request); one with a key of its own decides from the document and finds the forgery.
    const genuine = sig;
    sig = key.sign('something else');
    for (const f of readdirSync(cacheDir, { recursive: true, encoding: 'utf8' }).map((f) => join(cacheDir, f))) {
      if (f.includes('metadata') && statSync(f).isFile()) writeFileSync(f, readFileSync(f, 'utf8').replace(genuine, sig));
    }
    const next = setUp(() => signed(sig), runner(shared), cacheDir);
    expect((await next.decider.decide([node])).findings).toEqual([]);
    expect(next.requests).toEqual([]);
    const other = setUp(() => signed(sig), runner('cd34'.repeat(16)), cacheDir);
    expect((await other.decider.decide([{ ...node }])).findings.map((f) => f.code)).toEqual(['BAD_SIGNATURE']);
  });

  it('a memo key file it cannot use (written wrong, or others may write it) is said in a notice with the fix; a usable key says nothing', async () => {
    const sig = key.sign(`left-pad@1.0.0:${integrity}`);
    const keyed = (written: string, mode = 0o600) => {
      const stateDir = join(temp('noticed'), 'state');
      mkdirSync(stateDir, { mode: 0o700 });
      writeFileSync(join(stateDir, 'memo-key'), written);
      chmodSync(join(stateDir, 'memo-key'), mode);
      return stateDir;
    };
    const noticeOf = async (stateDir: string) => (await setUp(() => signed(sig), stateDir, temp('cache')).decider.decide([node])).notices.filter((n) => n.includes('memo key'));
    const wrong = keyed(`${'ab'.repeat(32)}\n\n`);
    const said = await noticeOf(wrong);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(join(wrong, 'memo-key'));
    expect(said[0]).toContain('nothing is remembered');
    expect(said[0]).toContain('Fix: write the key again as docs/ci.md shows, or delete the file');
    if (typeof process.getuid === 'function') expect(await noticeOf(keyed('ab'.repeat(32), 0o666))).toHaveLength(1);
    expect(await noticeOf(keyed(`${'ab'.repeat(32)}\n`))).toEqual([]);
    // No file at all: a key is made, nothing to say.
    expect(await noticeOf(join(temp('none'), 'state'))).toEqual([]);
  });

  it('only verified versions are remembered: an unsigned one leaves nothing behind', async () => {
    const cacheDir = temp('cache');
    const unsigned = () => JSON.stringify({ name: 'left-pad', versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', dist: { integrity } } } });
    const run = setUp(unsigned, temp('state'), cacheDir);
    expect((await run.decider.decide([node])).findings.map((f) => f.code)).toEqual(['UNSIGNED']);
    run.decider.save();
    expect(readdirSync(cacheDir).filter((f) => f.startsWith('verified'))).toEqual([]);
  });

  it('with signatures off, script facts are remembered too (no packument next time), and never taken for a verified signature', async () => {
    const cacheDir = temp('cache');
    const stateDir = temp('state');
    const off = parsePolicy(JSON.stringify({ signatures: { require: 'off' }, registries: { [registry]: { keys: [key.record] } } }), '/project/portcullis.json');
    const withScript = (sig: string) =>
      JSON.stringify({ name: 'left-pad', versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', hasInstallScript: true, dist: { integrity, signatures: [{ keyid: key.record.keyid, sig }] } } } });
    const first = setUp(() => withScript('forged'), stateDir, cacheDir, off);
    expect((await first.decider.decide([node])).findings.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    first.decider.save();
    expect(first.requests).toHaveLength(1);
    const again = setUp(() => withScript('forged'), stateDir, cacheDir, off);
    const remembered = await again.decider.decide([node]);
    expect(remembered.findings.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    expect(remembered.evidence.signatures.size).toBe(0);
    expect(again.requests).toEqual([]);
    // Signatures on again: the remembered facts vouch for nothing; the forged signature is found.
    const on = setUp(() => withScript('forged'), stateDir, cacheDir);
    expect((await on.decider.decide([node])).findings.map((f) => f.code)).toContain('BAD_SIGNATURE');
  });
});
