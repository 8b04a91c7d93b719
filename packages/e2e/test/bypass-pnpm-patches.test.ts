/**
 * A patch that gives a package scripts.allow does not cover a `postinstall` (attack round r43, P1). A pull request adds
 * `patches/good@1.0.0.patch`, which adds `"scripts": {"postinstall": …}` to good's package.json, and
 * `patchedDependencies: {good@1.0.0: patches/good@1.0.0.patch}` to pnpm-workspace.yaml; policy
 * `scripts.allow: ["allowed-build"]`. Before the fix:
 * - pnpm 10.34.8 builds every patched package and asks allowBuilds only for packages whose own files have scripts: the
 *   patched postinstall ran, on `install --no-frozen-lockfile` and on a fresh checkout's `--frozen-lockfile` (exit 0);
 * - pnpm 11.28.10 and 12.24.0 applied the patch and did not build it, without a notice;
 * - `portcullis check` before the install: exit 0 on all three.
 * Now core reads the patch (by the lockfile's patch hash): one that touches package.json makes the package one with
 * install scripts — skipped with the notice on pnpm 11 and 12, refused on pnpm 10 (it cannot be skipped there), and
 * SCRIPT_NOT_ALLOWED in `check`. A patch that touches other files changes nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearMarkers, createProject, pnpmInProject, portcullis, type Project, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), withPostinstall('allowed-build', '1.0.0')] });
}, 60_000);
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\npatched dependencies results:\n${results.join('\n')}\n`);
});

type Major = 10 | 11 | 12;

function pnpmIn(major: Major, project: Project, args: string[]): Promise<RunResult> {
  return pnpmInProject(pnpm(major), project, args);
}

const MARKER = 'patched-good.ran';
/** A patch adding a postinstall to good's package.json (`scripts` true), or changing only index.js. */
const PATCH_SCRIPTS = [
  'diff --git a/package.json b/package.json',
  'index 1111111..2222222 100644',
  '--- a/package.json',
  '+++ b/package.json',
  '@@ -2,5 +2,8 @@',
  '   "name": "good",',
  '   "version": "1.0.0",',
  '   "description": "good — a Portcullis test fixture",',
  '-  "license": "MIT"',
  '+  "license": "MIT",',
  '+  "scripts": {',
  `+    "postinstall": "node -e \\"require('fs').writeFileSync(process.env.PORTCULLIS_MARKER_DIR+'/${MARKER}','')\\""`,
  '+  }',
  ' }',
  '',
].join('\n');

const policy = (allow: string[]) => ({ scripts: { allow }, registries: { [registry.url]: { keys: registry.keys.keys } } });

async function project(major: Major): Promise<Project> {
  const p = createProject('pnpm', registry.url, { good: '1.0.0', 'allowed-build': '1.0.0' }, { policy: policy(['allowed-build']) });
  mkdirSync(join(p.dir, '.git'));
  expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
  const first = await pnpmIn(major, p, ['install']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return p;
}

/** The pull request's files: the patch and the setting that applies it. */
function addPatch(p: Project, text: string, key = 'good@1.0.0'): void {
  mkdirSync(join(p.dir, 'patches'), { recursive: true });
  writeFileSync(join(p.dir, 'patches', 'good@1.0.0.patch'), text);
  const workspace = join(p.dir, 'pnpm-workspace.yaml');
  writeFileSync(workspace, `${existsSync(workspace) ? readFileSync(workspace, 'utf8') : ''}\npatchedDependencies:\n  ${key}: patches/good@1.0.0.patch\n`);
}


/** A fresh checkout: no node_modules, cold store and caches. */
function freshCheckout(p: Project): void {
  for (const d of [join(p.dir, 'node_modules'), join(p.home, 'pnpm-store'), join(p.home, 'pnpm-cache'), join(p.home, 'portcullis-cache')]) rmSync(d, { recursive: true, force: true });
  clearMarkers(p);
}

const code = (out: string) => (/ERR_PNPM_[A-Z_]+/.exec(out) ?? ['-'])[0];

describe.each([10, 11, 12] as const)('pnpm %i: a patch that adds a postinstall to a package scripts.allow does not cover', (major) => {
  it('a fresh resolution never runs it: refused on pnpm 10, skipped with the notice on 11 and 12', async () => {
    const p = await project(major);
    addPatch(p, PATCH_SCRIPTS);
    clearMarkers(p);
    const r = await pnpmIn(major, p, ['install', '--no-frozen-lockfile']);
    const out = r.stdout + r.stderr;
    results.push(`pnpm ${pnpm(major).version}: install --no-frozen-lockfile exit ${r.code} ${code(out)}`);
    expect(readdirSync(p.markers), out).not.toContain(MARKER);
    if (major === 10) {
      expect(r.code, out).not.toBe(0);
      expect(out).toContain('SCRIPT_NOT_ALLOWED');
      expect(out).toContain('its patch patches/good@1.0.0.patch changes package.json or binding.gyp');
    } else {
      expect(r.code, out).toBe(0);
      // pnpm 12 finds the lockfile up to date and applies the new patch without a resolution: no hook is handed the
      // patched graph, so no notice there (pnpm does not build it: it is not in allowBuilds); the frozen install below has it.
      if (major === 11) expect(out).toContain('portcullis: skipped the install scripts of good@1.0.0');
    }
  }, 180_000);

  it('a fresh checkout of the merged pull request: check fails before the install, the frozen install never runs it', async () => {
    const p = await project(major);
    addPatch(p, PATCH_SCRIPTS);
    // The pull request's lockfile, written where good was allowed (the attacker's machine); the policy is the project's.
    writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(policy(['allowed-build', 'good'])));
    const written = await pnpmIn(major, p, ['install', '--no-frozen-lockfile']);
    expect(written.code, written.stdout + written.stderr).toBe(0);
    expect(readFileSync(join(p.dir, 'pnpm-lock.yaml'), 'utf8')).toContain('patch_hash=');
    writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(policy(['allowed-build'])));
    freshCheckout(p);

    const check = await portcullis(p, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(1);
    expect(check.stdout + check.stderr).toContain('good@1.0.0 wants to run install scripts (its patch patches/good@1.0.0.patch changes package.json or binding.gyp');
    const r = await pnpmIn(major, p, ['install', '--frozen-lockfile']);
    const out = r.stdout + r.stderr;
    results.push(`pnpm ${pnpm(major).version}: check exit ${check.code}; fresh checkout install --frozen-lockfile exit ${r.code} ${code(out)}`);
    expect(readdirSync(p.markers), out).not.toContain(MARKER);
    if (major === 10) {
      expect(r.code, out).not.toBe(0);
      expect(out).toContain('SCRIPT_NOT_ALLOWED');
      expect(existsSync(join(p.dir, 'node_modules', 'good')), out).toBe(false);
    } else {
      expect(r.code, out).toBe(0);
      expect(out).toContain('portcullis: skipped the install scripts of good@1.0.0');
      // Applied, not built.
      expect(readFileSync(join(p.dir, 'node_modules', 'good', 'package.json'), 'utf8')).toContain('postinstall');
    }

  }, 180_000);

  it('a patch that touches other files only changes nothing: check exit 0, installed and no notice for it', async () => {
    const p = await project(major);
    const index = readFileSync(join(p.dir, 'node_modules', 'good', 'index.js'), 'utf8').split('\n')[0]!;
    addPatch(p, ['diff --git a/index.js b/index.js', '--- a/index.js', '+++ b/index.js', '@@ -1 +1 @@', `-${index}`, '+module.exports = "patched";', ''].join('\n'));
    const r = await pnpmIn(major, p, ['install', '--no-frozen-lockfile']);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).not.toContain('good@1.0.0');
    expect(readFileSync(join(p.dir, 'node_modules', 'good', 'index.js'), 'utf8')).toContain('patched');
    const check = await portcullis(p, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);

    // That patch file then replaced by one that adds the postinstall, the lockfile (its hash) left as it was: the
    // verdict remembered for this lockfile must not stand for the new file.
    writeFileSync(join(p.dir, 'patches', 'good@1.0.0.patch'), PATCH_SCRIPTS);
    freshCheckout(p);
    const again = await portcullis(p, ['check']);
    expect(again.code, again.stdout + again.stderr).not.toBe(0);
    const swapped = await pnpmIn(major, p, ['install', '--frozen-lockfile']);
    results.push(`pnpm ${pnpm(major).version}: patch file swapped under the lockfile's hash: check exit ${again.code}; install --frozen-lockfile exit ${swapped.code} ${code(swapped.stdout + swapped.stderr)}`);
    expect(readdirSync(p.markers), swapped.stdout + swapped.stderr).not.toContain(MARKER);
  }, 180_000);
});

/**
 * r43b (second review): the pull request's lockfile keeps its `patchedDependencies` section but every `(patch_hash=…)`
 * is deleted from the snapshot keys. Before the fix, core learnt "patched" only from the key: pnpm 10.34.8 (which finds
 * the patch by name and version from its settings) applied it and ran the patched postinstall on a fresh checkout's
 * `install --frozen-lockfile`, exit 0; pnpm 11.28.10 and 12.24.0 stop themselves (ERR_PNPM_INCONSISTENT_PATCH_HASH);
 * `check` exit 0 on all three. Now every package a `patchedDependencies` entry names is patched whatever its key says.
 */
describe.each([10, 11, 12] as const)('pnpm %i: patch_hash deleted from every lockfile key, the section kept', (major) => {
  for (const key of major === 10 ? ['good@1.0.0', 'good'] : ['good@1.0.0']) {
    it(`patchedDependencies key ${key}: check fails, the frozen install never runs the patched postinstall`, async () => {
      const p = await project(major);
      addPatch(p, PATCH_SCRIPTS, key);
      writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(policy(['allowed-build', 'good'])));
      const written = await pnpmIn(major, p, ['install', '--no-frozen-lockfile']);
      expect(written.code, written.stdout + written.stderr).toBe(0);
      const lock = readFileSync(join(p.dir, 'pnpm-lock.yaml'), 'utf8');
      expect(lock).toContain('patch_hash=');
      writeFileSync(join(p.dir, 'pnpm-lock.yaml'), lock.replace(/\(patch_hash=[^()]*\)/g, ''));
      expect(readFileSync(join(p.dir, 'pnpm-lock.yaml'), 'utf8')).toContain('patchedDependencies:');
      writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(policy(['allowed-build'])));
      freshCheckout(p);

      const check = await portcullis(p, ['check']);
      expect(check.code, check.stdout + check.stderr).toBe(1);
      expect(check.stdout + check.stderr).toContain('good@1.0.0 wants to run install scripts (its patch patches/good@1.0.0.patch changes package.json or binding.gyp');
      const r = await pnpmIn(major, p, ['install', '--frozen-lockfile']);
      const out = r.stdout + r.stderr;
      results.push(`pnpm ${pnpm(major).version} patch_hash deleted (${key}): check exit ${check.code}; install --frozen-lockfile exit ${r.code} ${code(out)}`);
      expect(readdirSync(p.markers), out).not.toContain(MARKER);
      if (major === 10) {
        expect(r.code, out).not.toBe(0);
        expect(out).toContain('SCRIPT_NOT_ALLOWED');
      }
    }, 180_000);
  }
});

/**
 * A patched project keeps its fast paths (r44), and nothing kept stands for a patch file changed under the lockfile's
 * hash. Before, a verdict on a lockfile with patches was never remembered and pnpm 12 never recorded updateConfig for
 * one (every install judged it anew), while `check`'s remembered report did not cover the patch files: with its caches
 * kept, `check` replayed exit 0 for a patch file swapped to add a postinstall (the lockfile untouched). Now the verdict,
 * the record and the report each keep what the judgement read of the patches (the settings naming them and each file's
 * bytes) and stand only while that holds.
 */
describe.each([10, 11, 12] as const)('pnpm %i: a patched project is remembered with its patch files', (major) => {
  it('repeat installs are remembered (pnpm 12: updateConfig replayed); the patch file swapped with every cache kept: check fails, the install never runs it', async () => {
    const p = await project(major);
    const index = readFileSync(join(p.dir, 'node_modules', 'good', 'index.js'), 'utf8').split('\n')[0]!;
    addPatch(p, ['diff --git a/index.js b/index.js', '--- a/index.js', '+++ b/index.js', '@@ -1 +1 @@', `-${index}`, '+module.exports = "patched";', ''].join('\n'));
    // PORTCULLIS_TIMING (the same in every run, so part of every question) makes pnpm 12's loader say when it replayed.
    const timed: Project = { ...p, env: { ...p.env, PORTCULLIS_TIMING: '1' } };
    const replayed = (r: RunResult) => (r.stdout + r.stderr).includes('portcullis: updateConfig replayed');
    const written = await pnpmIn(major, timed, ['install', '--no-frozen-lockfile']);
    expect(written.code, written.stdout + written.stderr).toBe(0);
    expect(readFileSync(join(p.dir, 'pnpm-lock.yaml'), 'utf8')).toContain('patch_hash=');
    for (let i = 0; i < 3; i++) {
      rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
      const r = await pnpmIn(major, timed, ['install', '--frozen-lockfile']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(readFileSync(join(p.dir, 'node_modules', 'good', 'index.js'), 'utf8')).toContain('patched');
      // The first of these decides and leaves the record; the next ones replay it.
      if (major === 12 && i > 0) expect(replayed(r), r.stdout + r.stderr).toBe(true);
    }
    const check = await portcullis(p, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect((await portcullis(p, ['check'])).code).toBe(0);

    // The patch file swapped for one that adds the postinstall; the lockfile (its hash), caches, memo and records kept.
    // `check` first, on the installed tree it remembered (node_modules as it was).
    writeFileSync(join(p.dir, 'patches', 'good@1.0.0.patch'), PATCH_SCRIPTS);
    const again = await portcullis(p, ['check']);
    expect(again.code, again.stdout + again.stderr).toBe(1);
    expect(again.stdout + again.stderr).toContain('good@1.0.0');
    rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
    clearMarkers(p);
    const swapped = await pnpmIn(major, timed, ['install', '--frozen-lockfile']);
    const out = swapped.stdout + swapped.stderr;
    results.push(`pnpm ${pnpm(major).version}: patch file swapped, caches kept: check exit ${again.code}; install --frozen-lockfile exit ${swapped.code} ${code(out)}`);
    expect(readdirSync(p.markers), out).not.toContain(MARKER);
    // pnpm 10 and 11 replay only updateConfig's build settings, which no patch changes; their lockfile is judged after it.
    if (major === 12) expect(replayed(swapped), out).toBe(false);
    expect(swapped.code, out).not.toBe(0);
    if (major === 10) expect(out).toContain('SCRIPT_NOT_ALLOWED');
  }, 240_000);
});
