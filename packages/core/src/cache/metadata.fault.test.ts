/**
 * The on-disk metadata cache under concurrent writers and hostile files: readers see a whole entry or a
 * miss, never a torn one; nothing it reads can crash it; a file it did not write is never trusted.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheKey, createMetadataCache, type CacheEntry } from './metadata.js';

const root = mkdtempSync(join(tmpdir(), 'portcullis-cache-fault-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);
const REGISTRY = 'https://r.example/';

function entry(tag: number, size: number): CacheEntry {
  return { url: `${REGISTRY}pkg`, etag: `"${tag}"`, lastModified: null, fetchedAt: tag, status: 200, body: { name: 'pkg', tag, padding: String(tag % 10).repeat(size) } };
}

const fileOf = (dir: string) => {
  const key = cacheKey(REGISTRY, 'pkg', 'abbreviated');
  return join(dir, 'metadata-v4', key.slice(0, 2), `${key}.json`);
};

describe('metadata cache faults', () => {
  it('40 concurrent writers and readers of one entry: every read is null or a whole entry, the file parses, no temp files remain', async () => {
    const dir = freshDir();
    const writers = Array.from({ length: 4 }, () => createMetadataCache(dir));
    const ops: Array<Promise<unknown>> = [];
    const reads: Array<CacheEntry | null> = [];
    for (let i = 0; i < 40; i++) {
      ops.push(writers[i % 4]!.set(REGISTRY, 'pkg', 'abbreviated', entry(i, 50_000 + i * 997)));
      ops.push(writers[(i + 1) % 4]!.get(REGISTRY, 'pkg', 'abbreviated').then((e) => reads.push(e)));
    }
    await Promise.all(ops);
    for (const read of reads) {
      if (read === null) continue;
      const body = read.body as { tag: number; padding: string };
      expect(read.fetchedAt).toBe(body.tag);
      expect(body.padding).toBe(String(body.tag % 10).repeat(50_000 + body.tag * 997));
    }
    const final = JSON.parse(readFileSync(fileOf(dir), 'utf8')) as { fetchedAt: number; body: { tag: number } };
    expect(final.fetchedAt).toBe(final.body.tag);
    expect(readdirSync(dirname(fileOf(dir))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a torn, empty, foreign or oversized file is a miss, never a crash or a trusted entry', async () => {
    const dir = freshDir();
    const cache = createMetadataCache(dir);
    await cache.set(REGISTRY, 'pkg', 'abbreviated', entry(1, 10));
    const file = fileOf(dir);
    const whole = readFileSync(file, 'utf8');
    const other = JSON.parse(whole) as Record<string, unknown>;
    for (const text of [
      whole.slice(0, whole.length / 2),
      '',
      '\u0000\u0001',
      'null',
      '[]',
      JSON.stringify({ ...other, key: cacheKey(REGISTRY, 'other', 'abbreviated') }), // another entry's file copied over
      JSON.stringify({ ...other, status: 500 }),
      JSON.stringify({ ...other, fetchedAt: 'yesterday' }),
      '{"__proto__":{"polluted":true}}',
      `{"format":"portcullis-metadata-cache","version":1,"body":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    ]) {
      writeFileSync(file, text);
      expect(await cache.get(REGISTRY, 'pkg', 'abbreviated'), text.slice(0, 40)).toBeNull();
    }
    writeFileSync(file, ' '.repeat(66 * 1024 * 1024));
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an unwritable cache costs only speed: set reports the error and get misses', async () => {
    const dir = freshDir();
    mkdirSync(dirname(dir), { recursive: true });
    writeFileSync(dir, 'a file where the cache directory should be');
    const errors: string[] = [];
    const cache = createMetadataCache(dir, { onError: (m) => errors.push(m) });
    await cache.set(REGISTRY, 'pkg', 'abbreviated', entry(1, 10));
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    expect(errors).toHaveLength(1);
  });

  it('a directory where an entry file should be, or a dangling symlink, is a miss', async () => {
    const dir = freshDir();
    const file = fileOf(dir);
    mkdirSync(file, { recursive: true });
    const cache = createMetadataCache(dir);
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    rmSync(file, { recursive: true });
    symlinkSync(join(dir, 'nowhere'), file);
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
  });

  it('a cache folder that does not exist, or a file where one of its folders should be, is a miss; a write then still lands', async () => {
    const dir = freshDir();
    const cache = createMetadataCache(join(dir, 'not-yet'));
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    // A file in place of the entry's folder: looking an entry up there fails with ENOTDIR, not ENOENT.
    const blocked = createMetadataCache(dir);
    mkdirSync(join(dir, 'metadata-v4'), { recursive: true });
    writeFileSync(dirname(fileOf(dir)), 'not a folder');
    expect(await blocked.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    rmSync(dirname(fileOf(dir)));
    const stored = entry(1, 10);
    await cache.set(REGISTRY, 'pkg', 'abbreviated', stored);
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toEqual(stored);
  });
});
