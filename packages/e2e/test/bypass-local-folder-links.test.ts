/**
 * A `file:` folder inside the project that is a committed symlink (sixth review wave of round 43). Whether a folder is the
 * project's own code was decided from its path's text: `vendored/child -> ../node_modules/evil-postinstall` made a
 * registry package's folder "your own package", and `vendored/child -> ../../outside/child` a folder outside the project.
 * Before, npm 10.9.9, 11.21.2 and 12.2.3: `portcullis-npm ci` exit 0 and evil-postinstall's postinstall ran ("ran
 * postinstall … your own package"), although scripts.allow does not cover it; through the outside link, `check` exit 0
 * and the folder's postinstall and prepare ran. Now a folder counts as the project's own only where it really is: no
 * `node_modules` on its way, and no symlink on its way leading out of the project or into a `node_modules` (one leading
 * nowhere yet is not own code either). Secure outcome: nothing not allowed runs; `check` does not say "all allowed".
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, markersOf, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [withPostinstall('evil-postinstall', '1.0.0'), withPostinstall('allowed-build', '1.0.0'), cleanPackage('child', '1.0.0'), cleanPackage('parent', '1.0.0', { dependencies: { child: '1.0.0' } })] });
});
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = markersOf;
const policy = () => ({ scripts: { allow: ['allowed-build'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** The pull request: `child` as `file:./vendored/child`, a committed symlink to `target` (relative to vendored/), and the lockfile npm writes. */
async function linkedFolder(major: 10 | 11 | 12, p: Project, target: string, extra: (pkg: Record<string, any>) => void = () => {}): Promise<void> {
  const tool = npm(major);
  mkdirSync(join(p.dir, 'vendored'));
  symlinkSync(target, join(p.dir, 'vendored', 'child'));
  const pkg = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as Record<string, any>;
  pkg.dependencies.child = 'file:./vendored/child';
  extra(pkg);
  writeFileSync(join(p.dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: p.dir, env: p.env });
  expect(lock.code, out(lock)).toBe(0);
  expect((await portcullis(p, ['init', 'npm'])).code).toBe(0);
  // The fresh checkout: no node_modules.
  rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
}

describe.each([10, 11, 12] as const)('npm %i: a file: folder that is a committed symlink', (major) => {
  it('into node_modules (a registry package not allowed to build): its postinstall never runs; check exit 1', async () => {
    const tool = npm(major);
    const p = createProject('npm', registry.url, { 'evil-postinstall': '1.0.0' }, { policy: policy() });
    const first = await run(tool.command, [...tool.args, 'install', '--ignore-scripts'], { cwd: p.dir, env: p.env });
    expect(first.code, out(first)).toBe(0);
    await linkedFolder(major, p, '../node_modules/evil-postinstall');
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).not.toBe(0);
    const result = await portcullisNpm(tool, p, ['ci']);
    expect(out(result)).not.toContain('your own package');
    expect(ran(p), out(result)).toEqual([]);
  }, 180_000);

  it('to a folder outside the project (reached by an override of a transitive dependency): refused as such; nothing of it runs', async () => {
    const tool = npm(major);
    const p = createProject('npm', registry.url, { parent: '1.0.0' }, { policy: policy() });
    const outside = join(dirname(p.dir), 'outside', 'child');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'package.json'), JSON.stringify({ name: 'child', version: '1.0.0', scripts: { postinstall: markerScript('child-postinstall', '1.0.0', 'postinstall'), prepare: markerScript('child-prepare', '1.0.0', 'prepare') } }));
    await linkedFolder(major, p, '../../outside/child', (pkg) => {
      pkg.overrides = { child: '$child' };
    });
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('UNSIGNED_SOURCE');
    const result = await portcullisNpm(tool, p, ['ci']);
    expect(result.code, out(result)).toBe(1);
    expect(ran(p), out(result)).toEqual([]);
  }, 180_000);
});
