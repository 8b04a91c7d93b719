/**
 * Tenth wave, G1: a git dependency's own `.npmrc`. npm 10 and 11 install the clone of a git dependency that has a
 * `prepare`, `build`, `prepack` or install script with a nested `npm install` in the clone (pacote's preparation),
 * whatever --ignore-scripts says, and that npm reads the clone's `.npmrc` as its project configuration: there
 * `node-options` becomes NODE_OPTIONS for every Node process it starts (a git dependency of the clone is fetched by
 * one more nested npm), so the repository's code runs without any script. npm 12's pacote skips the preparation
 * under --ignore-scripts. The repositories are built here, with git, as data.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmDrivers, output, type Driver } from '../src/corpus/drivers.js';
import { corpusPackages } from '../src/corpus/packages.js';
import { cloneConfigRepositories } from '../src/git-repository.js';
import { run, type Project } from '../src/project.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: corpusPackages });
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\ngit clone configuration results:\n${results.join('\n')}\n`);
});

/**
 * `git-outer` (in `allowUnsigned`, not `scripts.allow`): `scripts` as given, a git devDependency with a `prepare`, and an
 * `.npmrc` whose `node-options` imports a data: module that leaves `marker`.
 */
async function attack(driver: Driver, scripts: Record<string, string>, allow: string[] = [], extra: object = {}): Promise<{ project: Project; marker: string }> {
  const project = await driver.project(registry.url, {}, { scripts: { allow }, signatures: { allowUnsigned: ['git-outer'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
  const root = join(project.dir, '..', 'repositories');
  const marker = join(project.dir, '..', 'clone-node-options-ran');
  const outer = (await cloneConfigRepositories(root, marker, { scripts, ...extra })).url;
  const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8'));
  writeFileSync(join(project.dir, 'package.json'), JSON.stringify({ ...manifest, dependencies: { 'git-outer': outer } }, null, 2));
  return { project, marker };
}

/** npm 10 has no allow-git setting; 11 and 12 fetch no git dependency without it. */
const allowGit = (driver: Driver) => (driver.tool.version.startsWith('10.') ? [] : ['--allow-git=all']);
const clonePrepared = (driver: Driver) => !driver.tool.version.startsWith('12.');

function record(driver: Driver, label: string, r: { code: number; stdout: string; stderr: string }, ran: boolean): void {
  const codes = [...new Set(output(r).match(/SCRIPT_NOT_ALLOWED|UNSIGNED_SOURCE/g) ?? [])];
  results.push(`${driver.label} | ${label} | exit ${r.code} | ${codes.join(' ') || '-'} | clone code ran: ${ran}`);
}

describe.each(npmDrivers().map((d) => [d.label, d] as const))('%s: a git dependency whose clone has its own .npmrc', (_label, driver) => {
  it.each([
    ['prepare', { prepare: 'node -e 0' }],
    ['build only', { build: 'node -e 0' }],
  ])('install: node-options in the clone runs none of its code (%s)', async (label, scripts) => {
    const { project, marker } = await attack(driver, scripts);
    const r = await driver.install(project, allowGit(driver));
    record(driver, `install, ${label}`, r, existsSync(marker));
    expect(existsSync(marker), output(r)).toBe(false);
    if (clonePrepared(driver)) {
      expect(r.code, output(r)).toBe(1);
      expect(output(r)).toContain('SCRIPT_NOT_ALLOWED');
      expect(output(r)).toContain('git-outer');
    } else expect(r.code, output(r)).toBe(0);
  }, 120_000);

  it('ci from a lockfile naming it: none of its code runs', async () => {
    const { project, marker } = await attack(driver, { prepare: 'node -e 0' });
    // The attacker's own lockfile (written by a plain npm, which may run the clone's code on the attacker's machine).
    const lock = await driver.plain(project, ['install', '--package-lock-only', '--ignore-scripts', ...allowGit(driver)]);
    expect(lock.code, output(lock)).toBe(0);
    rmSync(marker, { force: true });
    const r = await driver.frozen(project, allowGit(driver));
    record(driver, 'ci', r, existsSync(marker));
    expect(existsSync(marker), output(r)).toBe(false);
    expect(r.code, output(r)).toBe(clonePrepared(driver) ? 1 : 0);
    const check = await run('node', [join(import.meta.dirname, '../../cli/dist/portcullis.js'), 'check'], { cwd: project.dir, env: project.env });
    expect(check.code, output(check)).toBe(1);
  }, 120_000);

  it.each([
    ['only a build script', { build: 'node -e 0' }, {}],
    ['no script, workspaces: []', {}, { workspaces: [] }],
  ])('check after a plain install of a clone with %s: blocked, as the wrapper refuses it', async (label, scripts, extra) => {
    const { project } = await attack(driver, scripts, [], extra);
    const plain = await driver.plain(project, ['install', '--ignore-scripts', ...allowGit(driver)]);
    expect(plain.code, output(plain)).toBe(0);
    const check = await run('node', [join(import.meta.dirname, '../../cli/dist/portcullis.js'), 'check'], { cwd: project.dir, env: project.env });
    record(driver, `check after a plain install, ${label}`, check, false);
    expect(check.code, output(check)).toBe(1);
    expect(output(check)).toContain('git-outer');
  }, 120_000);

  it('ci from a lockfile spelling its URL in capitals (GIT+file:, which npm clones as git+file:): none of its code runs; check refuses it', async () => {
    const { project, marker } = await attack(driver, { prepare: 'node -e 0' });
    const lock = await driver.plain(project, ['install', '--package-lock-only', '--ignore-scripts', ...allowGit(driver)]);
    expect(lock.code, output(lock)).toBe(0);
    const lockPath = join(project.dir, 'package-lock.json');
    writeFileSync(lockPath, readFileSync(lockPath, 'utf8').replaceAll('"git+file://', '"GIT+file://'));
    rmSync(marker, { force: true });
    const r = await driver.frozen(project, allowGit(driver));
    record(driver, 'ci, GIT+file:', r, existsSync(marker));
    expect(existsSync(marker), output(r)).toBe(false);
    expect(r.code, output(r)).toBe(clonePrepared(driver) ? 1 : 0);
    const check = await run('node', [join(import.meta.dirname, '../../cli/dist/portcullis.js'), 'check'], { cwd: project.dir, env: project.env });
    expect(check.code, output(check)).toBe(1);
    expect(output(check)).toContain('SCRIPT_NOT_ALLOWED');
  }, 120_000);

  it('allowed by scripts.allow: it installs (its clone is its own code)', async () => {
    const { project } = await attack(driver, { prepare: 'node -e 0' }, ['git-outer']);
    const r = await driver.install(project, allowGit(driver));
    record(driver, 'install, in scripts.allow', r, false);
    expect(r.code, output(r)).toBe(0);
  }, 120_000);
});
