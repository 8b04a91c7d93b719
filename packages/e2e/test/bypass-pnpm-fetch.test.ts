/**
 * `pnpm fetch` (seventh review wave of round 44). pnpm 12.24.0 runs updateConfig for `fetch` and no hook after it that
 * sees the lockfile (no preResolution, readPackage or afterAllResolved), then links every package of the lockfile into
 * its virtual store (`node_modules/.pnpm`) and builds those its allowBuilds allows. Before: a lockfile naming
 * `tampered-opt@1.0.0` with an integrity the registry never signed (BAD_SIGNATURE), whose postinstall scripts.allow
 * allows, `pnpm fetch` exit 0, the package linked into node_modules/.pnpm and its postinstall ran ("1 dependency was
 * built"); pnpm 10.34.8 and 11.28.10 refused it (preResolution), `check` exit 1. Now pnpm 12's updateConfig judges the
 * lockfile of a `fetch` too, and refuses it when it cannot judge it (a lockfile its reader refuses, another lockfile
 * setting): nothing fetched, linked or built, whatever the spelling (`-C dir fetch`, `recursive fetch`, `m fetch`,
 * `with current fetch` each fetched and built too). A clean lockfile still fetches, then installs offline.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, markersOf, pnpmInProject, portcullis, type Project, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), withPostinstall('allowed-build', '1.0.0'), withPostinstall('tampered-opt', '1.0.0', { signature: 'corrupt' })] });
}, 60_000);
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = markersOf;
const inVirtualStore = (p: Project) => (existsSync(join(p.dir, 'node_modules', '.pnpm')) ? readdirSync(join(p.dir, 'node_modules', '.pnpm')).filter((d) => d.includes('@')) : []);
const policy = () => ({ scripts: { allow: ['allowed-build', 'tampered-opt'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** The pull request: package.json and a lockfile written without the hook (`--ignore-pnpmfile`), recording the pnpmfile's checksum as pnpm does. */
async function pullRequest(major: 10 | 11 | 12, dependencies: Record<string, string>): Promise<Project> {
  const p = createProject('pnpm', registry.url, { good: '1.0.0' }, { policy: policy() });
  mkdirSync(join(p.dir, '.git'));
  expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
  // Written first with the hook on a clean graph, for pnpm's own pnpmfileChecksum; then the graph the pull request wants.
  const clean = await pnpmInProject(pnpm(major), p, ['install', '--lockfile-only', '--no-frozen-lockfile', '--ignore-scripts'], { store: false });
  expect(clean.code, out(clean)).toBe(0);
  const checksum = /\npnpmfileChecksum: [^\n]*\n/.exec(readFileSync(join(p.dir, 'pnpm-lock.yaml'), 'utf8'))?.[0];
  const pkgPath = join(p.dir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(pkgPath, JSON.stringify({ ...pkg, dependencies }, null, 2));
  const made = await pnpmInProject(pnpm(major), p, ['install', '--lockfile-only', '--no-frozen-lockfile', '--ignore-pnpmfile'], { store: false });
  expect(made.code, out(made)).toBe(0);
  const lockPath = join(p.dir, 'pnpm-lock.yaml');
  const lock = readFileSync(lockPath, 'utf8');
  if (checksum !== undefined && !lock.includes('pnpmfileChecksum:')) writeFileSync(lockPath, lock.replace(/\nimporters:/, `${checksum}\nimporters:`));
  rmSync(join(p.dir, 'node_modules'), { recursive: true, force: true });
  return p;
}

describe.each([10, 11, 12] as const)('pnpm %i fetch', (major) => {
  it('a lockfile naming a badly signed package whose postinstall the policy allows: refused, nothing linked or run; check refuses it', async () => {
    const p = await pullRequest(major, { good: '1.0.0', 'tampered-opt': '1.0.0' });
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(1);
    const fetch = await pnpmInProject(pnpm(major), p, ['fetch']);
    expect(ran(p), out(fetch)).toEqual([]);
    expect(inVirtualStore(p), out(fetch)).toEqual([]);
    expect(fetch.code, out(fetch)).not.toBe(0);
    expect(out(fetch)).toContain('BAD_SIGNATURE');
    // A workspace's projects selected (the Docker recipe's `pnpm fetch --prod` is the same command).
    const selected = await pnpmInProject(pnpm(major), p, ['--filter', '.', 'fetch', '--prod']);
    expect(ran(p), out(selected)).toEqual([]);
    expect(selected.code, out(selected)).not.toBe(0);
  }, 180_000);

  it('a clean lockfile: fetched, then installed offline, the allowed build run', async () => {
    const p = await pullRequest(major, { good: '1.0.0', 'allowed-build': '1.0.0' });
    const fetch = await pnpmInProject(pnpm(major), p, ['fetch']);
    expect(fetch.code, out(fetch)).toBe(0);
    const install = await pnpmInProject(pnpm(major), p, ['install', '--offline', '--frozen-lockfile']);
    expect(install.code, out(install)).toBe(0);
    expect(ran(p), out(install)).toContain('allowed-build@1.0.0.ran');
    expect(existsSync(join(p.dir, 'node_modules', 'good', 'package.json')), out(install)).toBe(true);
  }, 180_000);

  if (major === 12) {
    it('every other spelling of fetch: after a flag with a value, recursive, m, with current: refused, nothing linked or run', async () => {
      const p = await pullRequest(major, { good: '1.0.0', 'tampered-opt': '1.0.0' });
      for (const args of [['-C', p.dir, 'fetch'], ['--reporter', 'append-only', 'fetch'], ['recursive', 'fetch'], ['m', 'fetch'], ['with', 'current', 'fetch']]) {
        const fetch = await pnpmInProject(pnpm(major), p, args);
        expect(ran(p), `${args.join(' ')}\n${out(fetch)}`).toEqual([]);
        expect(inVirtualStore(p), `${args.join(' ')}\n${out(fetch)}`).toEqual([]);
        expect(fetch.code, `${args.join(' ')}\n${out(fetch)}`).not.toBe(0);
      }
    }, 180_000);

    it('a lockfile the reader refuses (a YAML merge key): refused, since no later hook would judge what pnpm parsed', async () => {
      const p = await pullRequest(major, { good: '1.0.0', 'tampered-opt': '1.0.0' });
      const lockPath = join(p.dir, 'pnpm-lock.yaml');
      const lock = readFileSync(lockPath, 'utf8');
      const merged = lock.replace(/\n {2}tampered-opt@1\.0\.0:\n {4}resolution: (\{[^\n]*\})\n/, `\n  tampered-opt@1.0.0:\n    <<: {resolution: $1}\n`);
      expect(merged).not.toBe(lock);
      writeFileSync(lockPath, merged);
      const fetch = await pnpmInProject(pnpm(major), p, ['fetch']);
      expect(ran(p), out(fetch)).toEqual([]);
      expect(inVirtualStore(p), out(fetch)).toEqual([]);
      expect(fetch.code, out(fetch)).not.toBe(0);
      expect(out(fetch)).toContain('portcullis refused pnpm fetch');
    }, 180_000);
  }
});
