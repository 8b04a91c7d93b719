import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDirLeft, leaveCacheDir } from './handoff.js';

const envWith = () => ({ PORTCULLIS_CACHE_DIR: join(mkdtempSync(join(tmpdir(), 'portcullis-handoff-')), 'cache') });
const FILE = 'pnpm-workers-v1.json';

describe("pnpm 12's cache folder, from updateConfig's worker to the next", () => {
  it('is found by a worker of the same pnpm process only, for a day', () => {
    const env = envWith();
    const now = 1_800_000_000_000;
    leaveCacheDir('/home/u/.cache/pnpm', env, 4242, now);
    leaveCacheDir('/other/pnpm-cache', env, 5151, now);
    expect(cacheDirLeft(env, 4242, now + 1000)).toBe('/home/u/.cache/pnpm');
    expect(cacheDirLeft(env, 5151, now + 1000)).toBe('/other/pnpm-cache');
    expect(cacheDirLeft(env, 7777, now + 1000)).toBeUndefined();
    // Another pnpm that had the same pid long ago: no hint.
    expect(cacheDirLeft(env, 4242, now + 25 * 60 * 60 * 1000)).toBeUndefined();
    // The same pid again: the newer folder.
    leaveCacheDir('/new/pnpm', env, 4242, now + 5000);
    expect(cacheDirLeft(env, 4242, now + 6000)).toBe('/new/pnpm');
  });

  it('keeps a bounded file', () => {
    const env = envWith();
    for (let pid = 100; pid < 200; pid++) leaveCacheDir(`/c/${pid}`, env, pid, 1_800_000_000_000);
    const kept = Object.keys(JSON.parse(readFileSync(join(env.PORTCULLIS_CACHE_DIR, FILE), 'utf8')) as object);
    expect(kept.length).toBe(32);
    expect(cacheDirLeft(env, 199, 1_800_000_000_001)).toBe('/c/199');
    expect(cacheDirLeft(env, 100, 1_800_000_000_001)).toBeUndefined();
  });

  it('reads hostile files as no hint: relative paths, other shapes, prototype keys, oversized files', () => {
    const env = envWith();
    const now = 1_800_000_000_000;
    leaveCacheDir('/fine', env, 2, now);
    leaveCacheDir('relative/pnpm', env, 1, now);
    expect(cacheDirLeft(env, 1, now)).toBeUndefined();
    expect(cacheDirLeft(env, 2, now)).toBe('/fine');
    const file = join(env.PORTCULLIS_CACHE_DIR, FILE);
    for (const text of ['[]', 'null', '{"1": {"cacheDir": "/x", "at": "now"}}', '{"1": {"cacheDir": 5, "at": 1}}', '{"__proto__": {"cacheDir": "/x", "at": 1800000000000}}', '{"1": {"cacheDir": "x/../y", "at": 1800000000000}}', `{"1": {"cacheDir": "/x", "at": 1800000000000}, "pad": "${'x'.repeat(70_000)}"}`, 'not json']) {
      writeFileSync(file, text);
      expect(cacheDirLeft(env, 1, now), text.slice(0, 60)).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).cacheDir).toBeUndefined();
  });
});
