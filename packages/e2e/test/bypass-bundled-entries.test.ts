/**
 * A package-lock.json entry that claims to ship inside a bundling parent's tarball, which the tarball does not hold
 * (attack round of issue 17): `bundler` really bundles `bar`; the lockfile gives `bar` a dependency on `tampered` and
 * adds `node_modules/bundler/node_modules/tampered`, `inBundle`, with the `resolved` and `integrity` of a tarball a
 * mirror altered. npm unpacks `bundler`, finds no `tampered` in it, and fetches it from that entry. Portcullis took the
 * copy as shipped (exempt from signatures). Now an entry with a `resolved` or `integrity` of its own — npm writes neither
 * for a copy a tarball ships — is judged as the package it names, and one without them is taken as shipped only when
 * the parent's tarball (the one the lockfile pins) holds it. Real npm 11 and 10, `check` and `portcullis-npm ci`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, portcullis, portcullisNpm, run, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
let altered: string;
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      cleanPackage('bundler', '1.0.0', { dependencies: { bar: '1.0.0' }, bundleDependencies: ['bar'], files: { 'node_modules/bar/package.json': JSON.stringify({ name: 'bar', version: '1.0.0' }) } }),
      withPostinstall('allowed-build', '1.0.0'),
    ],
  });
  // The mirror alters allowed-build's tarball (a postinstall of its own) under its untouched signed metadata.
  const marker = "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, 'altered-postinstall.ran'), '')";
  registry.swapTarball('allowed-build', '1.0.0', { 'package.json': JSON.stringify({ name: 'allowed-build', version: '1.0.0', scripts: { postinstall: `node -e "${marker}"` } }) });
  const tarball = Buffer.from(await (await fetch(`${registry.url}allowed-build/-/allowed-build-1.0.0.tgz`)).arrayBuffer());
  altered = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
});
afterAll(async () => {
  await registry?.close();
});

const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;

describe('an inBundle entry the bundling parent does not ship, with a resolved and integrity of its own', () => {
  it.each([11, 10] as const)('npm %i: check and portcullis-npm ci judge it as the package it names (BAD_SIGNATURE), nothing runs', async (major) => {
    const tool = npm(major);
    const policy = { scripts: { allow: ['allowed-build', 'bundler'] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
    const project = createProject('npm', registry.url, { bundler: '1.0.0' }, { policy });
    const lockOnly = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project.dir, env: project.env });
    expect(lockOnly.code, out(lockOnly)).toBe(0);
    // The genuine lockfile: bar is in bundler's tarball (read from the tarball the lockfile pins), nothing to report.
    const genuine = await portcullis(project, ['check']);
    expect(genuine.code, out(genuine)).toBe(0);
    const file = join(project.dir, 'package-lock.json');
    const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    expect(lock.packages['node_modules/bundler/node_modules/bar']).toMatchObject({ inBundle: true });
    lock.packages['node_modules/bundler/node_modules/bar']!.dependencies = { 'allowed-build': '1.0.0' };
    lock.packages['node_modules/bundler/node_modules/allowed-build'] = {
      version: '1.0.0',
      resolved: `${registry.url}allowed-build/-/allowed-build-1.0.0.tgz`,
      integrity: altered,
      hasInstallScript: true,
      inBundle: true,
    };
    writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);

    const check = await portcullis(project, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('BAD_SIGNATURE');
    const ci = await portcullisNpm(tool, project, ['ci']);
    expect(ci.code, out(ci)).toBe(1);
    expect(out(ci)).toContain('BAD_SIGNATURE');
    expect(existsSync(join(project.markers, 'altered-postinstall.ran'))).toBe(false);
    expect(existsSync(join(project.dir, 'node_modules', 'bundler', 'node_modules', 'allowed-build'))).toBe(false);
  });

  it('npm 11: the same entry without a resolved or integrity is not in bundler\'s tarball either: judged, and nothing pins its bytes (INTEGRITY_MISSING)', async () => {
    const tool = npm(11);
    const policy = { scripts: { allow: ['allowed-build', 'bundler'] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
    const project = createProject('npm', registry.url, { bundler: '1.0.0' }, { policy });
    const lockOnly = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: project.dir, env: project.env });
    expect(lockOnly.code, out(lockOnly)).toBe(0);
    const file = join(project.dir, 'package-lock.json');
    const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    lock.packages['node_modules/bundler/node_modules/bar']!.dependencies = { 'allowed-build': '1.0.0' };
    lock.packages['node_modules/bundler/node_modules/allowed-build'] = { version: '1.0.0', hasInstallScript: true, inBundle: true };
    writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
    const check = await portcullis(project, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('INTEGRITY_MISSING');
    expect(out(check)).not.toContain('bar@1.0.0');
    const ci = await portcullisNpm(tool, project, ['ci']);
    expect(ci.code, out(ci)).toBe(1);
    expect(out(ci)).toContain('INTEGRITY_MISSING');
    expect(existsSync(join(project.markers, 'altered-postinstall.ran'))).toBe(false);
  });
});
