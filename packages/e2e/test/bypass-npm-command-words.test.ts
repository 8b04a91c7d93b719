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
 *
 * Where npm reads its command line otherwise than portcullis-npm did (second review wave of round 43):
 * - `--` ends npm's options (nopt drops it): `npm -- ci` is `npm ci`, while the wrapper took `--` as the command and
 *   passed everything to npm;
 * - `--no-<option> <word>` for an option that may hold a string (`browser`, `script-shell`, …): nopt gives it the next
 *   word, the wrapper did not, so `--no-browser test ci` was `test` (passed through) to the wrapper and `ci` to npm.
 * Before: exit 0 with the badly signed `tampered-lib` installed on npm 10.9.9, 11.21.2 and 12.2.3, and with
 * ignore-scripts not in .npmrc, `evil-postinstall` ran on npm 10 and 11. Now `--` is read as npm reads it, and a command
 * line where npm may take another word than the wrapper as a command that is gated or refused is refused (exit 2).
 * - `pack`, `diff --diff=` and `cache add` passed a git spec to npm, whose pacote prepares it (npm 10: its `prepare`,
 *   whatever ignore-scripts says). Now these take only registry packages and local paths.
 * - `global=true` or `location=global` in an .npmrc makes npm install into its global prefix, outside the project the
 *   gate judged; the wrapper saw only the command line and the environment (npm's own errors refused some of it). Now
 *   a global install set in npm's configuration is refused (exit 2) unless the command line turns it off.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSourceServer, type SourceServer } from '../src/corpus/sources.js';
import { createProject, markersOf, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
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
const ran = markersOf;

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

describe.each([10, 11, 12] as const)('npm %i: the command line as npm reads it', (major) => {
  let sources: SourceServer;
  beforeAll(async () => {
    sources = await startSourceServer();
  });
  afterAll(async () => {
    await sources?.close();
  });
  const tamperedInstalled = (project: Project) => existsSync(join(project.dir, 'node_modules', 'tampered-lib', 'package.json'));

  it('`-- ci` is npm ci: gated (BAD_SIGNATURE, exit 1), nothing installed', async () => {
    const project = await setUp(major);
    const result = await portcullisNpm(npm(major), project, ['--', 'ci']);
    expect(result.code, out(result)).toBe(1);
    expect(out(result)).toContain('BAD_SIGNATURE');
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it.each([
    ['--no-browser test ci', ['--no-browser', 'test', 'ci']],
    ['--no-script-shell ls install', ['--no-script-shell', 'ls', 'install']],
  ])('%s: refused (npm would run another command than the one read), nothing installed', async (_label, args) => {
    const project = await setUp(major);
    const result = await portcullisNpm(npm(major), project, args);
    expect(result.code, out(result)).toBe(2);
    expect(out(result)).toContain('may read');
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it('`-- ci` with ignore-scripts not in .npmrc: nothing runs, nothing installed', async () => {
    const project = await setUp(major, false);
    const result = await portcullisNpm(npm(major), project, ['--', 'ci']);
    expect(result.code, out(result)).toBe(1);
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  const optIn = major === 10 ? [] : ['--allow-git=all'];
  it.each([
    ['pack <git>', (u: string) => ['pack', u, ...optIn]],
    ['cache add <git>', (u: string) => ['cache', 'add', u, ...optIn]],
    ['diff --diff=<git>', (u: string) => ['diff', `--diff=${u}`, `--diff=${u}`, ...optIn]],
  ] as const)('%s: refused (exit 2), none of the git package scripts run', async (_label, args) => {
    const project = createProject('npm', registry.url, {}, { policy: { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    const init = await portcullis(project, ['init', 'npm']);
    expect(init.code, out(init)).toBe(0);
    const result = await portcullisNpm(npm(major), project, args(sources.gitFileUrl));
    expect(result.code, out(result)).toBe(2);
    expect(out(result)).toContain('would fetch');
    expect(ran(project)).toEqual([]);
  });

  it.each([
    ['global=true', ['install']],
    ['global=true', ['install', 'keep-me']],
    ['location=global', ['ci']],
  ])('%s in the project .npmrc, %s: refused (a global install), nothing installed in the global prefix or run', async (setting, args) => {
    const project = await setUp(major);
    appendFileSync(join(project.dir, '.npmrc'), `${setting}\n`);
    const prefix = mkdtempSync(join(tmpdir(), 'portcullis-global-prefix-'));
    const result = await portcullisNpm(npm(major), project, args, { npm_config_prefix: prefix });
    expect(result.code, out(result)).toBe(2);
    expect(out(result)).toContain(`${setting} in ${join(project.dir, '.npmrc')}`);
    expect(readdirSync(prefix)).toEqual([]);
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });
});
