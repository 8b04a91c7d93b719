/**
 * Bypass corpus, sources outside the registry and lying tarballs (B3b, B5, B6, B7) through every package
 * manager version with Portcullis in front: a tarball whose package.json claims the allowed name, a git
 * dependency with `prepare`/`preinstall`/`postinstall` and its own `.npmrc` turning scripts back on, a remote
 * tarball URL with a postinstall. Each must end with nothing executed; unsigned sources must exit non-zero.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { markerFileName, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDrivers, output, ran, type Driver } from '../src/corpus/drivers.js';
import type { Project } from '../src/project.js';
import { ALLOWED_NAME, corpusPackages } from '../src/corpus/packages.js';
import { GIT_PACKAGE, startSourceServer, TARBALL_PACKAGE, type SourceServer } from '../src/corpus/sources.js';

let registry: TestRegistry;
let sources: SourceServer;
const results: string[] = [];
beforeAll(async () => {
  [registry, sources] = await Promise.all([startRegistry({ packages: corpusPackages }), startSourceServer()]);
});
afterAll(async () => {
  await Promise.all([registry?.close(), sources?.close()]);
  if (results.length > 0) process.stdout.write(`\nbypass sources results:\n${results.join('\n')}\n`);
});

const policy = (extra: object = {}) => ({ scripts: { allow: [ALLOWED_NAME] }, registries: { [registry.url]: { keys: registry.keys.keys } }, ...extra });
const gitMarkers = ['prepare', 'preinstall', 'postinstall'].map((hook) => markerFileName(`${GIT_PACKAGE.name}-${hook}`, GIT_PACKAGE.version));

/** Yarn refuses `git+file:`; it is given the same repository over git's dumb HTTP protocol. */
const gitUrl = (driver: Driver) => (driver.pm === 'yarn' ? sources.gitHttpUrl : sources.gitFileUrl);
/** npm 11.? and 12 refuse git and URL dependencies unless allowed on the command line; the wrapper passes `--allow-git=none` itself. */
const npmOptIn = (driver: Driver) => (driver.pm === 'npm' ? ['--allow-git=all', ...(driver.label.startsWith('npm 12') ? ['--allow-remote=all'] : [])] : []);

/**
 * Yarn 4.18 refuses git repositories not listed in `approvedGitRepositories` (YN0080) before the plugin sees
 * them; approve every repository so what is measured is Portcullis. (Yarn 4.0 rejects the unknown setting.)
 */
function approveGit(driver: Driver, project: Project): Project {
  if (driver.pm === 'yarn' && !driver.tool.version.startsWith('4.0')) appendFileSync(join(project.dir, '.yarnrc.yml'), 'approvedGitRepositories: ["**"]\n');
  return project;
}

function record(driver: Driver, label: string, r: { code: number; stdout: string; stderr: string }, markers: string[]): void {
  const text = output(r);
  const codes = [...new Set(text.match(/UNSIGNED_SOURCE|SCRIPT_NOT_ALLOWED|BAD_SIGNATURE|EALLOW[A-Z]+|ERR_PNPM_[A-Z_]+|YN0\d{3}(?=: .*(?:git|portcullis|Unsupported|protocol))/g) ?? [])].slice(0, 4);
  results.push(`${driver.label} | ${label} | exit ${r.code} | ${codes.join(' ') || '-'} | ran: ${markers.join(' ') || 'nothing'}`);
}

describe.each(allDrivers().map((d) => [d.label, d] as const))('%s: sources and lying tarballs', (_label, driver) => {
  it('B3b: a tarball whose package.json claims to be the allowed package does not run', async () => {
    const project = await driver.project(registry.url, { 'confused-name': '1.0.0' }, policy());
    const r = await driver.install(project);
    record(driver, 'B3b manifest names the allowed package', r, ran(project));
    expect(ran(project), output(r)).toEqual([]);
  });

  it('B7: a remote tarball URL dependency is refused as UNSIGNED_SOURCE, nothing runs', async () => {
    const project = await driver.project(registry.url, { [TARBALL_PACKAGE.name]: sources.tarballUrl }, policy());
    const r = await driver.install(project, npmOptIn(driver));
    record(driver, 'B7 remote tarball', r, ran(project));
    expect(r.code, output(r)).not.toBe(0);
    expect(output(r)).toContain('UNSIGNED_SOURCE');
    expect(ran(project)).toEqual([]);
  });

  it('B5/B6: a git dependency (prepare, its own .npmrc with ignore-scripts=false) is refused; allowed unsigned, its scripts still do not run', async () => {
    const refused = approveGit(driver, await driver.project(registry.url, { [GIT_PACKAGE.name]: gitUrl(driver) }, policy()));
    const r = await driver.install(refused, npmOptIn(driver));
    record(driver, 'B5/B6 git dependency', r, ran(refused));
    expect(r.code, output(r)).not.toBe(0);
    expect(ran(refused), output(r)).toEqual([]);

    // trusted as a source (allowUnsigned) but not in scripts.allow: installs, none of its scripts run
    const trusted = approveGit(driver, await driver.project(registry.url, { [GIT_PACKAGE.name]: gitUrl(driver) }, policy({ signatures: { allowUnsigned: [GIT_PACKAGE.name] } })));
    const t = await driver.install(trusted, npmOptIn(driver));
    record(driver, 'B5/B6 git dependency in allowUnsigned', t, ran(trusted));
    expect(ran(trusted).filter((m) => gitMarkers.includes(m)), output(t)).toEqual([]);
  });
});
