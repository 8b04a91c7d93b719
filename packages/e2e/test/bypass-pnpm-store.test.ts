/**
 * A pnpm store committed in the checkout (attack round r43, P2). A pull request adds `storeDir: .pnpm-store` to
 * pnpm-workspace.yaml and commits `.pnpm-store/`; the lockfile is untouched, every integrity in it registry-signed. In
 * the committed store, the index entry for such an integrity names other file contents (each under its own correct
 * per-file digest): pnpm trusts its store's index and links them. Before the fix, on a fresh checkout:
 * - pnpm 10.34.8 (JSON index, `v10/index/**` files): `install --frozen-lockfile` exit 0 and a planted `postinstall`
 *   of the allowed package ran;
 * - pnpm 11.28.10 and 12.24.0 (SQLite `v11/index.db`): the planted `index.js` of `good` was linked, exit 0;
 * - `portcullis check` exit 0.
 * Now updateConfig refuses a store inside the checkout before pnpm reads it, and `check` says the same (exit 2).
 * The store is built outside the checkout by an install through the pnpmfile (the attacker's own machine), then copied in.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, pnpmInProject, portcullis, run, type Project, type RunResult } from '../src/project.js';
import { node24, pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), withPostinstall('allowed-build', '1.0.0')] });
}, 60_000);
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\ncommitted store results:\n${results.join('\n')}\n`);
});

type Major = 10 | 11 | 12;

/** pnpm in the project; `own` adds the test suite's store folder (outside the checkout). */
function pnpmIn(major: Major, project: Project, args: string[], own: boolean): Promise<RunResult> {
  return pnpmInProject(pnpm(major), project, args, { store: own });
}

/**
 * A project installed through the pnpmfile with the store outside, whose store the pull request then commits (at
 * `at`, relative to the project) and points storeDir at (`setting`, as written). `git`: the checkout has a `.git`.
 */
async function projectWithStoreInCheckout(major: Major, { at = '.pnpm-store', setting = '.pnpm-store', git = true } = {}): Promise<{ project: Project; store: string }> {
  const project = createProject('pnpm', registry.url, { good: '1.0.0', 'allowed-build': '1.0.0' }, { policy: { scripts: { allow: ['allowed-build@1.0.0'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
  if (git) mkdirSync(join(project.dir, '.git'));
  expect((await portcullis(project, ['init', 'pnpm'])).code).toBe(0);
  const first = await pnpmIn(major, project, ['install'], true);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  const store = join(project.dir, at);
  cpSync(join(project.home, 'pnpm-store'), store, { recursive: true });
  const workspace = join(project.dir, 'pnpm-workspace.yaml');
  writeFileSync(workspace, `${existsSync(workspace) ? readFileSync(workspace, 'utf8') : ''}\nstoreDir: ${setting}\n`);
  return { project, store };
}

/** pnpm 10's JSON index: allowed-build@1.0.0's package.json replaced by one with another postinstall. */
function plantPnpm10(store: string): void {
  const indexDir = join(store, 'v10', 'index');
  const file = readdirSync(indexDir, { recursive: true }).map(String).find((f) => f.endsWith('-allowed-build@1.0.0.json'))!;
  expect(file).toBeDefined();
  const index = JSON.parse(readFileSync(join(indexDir, file), 'utf8')) as { files: Record<string, unknown>; sideEffects?: unknown };
  const manifest = Buffer.from(JSON.stringify({ name: 'allowed-build', version: '1.0.0', scripts: { postinstall: `node -e "require('fs').writeFileSync(process.env.PORTCULLIS_MARKER_DIR+'/store-planted.ran','')"` } }));
  const digest = createHash('sha512').update(manifest).digest();
  const hex = digest.toString('hex');
  mkdirSync(join(store, 'v10', 'files', hex.slice(0, 2)), { recursive: true });
  writeFileSync(join(store, 'v10', 'files', hex.slice(0, 2), hex.slice(2)), manifest);
  index.files['package.json'] = { checkedAt: Date.now(), integrity: `sha512-${digest.toString('base64')}`, mode: 420, size: manifest.length };
  delete index.sideEffects;
  writeFileSync(join(indexDir, file), JSON.stringify(index));
}

const PLANTED = 'module.exports = "PLANTED in committed store";     \n';

/**
 * pnpm 11 and 12's SQLite index: good@1.0.0's index.js replaced by other bytes of the same length. Written with the
 * pinned Node 24's `node:sqlite` (toolbox.ts `node24`): the suite needs nothing but Node and npm on the machine.
 */
async function plantSqlite(store: string): Promise<void> {
  const script = `
    const { DatabaseSync } = require('node:sqlite');
    const { createHash } = require('node:crypto');
    const fs = require('node:fs');
    const [store, planted] = process.argv.slice(1);
    const fresh = Buffer.from(planted);
    const db = new DatabaseSync(store + '/v11/index.db');
    let n = 0;
    for (const { key, data } of db.prepare('select key, data from package_index').all()) {
      if (!String(key).endsWith('\\tgood@1.0.0')) continue;
      const row = Buffer.from(data);
      const i = row.indexOf('index.js');
      const j = row.indexOf(Buffer.from([0xd9, 0x80]), i);
      const old = row.subarray(j + 2, j + 130).toString();
      if (fs.readFileSync(store + '/v11/files/' + old.slice(0, 2) + '/' + old.slice(2)).length !== fresh.length) throw new Error('not the same length');
      const h = createHash('sha512').update(fresh).digest('hex');
      fs.mkdirSync(store + '/v11/files/' + h.slice(0, 2), { recursive: true });
      fs.writeFileSync(store + '/v11/files/' + h.slice(0, 2) + '/' + h.slice(2), fresh);
      db.prepare('update package_index set data = ? where key = ?').run(Buffer.concat([row.subarray(0, j + 2), Buffer.from(h), row.subarray(j + 130)]), key);
      n++;
    }
    if (n !== 1) throw new Error('planted ' + n + ' entries');
  `;
  const planting = await run(node24(), ['-e', script, store, PLANTED], { cwd: store });
  expect(planting.code, planting.stderr).toBe(0);
}

/** The fresh checkout of the pull request: the committed store, no node_modules, cold caches, nothing run yet. */
function freshCheckout(project: Project): void {
  for (const p of [join(project.dir, 'node_modules'), join(project.home, 'pnpm-cache'), join(project.home, 'portcullis-cache')]) rmSync(p, { recursive: true, force: true });
  for (const m of readdirSync(project.markers)) rmSync(join(project.markers, m));
}

describe.each([10, 11, 12] as const)('pnpm %i: a store committed inside the checkout (storeDir in pnpm-workspace.yaml)', (major) => {
  it('is refused before pnpm reads it: nothing planted is linked or run; check says so (exit 2)', async () => {
    const { project, store } = await projectWithStoreInCheckout(major);
    if (major === 10) plantPnpm10(store);
    else await plantSqlite(store);
    freshCheckout(project);

    const check = await portcullis(project, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stderr).toContain('storeDir ".pnpm-store" in pnpm-workspace.yaml');
    expect(check.stderr).toContain('--store-dir=$HOME/.pnpm-store');

    const r = await pnpmIn(major, project, ['install', '--frozen-lockfile'], false);
    const out = r.stdout + r.stderr;
    results.push(`pnpm ${pnpm(major).version}: check exit ${check.code}; install --frozen-lockfile exit ${r.code} ${(/ERR_PNPM_[A-Z_]+/.exec(out) ?? ['-'])[0]}`);
    expect(r.code, out).not.toBe(0);
    expect(out).toContain('STORE_IN_CHECKOUT');
    expect(out).toContain(join(project.dir, '.pnpm-store'));
    expect(readdirSync(project.markers), out).toEqual([]);
    expect(existsSync(join(project.dir, 'node_modules', 'good', 'index.js')), out).toBe(false);
    expect(existsSync(join(project.dir, 'node_modules', 'allowed-build')), out).toBe(false);

    // The fix the message gives: the store on the command line, outside the checkout (the committed one is never read).
    const fixed = await pnpmIn(major, project, ['install', '--frozen-lockfile'], true);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(readFileSync(join(project.dir, 'node_modules', 'good', 'index.js'), 'utf8')).not.toContain('PLANTED');
    expect(readdirSync(project.markers)).not.toContain('store-planted.ran');
  }, 180_000);
});

/**
 * r43b (second review): `storeDir: ~/.pnpm-store`. pnpm 10 and 11 read `~/` as the home folder; pnpm 12.24.0 does not:
 * it hands the value over as written and uses `<project>/~/.pnpm-store` (measured). A store committed there was linked
 * before the fix (planted index.js, exit 0; check exit 0, reading `~/` as the home folder). Now both readings are judged.
 */
describe('pnpm 12: a store committed at <checkout>/~/.pnpm-store, storeDir: ~/.pnpm-store', () => {
  it('is refused before pnpm reads it: nothing planted is linked; check says so (exit 2)', async () => {
    const { project, store } = await projectWithStoreInCheckout(12, { at: join('~', '.pnpm-store'), setting: '~/.pnpm-store' });
    await plantSqlite(store);
    freshCheckout(project);
    const check = await portcullis(project, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stderr).toContain(`storeDir "~/.pnpm-store" in pnpm-workspace.yaml) is ${join(project.dir, '~', '.pnpm-store')}`);
    const r = await pnpmIn(12, project, ['install', '--frozen-lockfile'], false);
    const out = r.stdout + r.stderr;
    results.push(`pnpm ${pnpm(12).version} storeDir ~/.pnpm-store: check exit ${check.code}; install --frozen-lockfile exit ${r.code} ${(/ERR_PNPM_[A-Z_]+/.exec(out) ?? ['-'])[0]}`);
    expect(r.code, out).not.toBe(0);
    expect(out).toContain('STORE_IN_CHECKOUT');
    expect(out).toContain(join(project.dir, '~', '.pnpm-store'));
    expect(existsSync(join(project.dir, 'node_modules', 'good', 'index.js')), out).toBe(false);
  }, 180_000);
});

/**
 * r43b (second review): a checkout without `.git` (a Docker build context, a source archive), the pnpm project in a
 * sub-folder, `storeDir: ../committed-store` with the store committed beside it. The checkout's top could not be told,
 * so the project folder stood for it and `..` counted as outside: before the fix pnpm 10.34.8 ran a planted postinstall,
 * 11.28.10 and 12.24.0 linked a planted index.js, exit 0; check exit 0. Now a relative folder the repository's own
 * files name is taken as inside the checkout when no `.git` marks it.
 */
describe.each([10, 11, 12] as const)('pnpm %i: no .git, a store committed beside the project (storeDir: ../committed-store)', (major) => {
  it('is refused before pnpm reads it: nothing planted is linked or run; check says so (exit 2)', async () => {
    const { project, store } = await projectWithStoreInCheckout(major, { at: join('..', 'committed-store'), setting: '../committed-store', git: false });
    if (major === 10) plantPnpm10(store);
    else await plantSqlite(store);
    freshCheckout(project);
    const check = await portcullis(project, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stderr).toContain('storeDir "../committed-store" in pnpm-workspace.yaml');
    const r = await pnpmIn(major, project, ['install', '--frozen-lockfile'], false);
    const out = r.stdout + r.stderr;
    results.push(`pnpm ${pnpm(major).version} no .git, ../committed-store: check exit ${check.code}; install --frozen-lockfile exit ${r.code} ${(/ERR_PNPM_[A-Z_]+/.exec(out) ?? ['-'])[0]}`);
    expect(r.code, out).not.toBe(0);
    expect(out).toContain('STORE_IN_CHECKOUT');
    expect(readdirSync(project.markers), out).toEqual([]);
    expect(existsSync(join(project.dir, 'node_modules', 'good', 'index.js')), out).toBe(false);
  }, 180_000);
});
