import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { readCodeCache, readEngineSource, writeCodeCache, writeEngineSource } from './code-cache.js';

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `portcullis-code-${prefix}-`));
const HASH = '0123456789abcdef0123456789abcdef';

describe('the pnpmfile code cache', () => {
  it('a write removes the temporary files an ended writer left (a minute old), not one being written now', () => {
    const cacheDir = temp('cache');
    const env = { PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: temp('state') };
    const folder = join(cacheDir, 'code-v1');
    mkdirSync(folder, { recursive: true });
    const stale = join(folder, `.${HASH}-v0.0.0-x64.bin.123.abcdef.tmp`);
    const fresh = join(folder, `.${HASH}-${process.version}-${process.arch}.bin.456.012345.tmp`);
    const other = join(folder, 'not-ours.tmp');
    for (const file of [stale, fresh, other]) writeFileSync(file, 'half a cache');
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(stale, old, old);
    utimesSync(other, old, old);
    writeCodeCache(HASH, Buffer.from('code'), env);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(readCodeCache(HASH, env)).toEqual(Buffer.from('code'));
  });

  it('is read back for the same engine, Node and user, and V8 accepts it', () => {
    const env = { PORTCULLIS_CACHE_DIR: temp('cache'), PORTCULLIS_STATE_DIR: temp('state') };
    const source = '(function () { return 6 * 7; })';
    const produced = new Script(source);
    writeCodeCache(HASH, produced.createCachedData(), env);
    const cachedData = readCodeCache(HASH, env);
    expect(cachedData).toBeDefined();
    const script = new Script(source, { cachedData: cachedData! });
    expect(script.cachedDataRejected).toBe(false);
    expect((script.runInThisContext() as () => number)()).toBe(42);
    expect(readCodeCache('fedcba9876543210fedcba9876543210', env)).toBeUndefined();
  });

  it('is never used when edited, written under another user’s secret, or when no secret can be had', () => {
    const cacheDir = temp('cache');
    const env = { PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: temp('state') };
    writeCodeCache(HASH, Buffer.from('not really V8 code'), env);
    const folder = join(cacheDir, 'code-v1');
    const file = join(folder, readdirSync(folder)[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(file, bytes);
    expect(readCodeCache(HASH, env)).toBeUndefined();
    // Written by someone else (a restored cache directory): their secret, not this user's.
    writeCodeCache(HASH, Buffer.from('their code'), { PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: temp('theirs') });
    expect(readCodeCache(HASH, env)).toBeUndefined();
    // A state directory that cannot hold a secret: nothing is written or read.
    const blocked = join(temp('state'), 'file');
    writeFileSync(blocked, '');
    const noSecret = { PORTCULLIS_CACHE_DIR: temp('cache'), PORTCULLIS_STATE_DIR: join(blocked, 'below-a-file') };
    writeCodeCache(HASH, Buffer.from('x'), noSecret);
    expect(readCodeCache(HASH, noSecret)).toBeUndefined();
    // An engine hash that is not a hash never becomes a path.
    expect(readCodeCache('../../etc', env)).toBeUndefined();
  });
});

describe("the pnpmfile engine's source, kept by a loader for the next", () => {
  const source = '(function () { return "engine"; })\n';
  const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

  it('is read back only while its bytes have the hash the loader carries', () => {
    const env = { PORTCULLIS_CACHE_DIR: temp('cache') };
    const hash = hashOf(source);
    expect(readEngineSource(hash, env)).toBeUndefined();
    writeEngineSource(hash, source, env);
    expect(readEngineSource(hash, env)).toBe(source);
    // Another engine's hash finds nothing; edited bytes (same name) are not the engine.
    expect(readEngineSource(hashOf('other'), env)).toBeUndefined();
    const file = join(env.PORTCULLIS_CACHE_DIR, 'engine-v1', `${hash}.js`);
    writeFileSync(file, source.replace('engine', 'evil!!'));
    expect(readEngineSource(hash, env)).toBeUndefined();
    // Written under the wrong name by someone else: still checked against the name's hash.
    writeEngineSource(hash, 'process.exit(1)', env);
    expect(readEngineSource(hash, env)).toBeUndefined();
  });

  it('keeps non-ASCII text intact (UTF-8), and a hash that is not a hash never becomes a path', () => {
    const env = { PORTCULLIS_CACHE_DIR: temp('cache') };
    const text = '// déjà — vu\nmodule.exports = "ü";\n';
    writeEngineSource(hashOf(text), text, env);
    expect(readEngineSource(hashOf(text), env)).toBe(text);
    mkdirSync(join(env.PORTCULLIS_CACHE_DIR, 'engine-v1'), { recursive: true });
    writeEngineSource('../../escape', source, env);
    expect(readEngineSource('../../escape', env)).toBeUndefined();
    expect(readdirSync(env.PORTCULLIS_CACHE_DIR)).toEqual(['engine-v1']);
  });
});
