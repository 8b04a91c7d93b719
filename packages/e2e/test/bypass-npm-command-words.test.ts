/**
 * npm command words portcullis-npm did not recognise went straight to npm (review round 43, N1). npm expands unique
 * prefixes and camelCase of its command names (cmd-list.js `deref`: `cleanInstall` → `ci`, `upd` → `update`,
 * `installCiTest` → `install-ci-test`), `uninstall` and `prune` reify the whole lockfile, and `create <x>` / `init <x>`
 * are `npm exec create-<x>`; the wrapper knew only a fixed alias list. Before: exit 0 with the badly signed package
 * installed on npm 10.9.9, 11.21.2 and 12.2.3; evil-postinstall ran for `cleanInstall` and `reb` on npm 10 and 11 without
 * ignore-scripts in .npmrc; `exe`/`create` ran an unverified bin. Now the word is read as that npm reads it
 * (packages/npm/src/commands.ts, pinned by npm-command-words.test.ts): installing commands are gated (uninstall and prune
 * too), exec-like ones and `link` refused (exit 2).
 *
 * Project: a lockfile (written by plain npm) with `tampered-lib` (signature does not verify) and `evil-postinstall`
 * (postinstall, not allowed); `portcullis init npm` done (ignore-scripts=true in .npmrc). Secure outcome for every
 * command: not exit 0 with tampered-lib installed; no marker.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  const bin = `#!/usr/bin/env node\n${markerScript('create-evil', '1.0.0', 'bin').replace(/^node -e "/, '').replace(/"$/, '')}\n`;
  registry = await startRegistry({
    packages: [
      cleanPackage('tampered-lib', '1.0.0', { signature: 'corrupt' }),
      withPostinstall('evil-postinstall', '1.0.0'),
      cleanPackage('keep-me', '1.0.0'),
      withPostinstall('allowed-build', '1.0.0'),
      cleanPackage('create-evil', '1.0.0', { bin: { 'create-evil': 'bin.js' }, files: { 'bin.js': bin } }),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = (p: Project) => (existsSync(p.markers) ? readdirSync(p.markers).sort() : []);

async function setUp(major: 10 | 11 | 12, npmrcScriptsOff = true, dependencies: Record<string, string> = { 'tampered-lib': '1.0.0', 'evil-postinstall': '1.0.0', 'keep-me': '1.0.0' }): Promise<Project> {
  const tool = npm(major);
  const policy = { scripts: { allow: ['allowed-build@1.0.0'] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
  const project = createProject('npm', registry.url, dependencies, { policy });
  const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project.dir, env: project.env });
  expect(lock.code, out(lock)).toBe(0);
  const init = await portcullis(project, ['init', 'npm']);
  expect(init.code, out(init)).toBe(0);
  if (!npmrcScriptsOff) {
    const npmrc = join(project.dir, '.npmrc');
    writeFileSync(npmrc, readFileSync(npmrc, 'utf8').replace(/^ignore-scripts=true\n?/m, ''));
  }
  return project;
}

const COMMANDS: Array<[string, string[]]> = [
  ['control: ci', ['ci']],
  ['cleanInstall', ['cleanInstall']],
  ['install-cl', ['install-cl']],
  ['installCiTest', ['installCiTest']],
  ['upd', ['upd']],
  ['ded', ['ded']],
  ['uninstall keep-me', ['uninstall', 'keep-me']],
  ['prune', ['prune']],
  ['r keep-me', ['r', 'keep-me']],
];

describe.each([10, 11, 12] as const)('npm %i', (major) => {
  it.each(COMMANDS)('%s: never installs the badly signed tampered-lib with exit 0', async (_label, args) => {
    const tool = npm(major);
    const project = await setUp(major);
    const result = await portcullisNpm(tool, project, args);
    const installed = existsSync(join(project.dir, 'node_modules', 'tampered-lib', 'package.json'));
    const check = await portcullis(project, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(result.code, out(result)).toBe(1);
    expect(out(result)).toContain('BAD_SIGNATURE');
    expect(installed, out(result)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it('cleanInstall with ignore-scripts not in .npmrc: evil-postinstall never runs', async () => {
    const tool = npm(major);
    const project = await setUp(major, false);
    const result = await portcullisNpm(tool, project, ['cleanInstall']);
    const installed = existsSync(join(project.dir, 'node_modules', 'tampered-lib', 'package.json'));
    expect(ran(project)).toEqual([]);
    expect(result.code === 0 && installed, out(result)).toBe(false);
  });

  it('exe create-evil: runs no unverified package (exec is refused, its abbreviation is not)', async () => {
    const tool = npm(major);
    const project = await setUp(major);
    const result = await portcullisNpm(tool, project, ['exe', '--yes', 'create-evil']);
    expect(result.code, out(result)).toBe(2);
    expect(result.stderr).toContain('not gated');
    expect(ran(project)).toEqual([]);
  });

  it('reb with ignore-scripts not in .npmrc, after a gated ci: runs no script that is not allowed', async () => {
    const tool = npm(major);
    const project = await setUp(major, false);
    // A clean lockfile without tampered-lib, so that the gated ci installs (evil-postinstall skipped, not allowed).
    const lock = join(project.dir, 'package-lock.json');
    const data = JSON.parse(readFileSync(lock, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    delete data.packages['node_modules/tampered-lib'];
    delete (data.packages[''] as { dependencies: Record<string, string> }).dependencies['tampered-lib'];
    writeFileSync(lock, `${JSON.stringify(data, null, 2)}\n`);
    const pj = join(project.dir, 'package.json');
    const manifest = JSON.parse(readFileSync(pj, 'utf8')) as { dependencies: Record<string, string> };
    delete manifest.dependencies['tampered-lib'];
    writeFileSync(pj, `${JSON.stringify(manifest, null, 2)}\n`);
    const ci = await portcullisNpm(tool, project, ['ci']);
    expect(ci.code, out(ci)).toBe(0);
    expect(ran(project)).toEqual([]);
    const result = await portcullisNpm(tool, project, ['reb']);
    expect(result.code, out(result)).toBe(0);
    expect(ran(project)).toEqual([]);
  });

  it('create evil: runs no unverified package', async () => {
    const tool = npm(major);
    const project = await setUp(major);
    rmSync(join(project.dir, 'package-lock.json'));
    const result = await portcullisNpm(tool, project, ['create', 'evil', '--yes']);
    expect(result.code, out(result)).toBe(2);
    expect(result.stderr).toContain('create-<initializer>');
    expect(ran(project)).toEqual([]);
  });

  it('ln is refused (exit 2), nothing installed', async () => {
    const tool = npm(major);
    const project = await setUp(major);
    const result = await portcullisNpm(tool, project, ['ln']);
    expect(result.code, out(result)).toBe(2);
    expect(result.stderr).toContain('npm link');
    expect(existsSync(join(project.dir, 'node_modules'))).toBe(false);
  });

  it('uninstall and prune through the gate still do their work; only the allowed script runs', async () => {
    const tool = npm(major);
    const project = await setUp(major, false, { 'evil-postinstall': '1.0.0', 'keep-me': '1.0.0', 'allowed-build': '1.0.0' });
    const ci = await portcullisNpm(tool, project, ['ci']);
    expect(ci.code, out(ci)).toBe(0);
    expect(ran(project)).toEqual(['allowed-build@1.0.0.ran']);
    const un = await portcullisNpm(tool, project, ['un', 'keep-me']);
    expect(un.code, out(un)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', 'keep-me'))).toBe(false);
    expect(readFileSync(join(project.dir, 'package.json'), 'utf8')).not.toContain('keep-me');
    expect(readFileSync(join(project.dir, 'package-lock.json'), 'utf8')).not.toContain('keep-me');
    expect(existsSync(join(project.dir, 'node_modules', 'evil-postinstall', 'package.json'))).toBe(true);
    // prune: a package the lockfile no longer holds is removed; what it holds stays, and evil-postinstall never runs.
    const lock = join(project.dir, 'package-lock.json');
    const data = JSON.parse(readFileSync(lock, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    delete data.packages['node_modules/evil-postinstall'];
    delete (data.packages[''] as { dependencies: Record<string, string> }).dependencies['evil-postinstall'];
    writeFileSync(lock, `${JSON.stringify(data, null, 2)}\n`);
    const pj = join(project.dir, 'package.json');
    const manifest = JSON.parse(readFileSync(pj, 'utf8')) as { dependencies: Record<string, string> };
    delete manifest.dependencies['evil-postinstall'];
    writeFileSync(pj, `${JSON.stringify(manifest, null, 2)}\n`);
    const prune = await portcullisNpm(tool, project, ['prune']);
    expect(prune.code, out(prune)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', 'evil-postinstall'))).toBe(false);
    expect(existsSync(join(project.dir, 'node_modules', 'allowed-build', 'package.json'))).toBe(true);
    expect(ran(project).filter((m) => m.startsWith('evil'))).toEqual([]);
    const check = await portcullis(project, ['check']);
    expect(check.code, out(check)).toBe(0);
  });
});
