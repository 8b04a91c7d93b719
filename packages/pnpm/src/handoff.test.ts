import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDirLeft, leaveCacheDir } from './handoff.js';

const envWith = () => ({ PORTCULLIS_CACHE_DIR: join(mkdtempSync(join(tmpdir(), 'portcullis-handoff-')), 'cache') });
const FOLDER = 'pnpm-workers-v1';

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

  it('keeps one file per pnpm process: a write never drops another pnpm\'s entry, and old ones are pruned', () => {
    const env = envWith();
    const now = 1_800_000_000_000;
    for (let pid = 100; pid < 200; pid++) leaveCacheDir(`/c/${pid}`, env, pid, now);
    for (let pid = 100; pid < 200; pid++) expect(cacheDirLeft(env, pid, now + 1)).toBe(`/c/${pid}`);
    const dir = join(env.PORTCULLIS_CACHE_DIR, FOLDER);
    expect(readdirSync(dir).length).toBe(100);
    // A day later, each write drops some of the stale files; enough writes empty the folder of them.
    const later = now + 25 * 60 * 60 * 1000;
    for (let i = 0; i < 4; i++) leaveCacheDir('/fresh', env, 4242, later);
    expect(readdirSync(dir).sort()).toEqual(['4242.json']);
  });

  it('reads hostile files as no hint: relative paths, other shapes, prototype keys, oversized files', () => {
    const env = envWith();
    const now = 1_800_000_000_000;
    leaveCacheDir('/fine', env, 2, now);
    leaveCacheDir('relative/pnpm', env, 1, now);
    expect(cacheDirLeft(env, 1, now)).toBeUndefined();
    expect(cacheDirLeft(env, 2, now)).toBe('/fine');
    const dir = join(env.PORTCULLIS_CACHE_DIR, FOLDER);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, '1.json');
    for (const text of ['[]', 'null', '{"cacheDir": "/x", "at": "now"}', '{"cacheDir": 5, "at": 1}', '{"__proto__": {"cacheDir": "/x", "at": 1800000000000}}', '{"cacheDir": "x/../y", "at": 1800000000000}', `{"cacheDir": "/x", "at": 1800000000000, "pad": "${'x'.repeat(9_000)}"}`, 'not json']) {
      writeFileSync(file, text);
      expect(cacheDirLeft(env, 1, now), text.slice(0, 60)).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).cacheDir).toBeUndefined();
    // Pids that are not pids: nothing written, nothing read.
    leaveCacheDir('/x', env, 0, now);
    leaveCacheDir('/x', env, -5, now);
    expect(existsSync(join(dir, '0.json'))).toBe(false);
    expect(cacheDirLeft(env, 0, now)).toBeUndefined();
  });
});
