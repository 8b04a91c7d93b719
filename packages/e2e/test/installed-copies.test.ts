/**
 * A package installed at more than one path: npm's nested copies of one version, pnpm's virtual-store folders of a
 * package with peers (`.pnpm/qq@1.0.0_aaa@1.0.0`). Every copy is what may run, so a copy edited after the install
 * (an install script added to its package.json) is found whichever path it is at — by `check`, and by `portcullis-npm`
 * in strict mode — with the real npm, pnpm and Yarn (its node-modules linker's nested copies).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, install, portcullis, portcullisNpm, type Project } from '../src/project.js';
import { npm, pnpm, yarn } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      cleanPackage('aaa', '1.0.0'),
      cleanPackage('aaa', '2.0.0'),
      cleanPackage('xx', '1.0.0', { dependencies: { aaa: '1.0.0' } }),
      cleanPackage('yy', '1.0.0', { dependencies: { aaa: '1.0.0' } }),
      cleanPackage('qq', '1.0.0', { peerDependencies: { aaa: '*' } }),
      cleanPackage('wrap', '1.0.0', { dependencies: { qq: '1.0.0' } }),
      withPostinstall('fast-compiler', '3.2.0'),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

const policy = () => ({ scripts: { allow: ['fast-compiler'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** Adds a postinstall to the package.json at `path` (a copy edited after the install). */
function addPostinstall(project: Project, path: string): void {
  const file = join(project.dir, path, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...manifest, scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'pwned\', \'\')"' } }));
}

async function checkFindings(project: Project): Promise<{ code: number; findings: string[] }> {
  const r = await portcullis(project, ['check', '--format', 'json']);
  const report = JSON.parse(r.stdout) as { findings: Array<{ code: string; package: string; version: string }> };
  return { code: r.code, findings: report.findings.map((f) => `${f.code} ${f.package}@${f.version}`) };
}

describe('a package installed at several paths', () => {
  it('npm: a nested copy edited at the second of its paths is found by check and by portcullis-npm in strict mode', async () => {
    const project = createProject('npm', registry.url, { aaa: '2.0.0', xx: '1.0.0', yy: '1.0.0', 'fast-compiler': '3.2.0' }, { policy: policy() });
    const installed = await portcullisNpm(npm(11), project, ['install', '--no-audit', '--no-fund']);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    const lock = JSON.parse(readFileSync(join(project.dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages)).toEqual(expect.arrayContaining(['node_modules/xx/node_modules/aaa', 'node_modules/yy/node_modules/aaa']));
    expect(await checkFindings(project)).toEqual({ code: 0, findings: [] });

    // The second of the two copies of aaa@1.0.0, as the lockfile orders them.
    addPostinstall(project, 'node_modules/yy/node_modules/aaa');
    expect(await checkFindings(project)).toEqual({ code: 1, findings: ['SCRIPT_NOT_ALLOWED aaa@1.0.0'] });
    const strict = await portcullisNpm(npm(11), project, ['install', '--no-audit', '--no-fund'], { PORTCULLIS_STRICT_SCRIPTS: '1' });
    expect(strict.code, strict.stderr + strict.stdout).not.toBe(0);
    expect(strict.stderr + strict.stdout).toContain('aaa@1.0.0');
  });

  it('pnpm 12: the virtual-store folder of a package with peers is read by check', async () => {
    const project = createProject('pnpm', registry.url, { aaa: '1.0.0', wrap: '1.0.0' }, { policy: policy() });
    const installed = await install(pnpm(12), 'pnpm', project);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    expect(await checkFindings(project)).toEqual({ code: 0, findings: [] });

    addPostinstall(project, 'node_modules/.pnpm/qq@1.0.0_aaa@1.0.0/node_modules/qq');
    expect(await checkFindings(project)).toEqual({ code: 1, findings: ['SCRIPT_NOT_ALLOWED qq@1.0.0'] });
  });

  it('Yarn: a nested copy, found through the locations Yarn recorded in node_modules/.yarn-state.yml', async () => {
    const project = createProject('yarn', registry.url, { aaa: '2.0.0', xx: '1.0.0', yy: '1.0.0' }, { policy: policy() });
    const installed = await install(yarn(), 'yarn', project);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    expect(readFileSync(join(project.dir, 'node_modules/.yarn-state.yml'), 'utf8')).toContain('node_modules/xx/node_modules/aaa');
    expect(await checkFindings(project)).toEqual({ code: 0, findings: [] });

    addPostinstall(project, 'node_modules/xx/node_modules/aaa');
    expect(await checkFindings(project)).toEqual({ code: 1, findings: ['SCRIPT_NOT_ALLOWED aaa@1.0.0'] });
  });
});
