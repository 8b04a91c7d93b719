import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PnpmProcess } from './ancestor.js';
import { registriesOf, tellWorkers, toldByUpdateConfig } from './told.js';

const NOW = 1_800_000_000_000;
const PNPMFILE = '/work/app/.pnpmfile.cjs';
const PNPM: PnpmProcess = { pid: 4242, startTime: '991', argv: ['add', 'left-pad'] };
const REGISTRIES = { default: 'http://127.0.0.1:4002/', '@acme': 'https://acme.example/npm/' };

function setUp() {
  const base = mkdtempSync(join(tmpdir(), 'portcullis-told-'));
  return { env: { PORTCULLIS_CACHE_DIR: join(base, 'cache'), PORTCULLIS_STATE_DIR: join(base, 'state') }, dir: join(base, 'project'), folder: join(base, 'state', 'pnpm-told-v1') };
}

describe("pnpm 12: the project's folder and pnpm's registries, told by updateConfig to the other hook workers", () => {
  it('is believed by a worker of the same pnpm process, for the same pnpmfile, for two minutes; credentials are never written', () => {
    const { env, dir, folder } = setUp();
    expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
    const config = { registriesByScope: REGISTRIES, authConfig: { '//127.0.0.1:4002/:_authToken': 'secret-token' } };
    expect(tellWorkers(PNPMFILE, PNPM, dir, config, env, NOW)).toBe(true);
    expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW + 500)).toEqual({ dir, registries: REGISTRIES });
    expect(readFileSync(join(folder, readdirSync(folder)[0]!), 'latin1')).not.toContain('secret-token');
    expect(toldByUpdateConfig(PNPMFILE, { ...PNPM, pid: 4243 }, env, NOW)).toBeUndefined();
    expect(toldByUpdateConfig(PNPMFILE, { ...PNPM, startTime: '992' }, env, NOW)).toBeUndefined();
    expect(toldByUpdateConfig(PNPMFILE, undefined, env, NOW)).toBeUndefined();
    expect(toldByUpdateConfig('/work/other/.pnpmfile.cjs', PNPM, env, NOW)).toBeUndefined();
    expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW + 2 * 60 * 1000 + 1)).toBeUndefined();
    expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW - 1)).toBeUndefined();
    // only this user's state folder is looked in
    expect(toldByUpdateConfig(PNPMFILE, PNPM, { ...env, PORTCULLIS_STATE_DIR: join(env.PORTCULLIS_STATE_DIR, 'other') }, NOW)).toBeUndefined();
  });

  it('a file edited to name anything but registries by scope, or another folder shape, is not believed', () => {
    const { env, dir, folder } = setUp();
    tellWorkers(PNPMFILE, PNPM, dir, { registriesByScope: REGISTRIES }, env, NOW);
    const file = join(folder, readdirSync(folder)[0]!);
    const text = readFileSync(file, 'latin1');
    for (const [from, to] of [['"@acme":', '"__proto__":'], ['"@acme":', '"acme":'], ['https://acme.example/npm/', 'file:///etc/'], ['https://acme.example/npm/', 'https://user:pw@acme.example/'], ['http://127.0.0.1:4002/', 'http://x y/'], [`"dir":${JSON.stringify(dir)}`, '"dir":"relative/dir"'], ['"pid":4242', '"pid":4243']]) {
      const edited = text.replace(from!, to!);
      expect(edited, to).not.toBe(text);
      writeFileSync(file, Buffer.from(edited, 'latin1'));
      expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW), to).toBeUndefined();
    }
    writeFileSync(file, Buffer.from(text, 'latin1'));
    expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW)).toBeDefined();
  });

  it("tells nothing when pnpm's registries are not that shape (a URL with credentials among them included)", () => {
    const { env, dir } = setUp();
    expect(registriesOf({ registriesByScope: REGISTRIES, authConfig: { registry: 'http://other/' } })).toEqual(REGISTRIES);
    for (const byScope of [undefined, {}, { default: 42 }, { default: 'ftp://x/' }, { 'not a scope': 'http://x/' }, { default: 'https://user:secret@registry.example/' }, { default: 'https://token@registry.example/npm/' }, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`@s${i}`, 'http://x/']))]) {
      expect(registriesOf({ registriesByScope: byScope }), JSON.stringify(byScope)?.slice(0, 60)).toBeUndefined();
      expect(tellWorkers(PNPMFILE, PNPM, dir, { registriesByScope: byScope }, env, NOW)).toBe(false);
    }
    expect(toldByUpdateConfig(PNPMFILE, PNPM, env, NOW)).toBeUndefined();
  });
});
