/**
 * pnpm-lock.yaml fields the gate read otherwise than pnpm (sixth review wave of round 43), fresh checkouts:
 * - a registry entry keyed `good@1.0.0` recording `version: 2.0.0` (and good@2.0.0's signed integrity), with
 *   `scripts.allow: ["good@1.0.0"]`: pnpm 10.34.8 and 11.28.10 fetch good-2.0.0.tgz, match the build allowlist against
 *   the key and ran good@2.0.0's postinstall (exit 0; `check` exit 1). Now an entry whose `version:`/`name:` is not its
 *   key is refused (LOCKFILE_INVALID), by the hooks and `check`.
 * - `excludeLinksFromLockfile: true`: pnpm leaves the project's `link:` dependencies out of the lockfile, and a folder
 *   outside the project was linked with nothing to judge it by (pnpm 10, 11, 12: exit 0, `check` exit 0). Now refused:
 *   by `updateConfig` (the setting), and by every lockfile read (its `settings`).
 * - `gitBranchLockfile: true` and a `pnpm-lock.main.yaml` naming a badly signed package beside a clean pnpm-lock.yaml
 *   (seventh wave of round 44): pnpm 10, 11 and 12 install the branch's lockfile (the hooks judge it: exit 1), but
 *   `check` read pnpm-lock.yaml alone and said "all 1 packages allowed" (exit 0). Now `check` refuses to guess (exit 2):
 *   which lockfile pnpm installs depends on the branch and settings at install time.
 * - `sharedWorkspaceLockfile: false` and a member's own pnpm-lock.yaml naming a badly signed package: pnpm 11 and 12
 *   install the member from it (the hooks judge it: exit 1; pnpm 10 refuses the setting), but `check` at the root read
 *   the root's lockfile alone (exit 0). Now `check` at the root is a configuration error (exit 2) sending the user to
 *   check each project; `check --dir app` judges the member's lockfile (exit 1).
 * - `lockfileDir: sub` in pnpm-workspace.yaml and sub/pnpm-lock.yaml naming a badly signed package: pnpm 10, 11 and 12
 *   install from it and load no pnpmfile (a documented route around the hook, for which the advice is `check` in CI),
 *   and `check` read the project's own pnpm-lock.yaml (exit 0). Now `check` is a configuration error (exit 2).
 * - `lockfile: false` (pnpm-workspace.yaml for 11 and 12, `.npmrc` for 10) beside a stale clean pnpm-lock.yaml, and a
 *   badly signed package added to package.json: pnpm resolves package.json anew (the hooks refuse it), `check` read the
 *   stale lockfile (exit 0). Now `check` is a configuration error (exit 2).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, pnpmInProject, portcullis, run, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), withPostinstall('good', '2.0.0'), withPostinstall('tampered-opt', '1.0.0', { signature: 'corrupt' })] });
}, 60_000);
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;

describe.each([10, 11, 12] as const)('pnpm %i', (major) => {
  it("a registry entry whose version: is not its key's: refused, nothing run; check refuses it too", async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0' }, { policy: { scripts: { allow: ['good@1.0.0'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const first = await pnpmInProject(pnpm(major), p, ['install']);
    expect(first.code, out(first)).toBe(0);
    const lockPath = join(p.dir, 'pnpm-lock.yaml');
    const before = readFileSync(lockPath, 'utf8');
    const after = before.replace(/(\n  good@1\.0\.0:\n)(    resolution: \{integrity: )[^}]+\}/, `$1    version: 2.0.0\n$2${registry.integrity('good', '2.0.0')}}`);
    expect(after).not.toBe(before);
    writeFileSync(lockPath, after);
    rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
    const install = await pnpmInProject(pnpm(major), p, ['install', '--frozen-lockfile']);
    expect(readdirSync(p.markers), out(install)).toEqual([]);
    expect(install.code, out(install)).not.toBe(0);
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain('not the package its key names');
  }, 180_000);

  it('excludeLinksFromLockfile with a link: to a folder outside the project: refused, nothing linked; check refuses the lockfile', async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0' }, { policy: { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    mkdirSync(join(p.dir, '.git'));
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const outside = join(p.dir, '..', 'outside-evil');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'package.json'), JSON.stringify({ name: 'evil-lib', version: '9.9.9' }));
    writeFileSync(join(outside, 'index.js'), 'module.exports = "OUTSIDE CODE";\n');
    const ws = join(p.dir, 'pnpm-workspace.yaml');
    writeFileSync(ws, `${existsSync(ws) ? readFileSync(ws, 'utf8') : ''}\nexcludeLinksFromLockfile: true\n`);
    const pkgPath = join(p.dir, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['evil-lib'] = 'link:../outside-evil';
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
    const install = await pnpmInProject(pnpm(major), p, ['install']);
    expect(install.code, out(install)).not.toBe(0);
    expect(out(install)).toContain('excludeLinksFromLockfile');
    expect(existsSync(join(p.dir, 'node_modules', 'evil-lib')), out(install)).toBe(false);
    // The pull request's own lockfile (made without the hook): check refuses it.
    writeFileSync(join(p.dir, 'pnpm-lock.yaml'), `lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: true\n\nimporters:\n\n  .:\n    dependencies:\n      good:\n        specifier: 1.0.0\n        version: 1.0.0\n\npackages:\n\n  good@1.0.0:\n    resolution: {integrity: ${registry.integrity('good', '1.0.0')}}\n\nsnapshots:\n\n  good@1.0.0: {}\n`);
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain('excludeLinksFromLockfile');
  }, 180_000);

  it('gitBranchLockfile and a branch lockfile naming a badly signed package beside a clean pnpm-lock.yaml: pnpm installs the branch one (refused by the hooks); check refuses to guess', async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0' }, { policy: { scripts: { allow: ['tampered-opt'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    const git = await run('git', ['init', '-q', '-b', 'main'], { cwd: p.dir, env: { ...p.env, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(git.code, out(git)).toBe(0);
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const clean = await pnpmInProject(pnpm(major), p, ['install', '--no-frozen-lockfile']);
    expect(clean.code, out(clean)).toBe(0);
    const lockPath = join(p.dir, 'pnpm-lock.yaml');
    const cleanLock = readFileSync(lockPath, 'utf8');
    // The pull request: tampered-opt in package.json, its lockfile written without the hook as the branch's lockfile.
    const pkgPath = join(p.dir, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['tampered-opt'] = '1.0.0';
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
    const made = await pnpmInProject(pnpm(major), p, ['install', '--lockfile-only', '--no-frozen-lockfile', '--ignore-pnpmfile', '--config.strictDepBuilds=false']);
    expect(made.code, out(made)).toBe(0);
    let branchLock = readFileSync(lockPath, 'utf8');
    const checksum = /\npnpmfileChecksum: [^\n]*\n/.exec(cleanLock)?.[0];
    if (checksum !== undefined && !branchLock.includes('pnpmfileChecksum:')) branchLock = branchLock.replace(/\nimporters:/, `${checksum}\nimporters:`);
    writeFileSync(join(p.dir, 'pnpm-lock.main.yaml'), branchLock);
    writeFileSync(lockPath, cleanLock);
    const ws = join(p.dir, 'pnpm-workspace.yaml');
    writeFileSync(ws, `${existsSync(ws) ? readFileSync(ws, 'utf8') : ''}\ngitBranchLockfile: true\n`);
    rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
    rmSync(p.markers, { recursive: true, force: true });
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain('pnpm-lock.main.yaml');
    const install = await pnpmInProject(pnpm(major), p, ['install', '--frozen-lockfile']);
    expect(install.code, out(install)).not.toBe(0);
    expect(out(install)).toContain('BAD_SIGNATURE');
    expect(existsSync(p.markers) ? readdirSync(p.markers) : [], out(install)).toEqual([]);
  }, 180_000);

  it('sharedWorkspaceLockfile: false and a member lockfile naming a badly signed package: the install refuses it; check at the root refuses to judge the root alone', async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0' }, { policy: { scripts: { allow: ['tampered-opt'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    mkdirSync(join(p.dir, '.git'));
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const ws = join(p.dir, 'pnpm-workspace.yaml');
    writeFileSync(ws, `${existsSync(ws) ? readFileSync(ws, 'utf8') : ''}\npackages:\n  - app\n`);
    const app = join(p.dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { good: '1.0.0' } }));
    const clean = await pnpmInProject(pnpm(major), p, ['install', '--no-frozen-lockfile']);
    expect(clean.code, out(clean)).toBe(0);
    const checksum = /\npnpmfileChecksum: [^\n]*\n/.exec(readFileSync(join(p.dir, 'pnpm-lock.yaml'), 'utf8'))?.[0];
    // The pull request: one lockfile per project, and the member's written without the hook.
    writeFileSync(ws, `${readFileSync(ws, 'utf8')}sharedWorkspaceLockfile: false\n`);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { good: '1.0.0', 'tampered-opt': '1.0.0' } }));
    const made = await pnpmInProject(pnpm(major), p, ['install', '--lockfile-only', '--no-frozen-lockfile', '--ignore-pnpmfile', '--config.strictDepBuilds=false']);
    expect(made.code, out(made)).toBe(0);
    const memberLock = readFileSync(join(app, 'pnpm-lock.yaml'), 'utf8');
    expect(memberLock).toContain('tampered-opt@1.0.0');
    if (checksum !== undefined && !memberLock.includes('pnpmfileChecksum:')) writeFileSync(join(app, 'pnpm-lock.yaml'), memberLock.replace(/\nimporters:/, `${checksum}\nimporters:`));
    for (const dir of [p.dir, app]) rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    rmSync(p.markers, { recursive: true, force: true });
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain('sharedWorkspaceLockfile: false');
    // `check --dir app` reads the registry settings of app's folder: the test registry's, as the root's .npmrc says.
    writeFileSync(join(app, '.npmrc'), readFileSync(join(p.dir, '.npmrc'), 'utf8'));
    const member = await portcullis(p, ['check', '--dir', app]);
    expect(member.code, out(member)).toBe(1);
    expect(out(member)).toContain('BAD_SIGNATURE');
    const install = await pnpmInProject(pnpm(major), p, ['install', '--frozen-lockfile']);
    expect(install.code, out(install)).not.toBe(0);
    expect(existsSync(p.markers) ? readdirSync(p.markers) : [], out(install)).toEqual([]);
  }, 180_000);

  it('lockfileDir in pnpm-workspace.yaml pointing at another folder whose lockfile names a badly signed package: check refuses to judge the project\'s own', async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0', 'tampered-opt': '1.0.0' }, { policy: { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    mkdirSync(join(p.dir, '.git'));
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    // The project's own lockfile is clean (good alone); pnpm is told to read sub/pnpm-lock.yaml, which the pull request wrote without the hook.
    writeFileSync(join(p.dir, 'pnpm-lock.yaml'), `lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\nimporters:\n\n  .:\n    dependencies:\n      good:\n        specifier: 1.0.0\n        version: 1.0.0\n\npackages:\n\n  good@1.0.0:\n    resolution: {integrity: ${registry.integrity('good', '1.0.0')}}\n\nsnapshots:\n\n  good@1.0.0: {}\n`);
    const ws = join(p.dir, 'pnpm-workspace.yaml');
    writeFileSync(ws, `${existsSync(ws) ? readFileSync(ws, 'utf8') : ''}\nlockfileDir: sub\n`);
    mkdirSync(join(p.dir, 'sub'));
    const made = await pnpmInProject(pnpm(major), p, ['install', '--lockfile-only', '--no-frozen-lockfile', '--ignore-pnpmfile', '--config.strictDepBuilds=false']);
    expect(made.code, out(made)).toBe(0);
    expect(readFileSync(join(p.dir, 'sub', 'pnpm-lock.yaml'), 'utf8')).toContain('tampered-opt@1.0.0');
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain(`lockfileDir in pnpm-workspace.yaml is ${join(p.dir, 'sub')}`);
  }, 180_000);

  it('lockfile: false beside a stale clean pnpm-lock.yaml: pnpm resolves package.json anew (the hooks refuse a badly signed package); check refuses the stale lockfile', async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0' }, { policy: { scripts: { allow: ['tampered-opt'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    mkdirSync(join(p.dir, '.git'));
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const clean = await pnpmInProject(pnpm(major), p, ['install', '--no-frozen-lockfile']);
    expect(clean.code, out(clean)).toBe(0);
    const pkgPath = join(p.dir, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies['tampered-opt'] = '1.0.0';
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
    // pnpm 11 and 12 read the setting in pnpm-workspace.yaml, pnpm 10 in .npmrc.
    const ws = join(p.dir, 'pnpm-workspace.yaml');
    writeFileSync(ws, `${existsSync(ws) ? readFileSync(ws, 'utf8') : ''}\nlockfile: false\n`);
    writeFileSync(join(p.dir, '.npmrc'), `${readFileSync(join(p.dir, '.npmrc'), 'utf8')}lockfile=false\n`);
    rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
    rmSync(p.markers, { recursive: true, force: true });
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain('pnpm reads no pnpm-lock.yaml');
    const install = await pnpmInProject(pnpm(major), p, ['install']);
    expect(install.code, out(install)).not.toBe(0);
    expect(out(install)).toContain('BAD_SIGNATURE');
    expect(existsSync(join(p.dir, 'node_modules', 'tampered-opt')), out(install)).toBe(false);
  }, 180_000);
});
