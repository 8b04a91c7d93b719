/**
 * A committed `.yarn/unplugged` (seventh review wave of round 44). Yarn's PnP linker unpacks a package that builds (or
 * that `dependenciesMeta` unplugs) into `.yarn/unplugged/<name>-npm-<version>-<hash>/node_modules/<name>`, and uses a
 * folder there that holds its `.ready` file as it is; into one without, it copies without overwriting. No checksum covers
 * those files. The pull request: `nodeLinker: pnp`, `dependenciesMeta.good.unplugged: true`, and the attacker's own
 * install's unplugged folders committed with `good/index.js` planted and a `postinstall` planted in the allowed
 * `allowed-build`'s package.json.
 * Before, Yarn 4.0.2 and 4.18.1, fresh caches, `install --immutable`: exit 0, the planted postinstall ran (as the
 * allowed build), the planted index.js was what `require('good')` gave; with or without the `.ready` files.
 * Now the plugin removes, before Yarn links, every unplugged folder this user's last install checked by the plugin did
 * not leave as it is (core's unpackedCopies: a record of lstat stamps in the state folder), so Yarn unpacks the verified
 * package again: exit 0, only the real allowed-build postinstall ran, `require('good')` is the signed one.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearMarkers, createProject, enforceWithYarnPlugin, markersOf, portcullis, run, type Project, type RunResult } from '../src/project.js';
import { yarn } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [withPostinstall('allowed-build', '1.0.0'), cleanPackage('good', '1.0.0')] });
});
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = markersOf;
type Release = 'latest' | '4.14' | '4.0';
const yarnIn = (release: Release, p: Project, args: string[], env: NodeJS.ProcessEnv = {}) => {
  const tool = yarn(release);
  return run(tool.command, [...tool.args, ...args], { cwd: p.dir, env: { ...p.env, ...env } });
};
/** What `require('good')` gives through the project's .pnp.cjs. */
async function requireGood(p: Project): Promise<string> {
  const r = await run(process.execPath, ['-r', join(p.dir, '.pnp.cjs'), '-e', 'process.stdout.write(JSON.stringify(require("good")))'], { cwd: p.dir, env: p.env });
  return r.stdout;
}

/** The attacker's own PnP install, its unplugged folders then planted; returns the project as the victim checks it out. */
async function plantedCheckout(release: Release, ready: boolean): Promise<{ p: Project; signed: string }> {
  const p = createProject('yarn', registry.url, { 'allowed-build': '1.0.0', good: '1.0.0' }, { policy: { scripts: { allow: ['allowed-build'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
  const yarnrc = join(p.dir, '.yarnrc.yml');
  writeFileSync(yarnrc, readFileSync(yarnrc, 'utf8').replace('nodeLinker: node-modules', 'nodeLinker: pnp'));
  const pkg = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg.dependenciesMeta = { good: { unplugged: true } };
  writeFileSync(join(p.dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const init = await enforceWithYarnPlugin(p);
  expect(init.code, out(init)).toBe(0);
  // The attacker's machine: another state folder (its own record must not vouch for anything on the victim's).
  const attacker = await yarnIn(release, p, ['install', '--no-immutable'], { PORTCULLIS_STATE_DIR: join(p.home, 'attacker-state') });
  expect(attacker.code, out(attacker)).toBe(0);
  const signed = await requireGood(p);
  expect(signed).not.toBe('');
  const unplugged = join(p.dir, '.yarn', 'unplugged');
  const entries = readdirSync(unplugged);
  expect(entries.length).toBe(2);
  for (const entry of entries) {
    const name = entry.startsWith('good-') ? 'good' : 'allowed-build';
    const dir = join(unplugged, entry, 'node_modules', name);
    if (name === 'good') writeFileSync(join(dir, 'index.js'), 'module.exports = "planted";\n');
    else writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: { postinstall: markerScript('planted', '1.0.0', 'postinstall') } }));
    if (!ready) rmSync(join(dir, '.ready'));
  }
  // The victim's fresh clone: no Yarn cache, no install state.
  clearMarkers(p);
  for (const d of [join(p.home, 'yarn-cache'), join(p.home, 'yarn-global'), join(p.home, 'portcullis-cache'), join(p.dir, '.yarn', 'install-state.gz')]) rmSync(d, { recursive: true, force: true });
  return { p, signed };
}

describe.each(['latest', '4.14', '4.0'] as const)('Yarn %s, nodeLinker: pnp: a committed .yarn/unplugged', (release) => {
  for (const ready of [true, false]) {
    it(`${ready ? 'with' : 'without'} its .ready files: Yarn unpacks the verified packages again; the planted postinstall and index.js are gone`, async () => {
      const { p, signed } = await plantedCheckout(release, ready);
      // Before the fix: check exit 0 ("all 2 packages allowed").
      const before = await portcullis(p, ['check']);
      expect(before.code, out(before)).toBe(2);
      expect(out(before)).toContain('.yarn/unplugged/good-npm-1.0.0-');
      const r = await yarnIn(release, p, ['install', '--immutable']);
      // Before the fix: exit 0, ran = ['planted@1.0.0.ran'], require('good') = "planted".
      expect({ code: r.code, ran: ran(p), good: await requireGood(p) }, out(r)).toEqual({ code: 0, ran: ['allowed-build@1.0.0.ran'], good: signed });
      expect(out(r)).toContain('portcullis: removed');
      const after = await portcullis(p, ['check']);
      expect(after.code, out(after)).toBe(0);
      // The next install on this machine keeps what this one left: nothing removed, nothing built again.
      clearMarkers(p);
      const again = await yarnIn(release, p, ['install', '--immutable']);
      expect({ code: again.code, ran: ran(p), good: await requireGood(p) }, out(again)).toEqual({ code: 0, ran: [], good: signed });
      expect(out(again)).not.toContain('portcullis: removed');
    }, 180_000);
  }
});
