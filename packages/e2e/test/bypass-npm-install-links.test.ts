/**
 * `install-links=true` in the project's .npmrc and a `file:` folder outside the project (fourth review wave of round 43).
 * npm then copies the folder instead of linking it: pacote packs it, and npm 10's DirFetcher runs its `prepare` while
 * packing, whatever --ignore-scripts says (npm 11 and 12 honour it). Before, with the folder in
 * `signatures.allowUnsigned` but not `scripts.allow`: npm 10.9.9 `portcullis-npm ci` and `install` exit 0 and the
 * folder's `prepare` ran (the wrapper said it had skipped the folder's scripts); with only a `prepare`, `check` exit 0.
 * Now such a copy counts `prepare` as install-time code (core `preparedWhenInstalled`), and on npm 10 a script the
 * policy does not allow blocks the install before npm runs (npm quirk `dirPrepareIgnoresIgnoreScripts`), as for a git
 * dependency; `check` counts it on every npm.
 *
 * `install-strategy=linked` (same wave): npm keeps every package that is no direct dependency only under
 * `node_modules/.store`, where the installed-files check (manifest confusion, `binding.gyp`, script drift) did not look:
 * a changed tarball script went unnoticed (nothing ran: the build step named a path that was not there). Now refused
 * (exit 2) until that layout is read, unless the command line says otherwise.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, markersOf, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0')] });
});
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = markersOf;

/** A project depending on a folder outside it (`prepare`, and a `postinstall` unless `prepareOnly`), install-links on. */
async function setUp(major: 10 | 11 | 12, allowUnsigned: boolean, prepareOnly = false): Promise<Project> {
  const tool = npm(major);
  const policy = { signatures: allowUnsigned ? { allowUnsigned: ['local-thing'] } : {}, registries: { [registry.url]: { keys: registry.keys.keys } } };
  const project = createProject('npm', registry.url, { good: '1.0.0', 'local-thing': 'file:../outside/local-thing' }, { policy });
  const folder = join(dirname(project.dir), 'outside', 'local-thing');
  mkdirSync(folder, { recursive: true });
  const prepare = markerScript('local-thing-prepare', '1.0.0', 'prepare');
  const scripts = prepareOnly ? { prepare } : { prepare, postinstall: markerScript('local-thing-postinstall', '1.0.0', 'postinstall') };
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'local-thing', version: '1.0.0', scripts }));
  writeFileSync(join(folder, 'index.js'), 'module.exports = 1;\n');
  appendFileSync(join(project.dir, '.npmrc'), 'install-links=true\n');
  const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project.dir, env: project.env });
  expect(lock.code, out(lock)).toBe(0);
  const init = await portcullis(project, ['init', 'npm']);
  expect(init.code, out(init)).toBe(0);
  return project;
}

describe.each([10, 11, 12] as const)('npm %i, install-links=true, a file: folder outside the project', (major) => {
  for (const allowUnsigned of [true, false]) {
    for (const command of ['ci', 'install']) {
      it(`${command}, ${allowUnsigned ? 'in allowUnsigned' : 'not in allowUnsigned'}: nothing of the folder runs`, async () => {
        const project = await setUp(major, allowUnsigned);
        const result = await portcullisNpm(npm(major), project, [command]);
        expect(ran(project), out(result)).toEqual([]);
        // Not in allowUnsigned: UNSIGNED_SOURCE on every npm. In it, on npm 10: refused before npm runs (it would run prepare).
        if (!allowUnsigned) expect(out(result)).toContain('UNSIGNED_SOURCE');
        if (allowUnsigned && major === 10) {
          expect(result.code, out(result)).toBe(1);
          expect(out(result)).toContain('SCRIPT_NOT_ALLOWED');
        }
      }, 120_000);
    }
  }

  it('a folder with only `prepare`, in allowUnsigned: check counts it (SCRIPT_NOT_ALLOWED), and it never runs', async () => {
    const project = await setUp(major, true, true);
    const check = await portcullis(project, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('local-thing@1.0.0 wants to run install scripts');
    const result = await portcullisNpm(npm(major), project, ['ci']);
    expect(ran(project), out(result)).toEqual([]);
  }, 120_000);
});

describe.each([10, 11, 12] as const)('npm %i, install-strategy=linked', (major) => {
  it('in the project .npmrc: refused (exit 2), nothing installed; --install-strategy=hoisted on the command line installs', async () => {
    const tool = npm(major);
    const project = createProject('npm', registry.url, { good: '1.0.0' }, { policy: { registries: { [registry.url]: { keys: registry.keys.keys } } } });
    const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project.dir, env: project.env });
    expect(lock.code, out(lock)).toBe(0);
    expect((await portcullis(project, ['init', 'npm'])).code).toBe(0);
    appendFileSync(join(project.dir, '.npmrc'), 'install-strategy=linked\n');
    const refused = await portcullisNpm(tool, project, ['ci']);
    expect(refused.code, out(refused)).toBe(2);
    expect(out(refused)).toContain(`install-strategy=linked in ${join(project.dir, '.npmrc')}`);
    expect(existsSync(join(project.dir, 'node_modules', 'good'))).toBe(false);
    const hoisted = await portcullisNpm(tool, project, ['ci', '--install-strategy=hoisted']);
    expect(hoisted.code, out(hoisted)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', 'good', 'package.json'))).toBe(true);
  }, 120_000);
});
