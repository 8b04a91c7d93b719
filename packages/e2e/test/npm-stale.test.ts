/**
 * A stale node_modules through portcullis-npm (npm 10/11/12): `stale-lib@1.0.0` is installed (its postinstall not
 * allowed, so skipped), package.json is changed to 1.0.1 — the only version the policy lets build — and
 * `portcullis-npm install` runs. npm must install 1.0.1 and only 1.0.1's postinstall may run: never the copy of 1.0.0
 * still on disk under the name of 1.0.1 ("the bytes installed must be the bytes that were verified"). And if npm is
 * made to skip the install (its hidden lockfile claims 1.0.1), the gate refuses to build the copy it did not check.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, withStablePostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmDrivers, output, ran, type Driver } from '../src/corpus/drivers.js';
import type { Project } from '../src/project.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [withStablePostinstall('stale-lib', '1.0.0'), withStablePostinstall('stale-lib', '1.0.1')] });
});
afterAll(async () => {
  await registry?.close();
});

const policy = () => ({ scripts: { allow: ['stale-lib@1.0.1'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });

function depend(project: Project, version: string): void {
  const file = join(project.dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { dependencies: Record<string, string> };
  manifest.dependencies['stale-lib'] = version;
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

const installedVersion = (project: Project) => (JSON.parse(readFileSync(join(project.dir, 'node_modules', 'stale-lib', 'package.json'), 'utf8')) as { version: string }).version;

describe.each(npmDrivers().map((d) => [d.label, d] as const))('%s', (_label, driver: Driver) => {
  it('installs and builds the version package.json now names, never the old copy under its name', async () => {
    const project = await driver.project(registry.url, { 'stale-lib': '1.0.0' }, policy());
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    expect(installedVersion(project)).toBe('1.0.0');
    expect(ran(project)).toEqual([]);

    depend(project, '1.0.1');
    const second = await driver.install(project);
    expect(second.code, output(second)).toBe(0);
    expect(installedVersion(project)).toBe('1.0.1');
    expect(ran(project)).toEqual(['stale-lib@1.0.1.ran']);
  });

  it('refuses to build a copy npm left in place while its hidden lockfile claims the checked version', async () => {
    const project = await driver.project(registry.url, { 'stale-lib': '1.0.0' }, policy());
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    // npm's own lock-only resolution rewrites its hidden lockfile too: afterwards npm believes 1.0.1 is installed.
    depend(project, '1.0.1');
    const lockOnly = await driver.plain(project, ['install', '--package-lock-only', '--ignore-scripts']);
    expect(lockOnly.code, output(lockOnly)).toBe(0);
    const second = await driver.install(project);
    expect(installedVersion(project), output(second)).toBe('1.0.0');
    // 1.0.0's postinstall never runs (named as the approved 1.0.1, it did).
    expect(ran(project), output(second)).toEqual([]);
    expect(second.code, output(second)).toBe(1);
    expect(output(second)).toContain('INSTALLED_MISMATCH');
    expect(output(second)).toContain('stale-lib@1.0.1: the copy installed at node_modules/stale-lib is not the one checked (its package.json names stale-lib@1.0.0)');
    expect(output(second)).toContain('fix: rm -rf node_modules && portcullis-npm install');
  });
});
