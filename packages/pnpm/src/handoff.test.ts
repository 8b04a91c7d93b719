import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cacheDirLeft, leaveCacheDir } from './handoff.js';

const envWith = () => ({ PORTCULLIS_CACHE_DIR: join(mkdtempSync(join(tmpdir(), 'portcullis-handoff-')), 'cache') });
const FOLDER = 'pnpm-workers-v1';
const fileOf = (projectDir: string) => `${createHash('sha256').update(projectDir).digest('hex').slice(0, 40)}.json`;
const NOW = 1_800_000_000_000;
const DAY = 24 * 60 * 60 * 1000;

describe("pnpm 12's cache folder, from updateConfig's worker to the next", () => {
  it('is found for the same project only, for a day; the newest install wins', () => {
    const env = envWith();
    leaveCacheDir('/home/u/.cache/pnpm', '/work/app', env, NOW);
    leaveCacheDir('/other/pnpm-cache', '/work/lib', env, NOW);
    expect(cacheDirLeft('/work/app', env, NOW + 1000)).toBe('/home/u/.cache/pnpm');
    expect(cacheDirLeft('/work/lib', env, NOW + 1000)).toBe('/other/pnpm-cache');
    expect(cacheDirLeft('/work/elsewhere', env, NOW + 1000)).toBeUndefined();
    expect(cacheDirLeft('/work/app', env, NOW + DAY + 1)).toBeUndefined();
    leaveCacheDir('/new/pnpm', '/work/app', env, NOW + 5000);
    expect(cacheDirLeft('/work/app', env, NOW + 6000)).toBe('/new/pnpm');
  });

  it('keeps one file per project: a write never drops another project\'s entry, and old ones are pruned', () => {
    const env = envWith();
    for (let i = 0; i < 100; i++) leaveCacheDir(`/c/${i}`, `/p/${i}`, env, NOW);
    for (let i = 0; i < 100; i++) expect(cacheDirLeft(`/p/${i}`, env, NOW + 1)).toBe(`/c/${i}`);
    const dir = join(env.PORTCULLIS_CACHE_DIR, FOLDER);
    expect(readdirSync(dir).length).toBe(100);
    // Each write prunes a few (another folder each time: a repeat of the same handoff writes nothing, below).
    for (let i = 0; i < 4; i++) leaveCacheDir(`/fresh/${i}`, '/p/new', env, NOW + DAY + 1);
    expect(readdirSync(dir)).toEqual([fileOf('/p/new')]);
  });

  it('is not written again by a repeat install within the hour (same folder); a changed folder or an older entry is', () => {
    const env = envWith();
    const file = join(env.PORTCULLIS_CACHE_DIR, FOLDER, fileOf('/work/app'));
    const stamp = () => (JSON.parse(readFileSync(file, 'utf8')) as { at: number; cacheDir: string });
    leaveCacheDir('/c/pnpm', '/work/app', env, NOW);
    leaveCacheDir('/c/pnpm', '/work/app', env, NOW + 59 * 60 * 1000);
    expect(stamp()).toMatchObject({ at: NOW, cacheDir: '/c/pnpm' });
    expect(cacheDirLeft('/work/app', env, NOW + 59 * 60 * 1000)).toBe('/c/pnpm');
    leaveCacheDir('/c/other', '/work/app', env, NOW + 60 * 1000);
    expect(stamp()).toMatchObject({ at: NOW + 60 * 1000, cacheDir: '/c/other' });
    leaveCacheDir('/c/other', '/work/app', env, NOW + 2 * 60 * 60 * 1000);
    expect(stamp()).toMatchObject({ at: NOW + 2 * 60 * 60 * 1000, cacheDir: '/c/other' });
  });

  it('reads hostile files as no hint: relative paths, other shapes, another project, prototype keys, oversized files', () => {
    const env = envWith();
    leaveCacheDir('/fine', '/p/2', env, NOW);
    leaveCacheDir('relative/pnpm', '/p/1', env, NOW);
    leaveCacheDir('/x', 'relative/project', env, NOW);
    expect(cacheDirLeft('/p/1', env, NOW)).toBeUndefined();
    expect(cacheDirLeft('relative/project', env, NOW)).toBeUndefined();
    expect(cacheDirLeft('/p/2', env, NOW)).toBe('/fine');
    const dir = join(env.PORTCULLIS_CACHE_DIR, FOLDER);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, fileOf('/p/1'));
    const at = NOW;
    for (const text of ['[]', 'null', `{"projectDir": "/p/1", "cacheDir": "/x", "at": "now"}`, `{"projectDir": "/p/1", "cacheDir": 5, "at": ${at}}`, `{"cacheDir": "/x", "at": ${at}}`, `{"projectDir": "/p/9", "cacheDir": "/x", "at": ${at}}`, `{"__proto__": {"projectDir": "/p/1", "cacheDir": "/x", "at": ${at}}}`, `{"projectDir": "/p/1", "cacheDir": "x/../y", "at": ${at}}`, `{"projectDir": "/p/1", "cacheDir": "/x", "at": ${at}, "pad": "${'x'.repeat(9_000)}"}`, 'not json']) {
      writeFileSync(file, text);
      expect(cacheDirLeft('/p/1', env, NOW), text.slice(0, 60)).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).cacheDir).toBeUndefined();
    expect(existsSync(join(dir, fileOf('relative/project')))).toBe(false);
  });
});
