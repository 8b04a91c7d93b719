import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pnpmStorePath, pnpmStorePaths, pnpmStoreRefusal } from './pnpm-store.js';
import { pnpmGlobalVirtualStore, pnpmStoreSettings } from '../setup/pnpm.js';

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
    expect(refused?.fix).toContain('--store-dir=$HOME/.pnpm-store');
    // Beside the project in the same repository, the checkout itself, and a link from outside into it.
    expect(pnpmStoreRefusal({ value: '../store', place: 'p', base: project }, project, home)).toBeDefined();
    expect(pnpmStoreRefusal({ value: repo, place: 'p', base: project }, project, home)).toBeDefined();
    symlinkSync(repo, join(base, 'link'));
    expect(pnpmStoreRefusal({ value: join(base, 'link', 'store'), place: 'p', base: project }, project, home)).toBeDefined();
  });

  it("outside the checkout is left alone: pnpm's default (unset), the test suite's and bench's --store-dir=<home>/pnpm-store", () => {
    const { base, project, home } = checkout();
    expect(pnpmStoreRefusal({ value: '', place: 'p', base: project }, project, home)).toBeUndefined();
    expect(pnpmStoreRefusal({ value: join(home, 'pnpm-store'), place: 'p', base: project }, project, home)).toBeUndefined();
    // `~/` is no longer left alone when read from the project: pnpm 12.24.0 reads it as <project>/~/ (see below).
    expect(pnpmStoreRefusal({ value: '~/.pnpm-store', place: 'p', base: project }, project, home)).toBeDefined();
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

  it("`~/` is judged both ways: pnpm 10 and 11 read it as the home folder, pnpm 12.24.0 as a folder named `~` (r43b)", () => {
    const { project, home } = checkout();
    expect(pnpmStorePaths('~/.pnpm-store', project, home)).toEqual([join(home, '.pnpm-store'), join(project, '~', '.pnpm-store')]);
    expect(pnpmStorePaths('/var/store', project, home)).toEqual(['/var/store']);
    const refused = pnpmStoreRefusal({ value: '~/.pnpm-store', place: 'in pnpm-workspace.yaml', base: project }, project, home);
    expect(refused?.path).toBe(join(project, '~', '.pnpm-store'));
    // Its home reading inside the checkout is refused too (a HOME inside the repository).
    expect(pnpmStoreRefusal({ value: '~/.pnpm-store', place: 'p', base: '/' }, project, project)?.path).toBe(join(project, '.pnpm-store'));
  });

  it('without a .git, a relative folder the repository\'s own files name is taken as inside the checkout; one the user gives is judged by the project folder (r43b)', () => {
    const base = mkdtempSync(join(tmpdir(), 'portcullis-store-nogit-'));
    const project = join(base, 'repo', 'project');
    const home = join(base, 'home');
    mkdirSync(project, { recursive: true });
    mkdirSync(home);
    expect(pnpmStoreRefusal({ value: '../committed-store', place: 'in pnpm-workspace.yaml', base: project, fromRepository: true }, project, home)?.path).toBe(join(base, 'repo', 'committed-store'));
    expect(pnpmStoreRefusal({ value: '../../elsewhere', place: 'in pnpm-workspace.yaml', base: project, fromRepository: true }, project, home)).toBeDefined();
    // The user's own (command line, environment), and absolute folders outside, are left alone.
    expect(pnpmStoreRefusal({ value: '../committed-store', place: "in pnpm's configuration", base: project }, project, home)).toBeUndefined();
    expect(pnpmStoreRefusal({ value: join(home, 'pnpm-store'), place: 'in pnpm-workspace.yaml', base: project, fromRepository: true }, project, home)).toBeUndefined();
    // With a .git above, the checkout's top decides as before.
    const { project: withGit, home: home2 } = checkout();
    expect(pnpmStoreRefusal({ value: '../../elsewhere', place: 'in pnpm-workspace.yaml', base: withGit, fromRepository: true }, withGit, home2)).toBeUndefined();
  });

  it('a virtual store inside the checkout is refused, but not the default node_modules/.pnpm; with the global virtual store on, none inside (r43b)', () => {
    const { project, home } = checkout();
    const vs = (value: string, globalVirtualStore = false) => pnpmStoreRefusal({ key: 'virtualStoreDir', value, place: 'in pnpm-workspace.yaml', base: project, fromRepository: true }, project, home, { globalVirtualStore });
    expect(vs('gvs')?.message).toContain(`pnpm's virtual store (virtualStoreDir "gvs" in pnpm-workspace.yaml) is ${join(project, 'gvs')}`);
    expect(vs('gvs')?.fix).toContain("pnpm's default is node_modules/.pnpm");
    expect(vs('node_modules/.pnpm')).toBeUndefined();
    expect(vs(join(project, 'node_modules', '.pnpm'))).toBeUndefined();
    expect(vs('node_modules/.other')).toBeDefined();
    expect(vs(join(home, 'vs'))).toBeUndefined();
    expect(vs('gvs', true)?.message).toContain('global virtual store');
    expect(vs('gvs', true)?.fix).toContain('enableGlobalVirtualStore off');
    expect(vs('node_modules/.pnpm', true)).toBeDefined();
    expect(vs(join(home, 'vs'), true)).toBeUndefined();
  });

  it('virtualStoreDir and enableGlobalVirtualStore are found where storeDir is', () => {
    const { project } = checkout();
    expect(pnpmGlobalVirtualStore(project, {})).toBe(false);
    writeFileSync(join(project, 'pnpm-workspace.yaml'), 'virtualStoreDir: gvs\nenableGlobalVirtualStore: true\n');
    writeFileSync(join(project, '.npmrc'), 'virtual-store-dir=rc-vs\n');
    expect(pnpmGlobalVirtualStore(project, {})).toBe(true);
    expect(pnpmStoreSettings(project, { pnpm_config_virtual_store_dir: 'env-vs', npm_config_virtual_store_dir: 'env2-vs' }).map((s) => [s.key, s.value, s.place, s.fromRepository === true])).toEqual([
      ['virtualStoreDir', 'gvs', 'in pnpm-workspace.yaml', true],
      ['virtualStoreDir', 'rc-vs', "in the project's .npmrc (virtual-store-dir)", true],
      ['virtualStoreDir', 'env2-vs', 'in the environment (npm_config_virtual_store_dir)', false],
      ['virtualStoreDir', 'env-vs', 'in the environment (pnpm_config_virtual_store_dir)', false],
    ]);
    writeFileSync(join(project, 'pnpm-workspace.yaml'), '');
    writeFileSync(join(project, '.npmrc'), 'enable-global-virtual-store=true\n');
    expect(pnpmGlobalVirtualStore(project, {})).toBe(true);
    writeFileSync(join(project, '.npmrc'), '');
    expect(pnpmGlobalVirtualStore(project, { PNPM_CONFIG_ENABLE_GLOBAL_VIRTUAL_STORE: 'true' })).toBe(true);
    expect(pnpmGlobalVirtualStore(project, { npm_config_enable_global_virtual_store: 'false' })).toBe(false);
  });

  it('a modules folder inside the checkout other than node_modules is refused: pnpm keeps its virtual store in it (r43c)', () => {
    const { project, home } = checkout();
    const modules = (value: string) => pnpmStoreRefusal({ key: 'modulesDir', value, place: 'in pnpm-workspace.yaml', base: project, fromRepository: true }, project, home);
    expect(modules('gvs')?.message).toContain(`pnpm's modules folder (modulesDir "gvs" in pnpm-workspace.yaml) is ${join(project, 'gvs')}`);
    expect(modules('gvs')?.message).toContain(join(project, 'gvs', '.pnpm'));
    expect(modules('gvs')?.fix).toContain("pnpm's default is node_modules");
    expect(modules('node_modules')).toBeUndefined();
    expect(modules(join(project, 'node_modules'))).toBeUndefined();
    expect(modules(join(home, 'modules'))).toBeUndefined();
    writeFileSync(join(project, 'pnpm-workspace.yaml'), 'modulesDir: gvs\n');
    writeFileSync(join(project, '.npmrc'), 'modules-dir=rc-modules\n');
    expect(pnpmStoreSettings(project, { PNPM_CONFIG_MODULES_DIR: 'env-modules' }).map((s) => [s.key, s.value, s.fromRepository === true])).toEqual([
      ['modulesDir', 'gvs', true],
      ['modulesDir', 'rc-modules', true],
      ['modulesDir', 'env-modules', false],
    ]);
  });
});
