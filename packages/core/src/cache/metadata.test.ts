import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, createMetadataCache, defaultCacheDir, type CacheEntry } from './metadata.js';

const REGISTRY = 'https://r.test/';

function entry(body: unknown, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { url: `${REGISTRY}pkg`, etag: '"e1"', lastModified: null, fetchedAt: 1000, status: 200, body, ...extra };
}

function entryFile(dir: string, name: string, kind: 'abbreviated' | 'full' | 'keys' = 'abbreviated'): string {
  const key = cacheKey(REGISTRY, name, kind);
  return join(dir, 'metadata-v4', key.slice(0, 2), `${key}.json`);
}

describe('metadata cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores and reads an entry per registry, name and kind', async () => {
    const cache = createMetadataCache(dir);
    await cache.set(REGISTRY, 'pkg', 'abbreviated', entry({ a: 1 }));
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toEqual(entry({ a: 1 }));
    expect(await cache.get(REGISTRY, 'pkg', 'full')).toBeNull();
    expect(await cache.get('https://other.test/', 'pkg', 'abbreviated')).toBeNull();
    expect(await cache.get(REGISTRY, 'other', 'abbreviated')).toBeNull();
  });

  it('a cache never filled is looked at once; after this process writes, every lookup looks again', async () => {
    const reader = createMetadataCache(join(dir, 'cache'));
    expect(await reader.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    expect(await reader.get(REGISTRY, 'other', 'abbreviated')).toBeNull();
    // lookups create nothing
    expect(await readdir(dir)).toEqual([]);
    // another writer fills it; this one writes one entry: from then on it finds both
    await createMetadataCache(join(dir, 'cache')).set(REGISTRY, 'other', 'abbreviated', entry({ other: true }));
    await reader.set(REGISTRY, 'pkg', 'abbreviated', entry({ own: true }));
    expect(await reader.get(REGISTRY, 'pkg', 'abbreviated')).toEqual(entry({ own: true }));
    expect(await reader.get(REGISTRY, 'other', 'abbreviated')).toEqual(entry({ other: true }));
    // a cache found filled is read as before
    expect(await createMetadataCache(join(dir, 'cache')).get(REGISTRY, 'other', 'abbreviated')).toEqual(entry({ other: true }));
  });

  it('names files by hash, so a hostile name cannot escape the directory', async () => {
    const cache = createMetadataCache(join(dir, 'cache'));
    await cache.set(REGISTRY, '../../escape', 'abbreviated', entry({}));
    await cache.set(REGISTRY, '@scope/name', 'abbreviated', entry({}));
    expect(await readdir(dir)).toEqual(['cache']);
    const files = await readdir(join(dir, 'cache', 'metadata-v4'), { recursive: true });
    for (const file of files.filter((f) => f.endsWith('.json'))) expect(file).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}\.json$/);
    expect(await cache.get(REGISTRY, '../../escape', 'abbreviated')).not.toBeNull();
  });

  it('treats a corrupt, truncated, empty or foreign entry as a miss, and a later write repairs it', async () => {
    const cache = createMetadataCache(dir);
    await cache.set(REGISTRY, 'pkg', 'abbreviated', entry({ a: 1 }));
    const file = entryFile(dir, 'pkg');
    const good = await readFile(file, 'utf8');

    for (const bad of [
      'not json',
      good.slice(0, good.length / 2),
      '',
      '[]',
      'null',
      JSON.stringify({ ...JSON.parse(good), fetchedAt: 'yesterday' }),
      JSON.stringify({ ...JSON.parse(good), version: 1 }),
      JSON.stringify({ ...JSON.parse(good), key: cacheKey(REGISTRY, 'other', 'abbreviated') }),
      JSON.stringify({ ...JSON.parse(good), status: 500 }),
      JSON.stringify({ __proto__: JSON.parse(good) }),
    ]) {
      await writeFile(file, bad);
      expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    }
    // A folder where the entry should be: a miss, not a throw.
    await rm(file);
    await mkdir(file);
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
    await rm(file, { recursive: true });
    await cache.set(REGISTRY, 'pkg', 'abbreviated', entry({ a: 2 }));
    expect((await cache.get(REGISTRY, 'pkg', 'abbreviated'))?.body).toEqual({ a: 2 });
  });

  it('reports but survives a directory it cannot write', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const errors: string[] = [];
    const cache = createMetadataCache(join(dir, 'file'), { onError: (m) => errors.push(m) });
    await cache.set(REGISTRY, 'pkg', 'abbreviated', entry({}));
    expect(errors).toHaveLength(1);
    expect(await cache.get(REGISTRY, 'pkg', 'abbreviated')).toBeNull();
  });

  it('never exposes a torn entry to readers during many parallel writes', async () => {
    const cache = createMetadataCache(dir);
    const bodies = Array.from({ length: 40 }, (_, i) => ({ writer: i, padding: String(i).repeat(50_000) }));
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        // A miss is answered without touching the event loop (no file yet): let the writers run between reads.
        await new Promise((resolve) => setImmediate(resolve));
        const got = await cache.get(REGISTRY, 'pkg', 'abbreviated');
        if (got !== null) {
          reads++;
          expect(bodies).toContainEqual(got.body);
        }
      }
    })();
    await Promise.all(bodies.map((body) => cache.set(REGISTRY, 'pkg', 'abbreviated', entry(body))));
    writing = false;
    await reader;
    expect(bodies).toContainEqual((await cache.get(REGISTRY, 'pkg', 'abbreviated'))?.body);
    // No temp files are left behind.
    const left = await readdir(dirname(entryFile(dir, 'pkg')));
    expect(left).toHaveLength(1);
    expect(reads).toBeGreaterThanOrEqual(0);
  });

  it('never produces a torn file when two processes write the same entry', async () => {
    // Compile the cache module and what it imports to plain ESM so a child `node` can load it.
    const here = dirname(fileURLToPath(import.meta.url));
    const out = join(dir, 'compiled');
    await mkdir(join(out, 'cache'), { recursive: true });
    await writeFile(join(out, 'package.json'), '{"type":"module"}');
    for (const rel of ['cache/metadata.ts', 'cache/dirs.ts', 'limits.ts', 'env.ts', 'read-bounded.ts']) {
      const source = await readFile(join(here, '..', rel), 'utf8');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
      await writeFile(join(out, rel.replace(/\.ts$/, '.js')), js.outputText);
    }
    const cacheDir = join(dir, 'shared');
    const script = `
      import { createMetadataCache } from ${JSON.stringify(join(out, 'cache', 'metadata.js'))};
      const [writer, dir] = process.argv.slice(1);
      const cache = createMetadataCache(dir, { onError: (m) => { console.error(m); process.exitCode = 1; } });
      for (let i = 0; i < 60; i++) {
        await cache.set(${JSON.stringify(REGISTRY)}, 'pkg', 'full', {
          url: 'u', etag: writer + i, lastModified: null, fetchedAt: i, status: 200, body: { writer, i, padding: writer.repeat(100000) },
        });
      }
    `;
    const run = (writer: string) =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, writer, cacheDir], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? 1));
      });

    const cache = createMetadataCache(cacheDir);
    let checking = true;
    let seen = 0;
    const checker = (async () => {
      while (checking) {
        const text = await readFile(entryFile(cacheDir, 'pkg', 'full'), 'utf8').catch(() => null);
        if (text !== null) {
          // Every version of the file that ever becomes visible is a whole, valid entry.
          expect(() => JSON.parse(text)).not.toThrow();
          expect(await cache.get(REGISTRY, 'pkg', 'full')).not.toBeNull();
          seen++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const codes = await Promise.all([run('a'), run('b')]);
    checking = false;
    await checker;
    expect(codes).toEqual([0, 0]);
    const final = await cache.get(REGISTRY, 'pkg', 'full');
    expect((final?.body as { i: number }).i).toBe(59);
    expect(seen).toBeGreaterThan(0);
    expect(await readdir(dirname(entryFile(cacheDir, 'pkg', 'full')))).toHaveLength(1);
  }, 30_000);
});

describe('defaultCacheDir', () => {
  it('follows each platform convention and the override', () => {
    expect(defaultCacheDir({ PORTCULLIS_CACHE_DIR: '/x' }, '/home/u', 'linux')).toBe('/x');
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/xdg' }, '/home/u', 'linux')).toBe(join('/xdg', 'portcullis'));
    expect(defaultCacheDir({}, '/home/u', 'linux')).toBe(join('/home/u', '.cache', 'portcullis'));
    expect(defaultCacheDir({}, '/Users/u', 'darwin')).toBe(join('/Users/u', 'Library', 'Caches', 'portcullis'));
  });
});
