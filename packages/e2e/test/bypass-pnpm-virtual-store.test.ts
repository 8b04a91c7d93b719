/**
 * A pnpm virtual store committed in the checkout (attack round r43b, second review). A pull request sets
 * `virtualStoreDir: gvs` in pnpm-workspace.yaml — alone, or with `enableGlobalVirtualStore: true` — and commits `gvs/`
 * with planted package files (good's index.js; a postinstall in the allowed allowed-build's package.json). The lockfile
 * is untouched. Before the fix, on a fresh checkout, `install --frozen-lockfile`:
 * - with the global virtual store: pnpm 11.28.10 and 12.24.0 exit 0 "Already up to date", the planted index.js linked
 *   (pnpm 10.34.8 imported the package again);
 * - `virtualStoreDir: gvs` alone: pnpm 12.24.0 kept the committed folders and ran the allowed package's planted
 *   postinstall, exit 0 (10.34.8 and 11.28.10 imported again);
 * - `portcullis check` exit 0.
 * Now updateConfig refuses a virtual store inside the checkout (other than pnpm's default node_modules/.pnpm; with the
 * global virtual store, any) before pnpm reads it, and `check` says the same (exit 2, STORE_IN_CHECKOUT).
 * The folder is built by the attacker's own install, without the pnpmfile (--ignore-pnpmfile), then planted.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, pnpmInProject, portcullis, type Project, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), withPostinstall('allowed-build', '1.0.0')] });
}, 60_000);
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\ncommitted virtual store results:\n${results.join('\n')}\n`);
});

type Major = 10 | 11 | 12;

function pnpmIn(major: Major, project: Project, args: string[]): Promise<RunResult> {
  return pnpmInProject(pnpm(major), project, args);
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const PLANTED = 'module.exports = "PLANTED in committed virtual store";\n';
/** Each attack: its settings, the setting the refusal names, and where pnpm links the project's packages. */
const SETTINGS = [
  ['the global virtual store in the checkout', 'enableGlobalVirtualStore: true\nvirtualStoreDir: gvs', 'virtualStoreDir', 'node_modules'],
  ['a virtual store in the checkout', 'virtualStoreDir: gvs', 'virtualStoreDir', 'node_modules'],
  // Third review (r43c): pnpm's default virtual store is <modulesDir>/.pnpm. Before: check exit 0; pnpm 10.34.8 and
  // 11.28.10 "Already up to date" with the planted index.js kept as installed; pnpm 12.24.0 ran the planted postinstall.
  ['a modules folder in the checkout (its virtual store gvs/.pnpm)', 'modulesDir: gvs', 'modulesDir', 'gvs'],
] as const;

describe.each(SETTINGS.flatMap(([name, settings, key, modules]) => ([10, 11, 12] as const).map((major) => [major, name, settings, key, modules] as const)))('pnpm %i: %s', (major, _name, settings, key, modules) => {
  it('is refused before pnpm reads it: nothing planted is linked or run; check says so (exit 2)', async () => {
    const p = createProject('pnpm', registry.url, { good: '1.0.0', 'allowed-build': '1.0.0' }, { policy: { scripts: { allow: ['allowed-build@1.0.0'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
    mkdirSync(join(p.dir, '.git'));
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const first = await pnpmIn(major, p, ['install']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // The pull request: the settings, and the folder its author's own install (no pnpmfile) filled, planted.
    const ws = join(p.dir, 'pnpm-workspace.yaml');
    writeFileSync(ws, `${existsSync(ws) ? readFileSync(ws, 'utf8') : ''}\n${settings}\n`);
    rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
    const lockfile = readFileSync(join(p.dir, 'pnpm-lock.yaml'));
    const attacker = await pnpmIn(major, p, ['install', '--no-frozen-lockfile', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(attacker.code, attacker.stdout + attacker.stderr).toBe(0);
    // pnpm 10 records the pnpmfile's checksum in the lockfile: the committed one is the gated install's.
    writeFileSync(join(p.dir, 'pnpm-lock.yaml'), lockfile);
    const gvs = join(p.dir, 'gvs');
    const files = existsSync(gvs) ? walk(gvs) : [];
    for (const f of files.filter((f) => /[/\\]good[/\\]index\.js$/.test(f))) {
      rmSync(f);
      writeFileSync(f, PLANTED);
    }
    for (const f of files.filter((f) => /[/\\]allowed-build[/\\]package\.json$/.test(f))) {
      const manifest = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
      manifest.scripts = { postinstall: `node -e "require('fs').writeFileSync(process.env.PORTCULLIS_MARKER_DIR+'/vs-planted.ran','')"` };
      rmSync(f);
      writeFileSync(f, JSON.stringify(manifest));
    }
    // The fresh checkout: node_modules is not committed, gvs/ is; cold store and caches.
    for (const d of [join(p.dir, 'node_modules'), join(p.home, 'pnpm-store'), join(p.home, 'pnpm-cache'), join(p.home, 'portcullis-cache')]) rmSync(d, { recursive: true, force: true });
    for (const m of readdirSync(p.markers)) rmSync(join(p.markers, m));

    const check = await portcullis(p, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(2);
    expect(check.stderr).toContain(`${key} "gvs" in pnpm-workspace.yaml`);
    expect(check.stderr).toContain(`is ${join(p.dir, 'gvs')}, inside the project's checkout`);

    const r = await pnpmIn(major, p, ['install', '--frozen-lockfile']);
    const out = r.stdout + r.stderr;
    results.push(`pnpm ${pnpm(major).version} ${settings.replace(/\n/g, '; ')} (${files.length} files committed): check exit ${check.code}; install --frozen-lockfile exit ${r.code} ${(/ERR_PNPM_[A-Z_]+/.exec(out) ?? ['-'])[0]}`);
    expect(r.code, out).not.toBe(0);
    expect(out).toContain('STORE_IN_CHECKOUT');
    expect(out).toContain(join(p.dir, 'gvs'));
    expect(readdirSync(p.markers), out).toEqual([]);
    // Where pnpm links the project's packages: with modulesDir that is the committed folder itself (its planted files are
    // the pull request's, there whatever pnpm does), so what counts is the refusal above and that nothing ran.
    if (modules === 'node_modules') {
      const index = join(p.dir, modules, 'good', 'index.js');
      expect(existsSync(index) ? readFileSync(index, 'utf8') : '', out).not.toContain('PLANTED');
    }
  }, 240_000);
});
