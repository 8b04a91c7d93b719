/**
 * Versions with build metadata (twelfth review wave, round 46). npm's ranges ignore build metadata, so `1.0.0+evil`
 * satisfies `1.0.0`; a registry that keeps `1.0.0+evil` as its own entry (the test registry does; it signs it like any
 * other) serves other bytes under it. Before: `scripts.allow: ["hooked@1.0.0"]` — the review of hooked 1.0.0 — let a
 * lockfile naming `hooked@1.0.0+evil` (version, integrity and tarball of the attacker's entry, written in a pull request)
 * run that entry's postinstall: `portcullis-npm ci` on npm 11.21.2 and `pnpm install --frozen-lockfile` on pnpm 12.24.0
 * (its lockfile's `resolution.tarball` naming the entry's tarball) and `yarn install --immutable` on Yarn 4.18.1 (the
 * entry's `version` and `resolution` rewritten, its checksum dropped, `checksumBehavior: ignore` in the repository's
 * `.yarnrc.yml`) exit 0, postinstall ran; `check` exit 0. Now an
 * allowance names exactly what it lets in: `hooked@1.0.0` does not cover `1.0.0+evil` (core `policy/spec.ts`
 * `specMatches`), so its scripts are skipped and `check` says SCRIPT_NOT_ALLOWED naming it.
 *
 * The same for the downgrade rule: line 3 of acme-widget has one release with verified provenance (3.0.0); the
 * attacker publishes `3.0.0+evil` without any. Before: nothing of the line was lower by semver, nothing higher, so no
 * downgrade: `portcullis-npm ci` of a lockfile naming it on npm 11.21.2 exit 0, postinstall ran; `check` exit 0. Now an
 * entry that differs from the version only in build metadata counts as an earlier release of its line (core
 * `decider/provenance.ts` `earlierClaims`): exit 1 PROVENANCE_DOWNGRADE naming 3.0.0, nothing run.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, organisationPolicyPackage, startRegistry, withPostinstall, withStablePostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, enforceWithYarnPlugin, markersOf, pnpmInProject, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { provenanceCodes, provenanceLinePolicy, withTestRoot } from '../src/provenance-line.js';
import { npm, pnpm, yarn } from '../src/toolbox.js';

let registry: TestRegistry;
const ORG = '@acme/portcullis-policy';
type Dist = { integrity: string; tarball: string };
let evil: Dist;
let widget: Dist;
let aged: Dist;
const distOf = async (name: string, version: string): Promise<Dist> => ((await (await fetch(`${registry.url}${name}`)).json()) as { versions: Record<string, { dist: Dist }> }).versions[version]!.dist;
beforeAll(async () => {
  const now = Date.now();
  registry = await startRegistry({
    packages: [
      withStablePostinstall('hooked', '1.0.0', 'a'),
      withStablePostinstall('hooked', '1.0.0+evil', 'b'),
      withPostinstall('acme-widget', '3.0.0', { provenance: acmeWidgetProvenance('3.0.0'), publishedAt: new Date(now - 86_400_000).toISOString() }),
      withPostinstall('acme-widget', '3.0.0+evil', { publishedAt: new Date(now).toISOString() }),
      withPostinstall('aged-lib', '1.1.0', { publishedAt: new Date(now - 3_600_000).toISOString() }),
      withPostinstall('aged-lib', '1.1.0+evil', { publishedAt: new Date(now).toISOString() }),
    ],
  });
  // An organisation that delegates the review of hooked 1.0.0 (and only that) to its repositories.
  registry.add(organisationPolicyPackage(ORG, '1.0.0', { registries: { [registry.url]: { keys: registry.keys.keys } }, delegate: { 'scripts.allow': ['hooked@1.0.0'] } }, { publishedAt: new Date(now - 30 * 86_400_000).toISOString() }));
  evil = await distOf('hooked', '1.0.0+evil');
  widget = await distOf('acme-widget', '3.0.0+evil');
  aged = await distOf('aged-lib', '1.1.0+evil');
}, 60_000);
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const policy = () => ({ scripts: { allow: ['hooked@1.0.0'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** An npm 11 project whose package-lock.json the attacker rewrote to name `name@version` (its registry entry's tarball and integrity). */
async function npmLockNaming(policy: object, name: string, version: string, dist: Dist, range: string): Promise<Project> {
  const p = withTestRoot(createProject('npm', registry.url, { [name]: range }, { policy }));
  const n = npm(11);
  const locked = await run(n.command, [...n.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: p.dir, env: p.env });
  expect(locked.code, out(locked)).toBe(0);
  const lockPath = join(p.dir, 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  Object.assign(lock.packages[`node_modules/${name}`]!, { version, resolved: dist.tarball, integrity: dist.integrity });
  writeFileSync(lockPath, JSON.stringify(lock, null, 2));
  return p;
}

async function refusedByCheck(p: Project): Promise<void> {
  const check = await portcullis(p, ['check']);
  expect(check.code, out(check)).toBe(1);
  expect(out(check)).toContain('hooked@1.0.0+evil wants to run postinstall at install time, and scripts.allow does not cover it [SCRIPT_NOT_ALLOWED]');
  expect(out(check)).toContain('fix: portcullis approve hooked@1.0.0+evil');
}

describe('a pinned approval and a version with build metadata', () => {
  it('npm 11: ci from a lockfile naming hooked@1.0.0+evil: its postinstall is skipped; check refuses it', async () => {
    const p = await npmLockNaming(policy(), 'hooked', '1.0.0+evil', evil, '1.0.0');
    const ci = await portcullisNpm(npm(11), p, ['ci']);
    expect(markersOf(p), out(ci)).toEqual([]);
    expect(out(ci)).toContain('hooked@1.0.0+evil');
    await refusedByCheck(p);
  }, 120_000);

  it('pnpm 12: a frozen install of a lockfile naming hooked@1.0.0+evil and its tarball: its postinstall is skipped; check refuses it', async () => {
    const p = createProject('pnpm', registry.url, { hooked: '1.0.0' }, { policy: policy() });
    expect((await portcullis(p, ['init', 'pnpm'])).code).toBe(0);
    const locked = await pnpmInProject(pnpm(12), p, ['install', '--lockfile-only']);
    expect(locked.code, out(locked)).toBe(0);
    const lockPath = join(p.dir, 'pnpm-lock.yaml');
    const lock = readFileSync(lockPath, 'utf8');
    const edited = lock
      .replace(/hooked@1\.0\.0:/g, 'hooked@1.0.0+evil:')
      .replace(/\n( +)version: 1\.0\.0\n/, '\n$1version: 1.0.0+evil\n')
      .replace(/resolution: \{integrity: [^}]*\}/, `resolution: {integrity: ${evil.integrity}, tarball: ${evil.tarball}}`);
    expect(edited.match(/1\.0\.0\+evil/g)?.length, edited).toBe(4);
    writeFileSync(lockPath, edited);
    const installed = await pnpmInProject(pnpm(12), p, ['install', '--frozen-lockfile']);
    expect(markersOf(p), out(installed)).toEqual([]);
    await refusedByCheck(p);
  }, 120_000);

  it('Yarn 4.18.1: an immutable install of a lockfile naming hooked@1.0.0+evil: its postinstall is skipped; check refuses it', async () => {
    const p = createProject('yarn', registry.url, { hooked: '1.0.0' }, { policy: policy() });
    expect((await enforceWithYarnPlugin(p)).code).toBe(0);
    const y = yarn('latest');
    const locked = await run(y.command, [...y.args, 'install', '--no-immutable', '--mode=update-lockfile'], { cwd: p.dir, env: p.env });
    expect(locked.code, out(locked)).toBe(0);
    const lockPath = join(p.dir, 'yarn.lock');
    const lock = readFileSync(lockPath, 'utf8');
    const edited = lock
      .replace('resolution: "hooked@npm:1.0.0"', 'resolution: "hooked@npm:1.0.0+evil"')
      .replace(/\n {2}version: 1\.0\.0\n/, '\n  version: 1.0.0+evil\n')
      .replace(/\n {2}checksum: [^\n]*/, '');
    expect(edited.match(/1\.0\.0\+evil/g)?.length, edited).toBe(2);
    writeFileSync(lockPath, edited);
    appendFileSync(join(p.dir, '.yarnrc.yml'), 'checksumBehavior: ignore\n');
    const installed = await run(y.command, [...y.args, 'install', '--immutable'], { cwd: p.dir, env: p.env });
    expect(markersOf(p), out(installed)).toEqual([]);
    await refusedByCheck(p);
  }, 120_000);

  // Fourteenth wave: the fix that SCRIPT_NOT_ALLOWED names for such a version did not work. `portcullis approve
  // hooked` (or `hooked@1.0.0+evil`) pinned `hooked@1.0.0+evil` and recorded its fingerprint under that key, which the
  // policy reader refused ("keys are name@exact-version": semver.valid drops build metadata): exit 2, nothing written.
  it('npm 11: portcullis approve hooked pins hooked@1.0.0+evil, the version the lockfile names, and records its fingerprint under that very key', async () => {
    const p = await npmLockNaming({ registries: { [registry.url]: { keys: registry.keys.keys } } }, 'hooked', '1.0.0+evil', evil, '1.0.0');
    const approved = await portcullis(p, ['approve', 'hooked']);
    expect(approved.code, out(approved)).toBe(0);
    const written = JSON.parse(readFileSync(join(p.dir, 'portcullis.json'), 'utf8')) as { scripts: { allow: string[]; fingerprints: Record<string, unknown> } };
    expect(written.scripts.allow).toEqual(['hooked@1.0.0+evil']);
    expect(Object.keys(written.scripts.fingerprints)).toEqual(['hooked@1.0.0+evil']);
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(0);
    const ci = await portcullisNpm(npm(11), p, ['ci']);
    expect(ci.code, out(ci)).toBe(0);
    expect(markersOf(p)).toEqual(['hooked@1.0.0+evil.ran']);
  }, 120_000);

  it('the reviewed 1.0.0 itself still builds (npm 11)', async () => {
    const p = createProject('npm', registry.url, { hooked: '1.0.0' }, { policy: policy() });
    const installed = await portcullisNpm(npm(11), p, ['install']);
    expect(installed.code, out(installed)).toBe(0);
    expect(markersOf(p), out(installed)).toEqual(['hooked@1.0.0.ran']);
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(0);
  }, 120_000);

  it('npm 11: ci from a lockfile naming acme-widget@3.0.0+evil, without the provenance 3.0.0 has: refused as a downgrade, nothing run; check refuses it', async () => {
    const p = await npmLockNaming(provenanceLinePolicy(registry), 'acme-widget', '3.0.0+evil', widget, '3.0.0');
    const ci = await portcullisNpm(npm(11), p, ['ci']);
    expect(markersOf(p), out(ci)).toEqual([]);
    expect(ci.code, out(ci)).toBe(1);
    expect(provenanceCodes(out(ci)), out(ci)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(out(ci)).toContain('3.0.0');
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(provenanceCodes(out(check)), out(check)).toEqual(['PROVENANCE_DOWNGRADE']);
  }, 120_000);

  it('npm 11: a cooldown exception for aged-lib@1.1.0 does not let in aged-lib@1.1.0+evil, published now: RELEASE_TOO_NEW, nothing run', async () => {
    const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
    const cooled = { scripts: { allow: ['aged-lib'] }, registries: { [registry.url]: { keys: registry.keys.keys } }, cooldown: { minimumReleaseAge: '3d', exceptions: { 'aged-lib@1.1.0': until } } };
    const p = await npmLockNaming(cooled, 'aged-lib', '1.1.0+evil', aged, '1.1.0');
    const ci = await portcullisNpm(npm(11), p, ['ci']);
    expect(markersOf(p), out(ci)).toEqual([]);
    expect(ci.code, out(ci)).toBe(1);
    expect(out(ci)).toContain('RELEASE_TOO_NEW');
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('aged-lib@1.1.0+evil');
  }, 120_000);

  it('npm 11: an organisation that delegates hooked@1.0.0 does not let a repository add hooked@1.0.0+evil (POLICY_LOOSENED), nothing run', async () => {
    const extending = { extends: { package: ORG, version: '1.0.0', integrity: registry.integrity(ORG, '1.0.0') }, scripts: { allow: ['hooked@1.0.0+evil'] } };
    const p = await npmLockNaming(extending, 'hooked', '1.0.0+evil', evil, '1.0.0');
    const ci = await portcullisNpm(npm(11), p, ['ci']);
    expect(markersOf(p), out(ci)).toEqual([]);
    expect(ci.code, out(ci)).toBe(2);
    expect(out(ci)).toMatch(/"scripts.allow" adds "hooked@1\.0\.0\+evil", which loosens the organisation policy/);
    const check = await portcullis(p, ['check']);
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toMatch(/"scripts.allow" adds "hooked@1\.0\.0\+evil"/);
  }, 120_000);
});
