import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pnpmStorePath, pnpmStoreRefusal } from './pnpm-store.js';
import { pnpmStoreSettings } from '../setup/pnpm.js';

function checkout() {
  const base = mkdtempSync(join(tmpdir(), 'portcullis-store-'));
  const repo = join(base, 'repo');
  const project = join(repo, 'web');
  const home = join(base, 'home');
  mkdirSync(join(repo, '.git'), { recursive: true });
  mkdirSync(project, { recursive: true });
  mkdirSync(home);
  return { base, repo, project, home };
}

describe("pnpm's store folder", () => {
  it('is read as pnpm reads it: `~/` from the home folder, a relative value from the base folder', () => {
    expect(pnpmStorePath('~/.pnpm-store', '/repo', '/home/u')).toBe('/home/u/.pnpm-store');
    expect(pnpmStorePath('.pnpm-store', '/repo/web', '/home/u')).toBe('/repo/web/.pnpm-store');
    expect(pnpmStorePath('../../store', '/repo/web', '/home/u')).toBe('/store');
    expect(pnpmStorePath('/var/store', '/repo', '/home/u')).toBe('/var/store');
  });

  it('inside the checkout is refused (the same rule as the kept metadata cache): committed, beside the project, linked in', () => {
    const { base, repo, project, home } = checkout();
    const refused = pnpmStoreRefusal({ value: '.pnpm-store', place: 'in pnpm-workspace.yaml', base: project }, project, home);
    expect(refused?.path).toBe(join(project, '.pnpm-store'));
    expect(refused?.message).toContain('storeDir ".pnpm-store" in pnpm-workspace.yaml');
    expect(refused?.message).toContain(join(project, '.pnpm-store'));
    expect(refused?.fix).toContain('--store-dir=~/.pnpm-store');
    // Beside the project in the same repository, the checkout itself, and a link from outside into it.
    expect(pnpmStoreRefusal({ value: '../store', place: 'p', base: project }, project, home)).toBeDefined();
    expect(pnpmStoreRefusal({ value: repo, place: 'p', base: project }, project, home)).toBeDefined();
    symlinkSync(repo, join(base, 'link'));
    expect(pnpmStoreRefusal({ value: join(base, 'link', 'store'), place: 'p', base: project }, project, home)).toBeDefined();
  });

  it("outside the checkout is left alone: pnpm's default (unset), the test suite's and bench's --store-dir=<home>/pnpm-store, `~/`", () => {
    const { base, project, home } = checkout();
    expect(pnpmStoreRefusal({ value: '', place: 'p', base: project }, project, home)).toBeUndefined();
    expect(pnpmStoreRefusal({ value: join(home, 'pnpm-store'), place: 'p', base: project }, project, home)).toBeUndefined();
    expect(pnpmStoreRefusal({ value: '~/.pnpm-store', place: 'p', base: project }, project, home)).toBeUndefined();
    expect(pnpmStoreRefusal({ value: '../../elsewhere', place: 'p', base: project }, project, home)).toBeUndefined();
    expect(pnpmStoreRefusal({ value: join(base, 'not-yet', 'store'), place: 'p', base: project }, project, home)).toBeUndefined();
  });

  it('is found in pnpm-workspace.yaml, the project .npmrc and both environment variables', () => {
    const { project } = checkout();
    expect(pnpmStoreSettings(project, {})).toEqual([]);
    writeFileSync(join(project, 'pnpm-workspace.yaml'), 'storeDir: .pnpm-store\n');
    writeFileSync(join(project, '.npmrc'), 'registry=http://127.0.0.1:9/\nstore-dir=npmrc-store\n');
    const found = pnpmStoreSettings(project, { npm_config_store_dir: 'env-store', PNPM_CONFIG_STORE_DIR: 'env2-store' });
    expect(found.map((s) => [s.value, s.place])).toEqual([
      ['.pnpm-store', 'in pnpm-workspace.yaml'],
      ['npmrc-store', "in the project's .npmrc (store-dir)"],
      ['env-store', 'in the environment (npm_config_store_dir)'],
      ['env2-store', 'in the environment (PNPM_CONFIG_STORE_DIR)'],
    ]);
    expect(found.every((s) => s.base === project)).toBe(true);
    // Hostile files: not a mapping, a value that is not a string.
    writeFileSync(join(project, 'pnpm-workspace.yaml'), 'storeDir: [1, 2]\n');
    writeFileSync(join(project, '.npmrc'), '');
    expect(pnpmStoreSettings(project, {})).toEqual([]);
  });
});
