import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installedManifestReader, type InstalledFiles } from '../layouts/installed.js';
import type { Lockfile, PackageNode } from '../model.js';
import { createRegistryConfig } from '../registry/config.js';
import { makeSigningKey } from '../signatures/signing-key.fixture.js';
import { openGate, type GateOptions } from './gate.js';

/** A project folder with this portcullis.json; signatures off, so only the scripts rule speaks (no registry needed). */
function project(policy: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-'));
  writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' }, ...policy }));
  return dir;
}

const git = (name: string, extra: Partial<PackageNode> = {}): PackageNode => ({
  id: `${name}@1.0.0`,
  name,
  version: '1.0.0',
  source: 'git',
  resolved: `git+https://git.example/${name}.git#abc`,
  hasInstallScript: true,
  aliases: [],
  paths: [`node_modules/${name}`],
  dependents: ['.'],
  ...extra,
});

function gate(dir: string, options: Partial<GateOptions> = {}) {
  const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-state-'));
  return openGate({ dir, packageManager: 'npm', registryConfig: createRegistryConfig({}), env: {}, cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state'), ...options });
}

describe('the gate answers what its policy asks of a surface', () => {
  it('asksReleaseLine: the provenance downgrade check, on by default, but not for a version allowDowngrade covers', async () => {
    const on = await gate(project({ provenance: { allowDowngrade: ['left-pad@<2'] } }));
    expect(on.asksReleaseLine('left-pad', '1.5.0')).toBe(false);
    expect(on.asksReleaseLine('left-pad', '2.0.0')).toBe(true);
    expect(on.asksReleaseLine('is-odd', '1.0.0')).toBe(true);
    const off = await gate(project({ provenance: { noDowngrade: false } }));
    expect(off.asksReleaseLine('is-odd', '1.0.0')).toBe(false);
  });
});

describe('judgeBeforeFetch', () => {
  it('a git dependency fetched while resolving: its script finding blocks even outside strict mode, fixes spelled for the surface', async () => {
    const dir = project({ signatures: { require: 'registry', allowUnsigned: ['git-thing'] } });
    const verdict = (await gate(dir, { packageManager: 'yarn' })).judgeBeforeFetch({ name: 'git-thing', source: 'git', resolved: 'git+https://git.example/git-thing.git#commit=abc' });
    expect(verdict).toMatchObject({ exitCode: 1, skipped: [], notices: [], skippedNotice: undefined });
    expect(verdict.blocking.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    expect([...verdict.blocked]).toEqual(['git-thing@git+https://git.example/git-thing.git#commit=abc']);
    const allowed = (await gate(project({ scripts: { allow: ['git-thing'] } }), { packageManager: 'yarn' })).judgeBeforeFetch({ name: 'git-thing', source: 'git', resolved: 'x' });
    expect(allowed).toMatchObject({ exitCode: 0, blocking: [], findings: [] });
  });
});

describe('the gate decides every consequence', () => {
  it('an install skips a script the policy does not allow (exit 0, one notice spelled for the surface); a check fails on it', async () => {
    const dir = project({});
    const install = await (await gate(dir, { packageManager: 'yarn' })).judge([git('evil')]);
    expect(install).toMatchObject({ exitCode: 0, blocking: [] });
    expect(install.skipped.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    expect(install.skippedNotice).toContain('To allow: yarn portcullis approve evil@1.0.0');
    expect(install.findings[0]!.fix).toBe('yarn portcullis approve evil@1.0.0');

    // `yarn portcullis check`: Yarn's spelling, and the check's consequence (every finding fails it)
    const check = await (await gate(dir, { packageManager: 'yarn', purpose: 'check' })).judge([git('evil')]);
    expect(check).toMatchObject({ exitCode: 1, skipped: [], skippedNotice: undefined });
    expect(check.blocking.map((f) => f.fix)).toEqual(['yarn portcullis approve evil@1.0.0']);
    expect([...check.blocked]).toEqual(['evil@1.0.0']);
    expect(check.report({ kind: 'yarn', path: join(dir, 'yarn.lock') })).toMatchObject({ exitCode: 1, packages: 1, policy: join(dir, 'portcullis.json') });
  });

  it('strict mode and a script the package manager cannot skip block; a partial judgement waits for the whole graph', async () => {
    const dir = project({});
    expect((await (await gate(dir, { strict: true })).judge([git('evil')])).exitCode).toBe(1);
    const partial = await (await gate(dir, { strict: true })).judge([git('evil')], { partial: true });
    expect(partial).toMatchObject({ exitCode: 0, blocking: [], skippedNotice: undefined });
    const unskippable = await (await gate(dir)).judge([git('evil'), git('other')], { scriptsUnskippable: (pkg) => pkg.name === 'evil' });
    expect(unskippable.blocking.map((f) => f.package)).toEqual(['evil']);
    expect(unskippable.skipped.map((f) => f.package)).toEqual(['other']);
  });

  it('mayBuild: the policy, the bundled-copy rule, own code, and every judged copy of a name@version', async () => {
    const dir = project({ scripts: { allow: ['esbuild'] } });
    const g = await gate(dir);
    expect(g.mayBuild({ name: 'esbuild', version: '1.0.0' })).toBe(true);
    expect(g.mayBuild({ name: 'evil', version: '1.0.0' })).toBe(false);
    expect(g.mayBuild({ name: 'evil', version: '1.0.0', source: 'workspace' })).toBe(true);
    // `esbuild@1.0.0` bundled inside `evil`: its bytes are evil's choice
    const bundled = git('esbuild', { bundledBy: { name: 'evil', version: '1.0.0' }, inBundle: true });
    expect(g.mayBuild(bundled)).toBe(false);
    const verdict = await g.judge([bundled, git('evil')]);
    expect(verdict.mayBuild({ name: 'esbuild', version: '1.0.0' })).toBe(false);
    expect(verdict.mayBuild({ name: 'unjudged', version: '1.0.0' })).toBe(false);
    expect((await g.judge([git('esbuild')])).mayBuild({ name: 'esbuild', version: '1.0.0' })).toBe(true);
  });

  it('the build plan has the allowed copies and the user’s own packages read from disk, dependencies first', async () => {
    const dir = project({ scripts: { allow: ['esbuild'] } });
    const own: PackageNode = { id: 'app-lib@1.0.0', name: 'app-lib', version: '1.0.0', source: 'directory', insideProject: true, aliases: [], paths: ['node_modules/app-lib'], dependents: ['.'] };
    // What is on disk: every copy has a postinstall
    const read = () => ({ scripts: { postinstall: 'node x' }, bindingGyp: false, gypfile: undefined });
    const verdict = await (await gate(dir)).judge([git('esbuild', { dependents: ['app-lib@1.0.0'] }), git('evil'), own], { readInstalled: read });
    const plan = verdict.buildPlan(read);
    expect(plan.map((s) => `${s.name}${s.ownCode ? ' (own)' : ''}`)).toEqual(['esbuild', 'app-lib (own)']);
  });

  it('a copy on disk that is not the package checked is never built and stops the install (INSTALLED_MISMATCH); absent copies are not', async () => {
    const dir = project({ scripts: { allow: ['lib@1.0.1', 'bare@1.0.0'] } });
    const manifest = (path: string, body: object) => {
      mkdirSync(join(dir, path), { recursive: true });
      writeFileSync(join(dir, path, 'package.json'), JSON.stringify({ scripts: { postinstall: 'node x' }, ...body }));
    };
    // lib@1.0.1 at two paths: the checked copy at one, a stale 1.0.0 left at the other; bare's folder has no package.json.
    manifest('node_modules/a/node_modules/lib', { name: 'lib', version: '1.0.1' });
    manifest('node_modules/lib', { name: 'lib', version: '1.0.0' });
    mkdirSync(join(dir, 'node_modules/bare'), { recursive: true });
    const lib = git('lib', { id: 'lib@1.0.1', version: '1.0.1', paths: ['node_modules/lib', 'node_modules/a/node_modules/lib', 'node_modules/gone/node_modules/lib'] });
    const packages = [lib, git('bare')];
    const read = installedManifestReader({ kind: 'npm' } as Lockfile, dir);
    expect(read.at!(lib, 'node_modules/lib')).toEqual({ differs: 'its package.json names lib@1.0.0' });
    expect(read.at!(lib, 'node_modules/gone/node_modules/lib')).toEqual({ absent: true });

    const verdict = await (await gate(dir)).judge(packages, { readInstalled: read });
    expect(verdict.exitCode).toBe(1);
    expect(verdict.blocking.map((f) => [f.package, f.version, f.code, f.rule, f.fix])).toEqual([
      ['lib', '1.0.1', 'INSTALLED_MISMATCH', 'scripts', 'rm -rf node_modules && portcullis-npm install'],
      ['bare', '1.0.0', 'INSTALLED_MISMATCH', 'scripts', 'rm -rf node_modules && portcullis-npm install'],
    ]);
    expect(verdict.blocking[0]!.message).toBe('lib@1.0.1: the copy installed at node_modules/lib is not the one checked (its package.json names lib@1.0.0); its install scripts were not run.');
    expect(verdict.blocking[1]!.message).toContain('(it has no readable package.json)');
    // Only the copy that is the package checked is in the build plan, whatever the scripts evidence says.
    expect(verdict.buildPlan(read).map((s) => s.path)).toEqual(['node_modules/a/node_modules/lib']);
    // A check (and approve) judges the lockfile: a stale node_modules is not its finding.
    const check = await (await gate(dir, { purpose: 'check' })).judge(packages, { readInstalled: read });
    expect(check.findings.map((f) => f.code)).toEqual([]);
  });

  it('SCRIPT_CHANGED blocks an install, spelled for the surface; the changed copy neither may build nor is in the build plan', async () => {
    const dir = project({ scripts: { allow: ['lib', 'ok'], fingerprints: { 'lib@0.9.0': { postinstall: 'node x' }, 'ok@0.9.0': { postinstall: 'node x' } } } });
    const read = (pkg: PackageNode) => ({ scripts: { postinstall: pkg.name === 'lib' ? 'node y' : 'node x' }, bindingGyp: false, gypfile: undefined });
    const verdict = await (await gate(dir, { packageManager: 'yarn' })).judge([git('lib'), git('ok')], { readInstalled: read });
    expect(verdict).toMatchObject({ exitCode: 1, skipped: [] });
    expect(verdict.blocking.map((f) => [f.package, f.code, f.fix])).toEqual([['lib', 'SCRIPT_CHANGED', 'yarn portcullis approve lib@1.0.0']]);
    expect(verdict.mayBuild({ name: 'lib', version: '1.0.0' })).toBe(false);
    expect(verdict.mayBuild(git('lib'))).toBe(false);
    expect(verdict.mayBuild({ name: 'ok', version: '1.0.0' })).toBe(true);
    expect(verdict.buildPlan(read).map((s) => s.name)).toEqual(['ok']);
  });

  it('opening the gate loads the policy that applies: a nearer portcullis.json than the project root’s is refused', async () => {
    const dir = project({});
    const member = join(dir, 'packages', 'member');
    mkdirSync(member, { recursive: true });
    writeFileSync(join(member, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    await expect(gate(dir, { start: member })).rejects.toThrow(expect.objectContaining({ code: 'PROJECT_AMBIGUOUS' }));
    expect((await gate(dir)).policyFile).toBe(join(dir, 'portcullis.json'));
    writeFileSync(join(dir, 'portcullis.json'), '{"scripts": {"allow": [1]}}');
    await expect(gate(dir)).rejects.toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});

describe('judgeLockfile: a verdict that let an identical lockfile through is replayed', () => {
  /** One user's cache and secret, shared by the gates a test opens (as consecutive installs share them). */
  function user() {
    const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-user-'));
    return { cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state') };
  }
  const open = (dir: string, u: ReturnType<typeof user>, options: Partial<GateOptions> = {}) =>
    openGate({ dir, packageManager: 'pnpm', registryConfig: createRegistryConfig({}), env: {}, engine: 'test-build', ...u, ...options });
  /** The packages of a lockfile, counting how often they were asked for (translated). */
  function lockfile(...nodes: PackageNode[]) {
    const asked = { count: 0 };
    return { asked, packages: () => (asked.count++, nodes) };
  }

  it('the same lockfile through the same gate: the remembered verdict (skipped scripts and all), nothing translated or judged', async () => {
    const dir = project({});
    const u = user();
    const first = lockfile(git('evil'));
    const decided = await (await open(dir, u)).judgeLockfile('digest-1', first.packages);
    expect(decided).toMatchObject({ remembered: false, exitCode: 0, blocking: [] });
    expect(first.asked.count).toBe(1);
    const again = lockfile(git('evil'));
    const replayed = await (await open(dir, u)).judgeLockfile('digest-1', again.packages);
    expect(again.asked.count).toBe(0);
    expect(replayed).toMatchObject({ remembered: true, exitCode: 0, blocking: [] });
    expect(replayed.skipped.map((f) => `${f.code} ${f.package}`)).toEqual(['SCRIPT_NOT_ALLOWED evil']);
    expect(replayed.skippedNotice).toBe(decided.skippedNotice);
  });

  it('a lockfile with patched packages is remembered with what its judgement read of the patches, and replayed only while that holds; pnpm 10 cannot skip them', async () => {
    const dir = project({});
    const u = user();
    mkdirSync(join(dir, 'patches'));
    const benign = 'diff --git a/index.js b/index.js\n--- a/index.js\n+++ b/index.js\n@@ -1 +1 @@\n-a\n+b\n';
    const scripts = 'diff --git a/package.json b/package.json\n--- a/package.json\n+++ b/package.json\n@@ -1 +1 @@\n-{}\n+{"scripts":{"postinstall":"x"}}\n';
    writeFileSync(join(dir, 'patches', 'evil.patch'), benign);
    const hash = createHash('sha256').update(benign).digest('hex');
    // Its own files run nothing (the lockfile says so); the patch is what may give it scripts.
    const patched = git('evil', { source: 'tarball', resolved: 'https://files.example/evil.tgz', hasInstallScript: false, patches: [{ hash, files: ['patches/evil.patch'] }] });
    const first = lockfile(patched);
    const decided = await (await open(dir, u)).judgeLockfile('digest-p', first.packages);
    expect(decided).toMatchObject({ remembered: false, exitCode: 0, skipped: [] });
    expect(decided.patchFiles).toEqual([[join(dir, 'patches', 'evil.patch'), Buffer.from(benign)]]);
    const again = lockfile(patched);
    const replayed = await (await open(dir, u)).judgeLockfile('digest-p', again.packages);
    expect(again.asked.count).toBe(0);
    expect(replayed).toMatchObject({ remembered: true, skipped: [], patchFiles: decided.patchFiles });
    // The patch file now adds a postinstall (the lockfile, and so its digest, unchanged): judged again, from the file.
    writeFileSync(join(dir, 'patches', 'evil.patch'), scripts);
    const changed = lockfile(patched);
    const skipped = await (await open(dir, u)).judgeLockfile('digest-p', changed.packages);
    expect(changed.asked.count).toBe(1);
    expect(skipped.remembered).toBe(false);
    expect(skipped.skipped.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    const blocked = await (await open(dir, u)).judgeLockfile('digest-p', lockfile(patched).packages, { patchedBuildsUnasked: true });
    expect(blocked.blocking.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    // Back to the benign bytes: the verdict remembered last (on the other bytes) does not hold; judged again, then replayed.
    writeFileSync(join(dir, 'patches', 'evil.patch'), benign);
    expect((await (await open(dir, u)).judgeLockfile('digest-p', lockfile(patched).packages))).toMatchObject({ remembered: false, skipped: [] });
    expect((await (await open(dir, u)).judgeLockfile('digest-p', lockfile(patched).packages)).remembered).toBe(true);
    // The project's settings now name a patch for a package the lockfile does not mark patched: judged again.
    const plain = git('good', { source: 'tarball', resolved: 'https://files.example/good.tgz', hasInstallScript: false });
    expect((await (await open(dir, u)).judgeLockfile('digest-q', lockfile(plain).packages)).skipped).toEqual([]);
    expect((await (await open(dir, u)).judgeLockfile('digest-q', lockfile(plain).packages)).remembered).toBe(true);
    writeFileSync(join(dir, 'patches', 'good.patch'), scripts);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good: patches/good.patch\n');
    const named = lockfile(plain);
    const judged = await (await open(dir, u)).judgeLockfile('digest-q', named.packages);
    expect(named.asked.count).toBe(1);
    expect(judged.skipped.map((f) => `${f.code} ${f.package}`)).toEqual(['SCRIPT_NOT_ALLOWED good']);
  });

  it('anything else decides again: another lockfile, another policy, strictness, surface, a PORTCULLIS_ setting, another build, another user', async () => {
    const dir = project({});
    const u = user();
    await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages);
    const cases: Array<[string, () => ReturnType<typeof open>, string]> = [
      ['another lockfile', () => open(dir, u), 'digest-2'],
      ['a check', () => open(dir, u, { purpose: 'check' }), 'digest-1'],
      ['another surface', () => open(dir, u, { surface: 'cli' }), 'digest-1'],
      ['a PORTCULLIS_ setting', () => open(dir, u, { env: { PORTCULLIS_FETCH_TIMEOUT_MS: '5000' } }), 'digest-1'],
      ['another build', () => open(dir, u, { engine: 'next-build' }), 'digest-1'],
      ['no build named', () => open(dir, u, { engine: undefined }), 'digest-1'],
      ['another user (secret)', () => open(dir, { ...u, stateDir: user().stateDir }), 'digest-1'],
    ];
    for (const [what, gateOf, digest] of cases) {
      const l = lockfile(git('evil'));
      expect((await (await gateOf()).judgeLockfile(digest, l.packages)).remembered, what).toBe(false);
      expect(l.asked.count, what).toBe(1);
    }
    // The policy changed (another user's memo replaced this one's file above: decide and remember once more first).
    await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages);
    expect((await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages)).remembered).toBe(true);
    // Allowing evil's scripts is a new decision (no skipped script any more).
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' }, scripts: { allow: ['evil'] } }));
    const changed = await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages);
    expect(changed).toMatchObject({ remembered: false, skipped: [] });
  });

  it('an advisory source that changed decides again (a newly listed version is refused, never replayed as allowed)', async () => {
    const dir = project({ advisories: { osv: ['advisories.json'] } });
    const u = user();
    const record = (versions: string[]) =>
      JSON.stringify([{ id: 'MAL-2026-0001', modified: '2026-11-30T00:00:00Z', summary: 'Malicious code in evil', affected: [{ package: { ecosystem: 'npm', name: 'evil' }, versions }] }]);
    writeFileSync(join(dir, 'advisories.json'), record(['0.0.1']));
    expect((await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages)).exitCode).toBe(0);
    expect((await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages)).remembered).toBe(true);
    writeFileSync(join(dir, 'advisories.json'), record(['0.0.1', '1.0.0']));
    const listed = await (await open(dir, u)).judgeLockfile('digest-1', lockfile(git('evil')).packages);
    expect(listed).toMatchObject({ remembered: false, exitCode: 1 });
    expect(listed.blocking.map((f) => f.code)).toEqual(['KNOWN_MALICIOUS']);
  });

  it('a refusal is never remembered, and a remembered verdict lasts a day', async () => {
    const dir = project({});
    const u = user();
    for (let i = 0; i < 2; i++) {
      const strict = await (await open(dir, u, { strict: true })).judgeLockfile('digest-1', lockfile(git('evil')).packages);
      expect(strict).toMatchObject({ remembered: false, exitCode: 1 });
    }
    let now = Date.parse('2026-12-01T00:00:00Z');
    await (await open(dir, u, { now: () => now })).judgeLockfile('digest-1', lockfile(git('evil')).packages);
    now += 23 * 3600_000;
    expect((await (await open(dir, u, { now: () => now })).judgeLockfile('digest-1', lockfile(git('evil')).packages)).remembered).toBe(true);
    now += 2 * 3600_000;
    expect((await (await open(dir, u, { now: () => now })).judgeLockfile('digest-1', lockfile(git('evil')).packages)).remembered).toBe(false);
  });
});

describe('judgeLockfile: scripts a package manager runs despite being told not to', () => {
  const user = () => {
    const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-user-'));
    return { cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state') };
  };
  const open = (dir: string, u: ReturnType<typeof user>) => openGate({ dir, packageManager: 'npm', registryConfig: createRegistryConfig({}), env: {}, engine: 'test-build', ...u });
  const runsGit = { test: (pkg: PackageNode) => pkg.source === 'git', by: 'npm@10.9.9' };
  const skipsGit = { test: () => false, by: 'npm@11.21.2' };

  it('block when unskippable; a verdict remembered for one package manager build is never replayed for another', async () => {
    const dir = project({});
    const u = user();
    const skipped = await (await open(dir, u)).judgeLockfile('digest-1', () => [git('evil')], { scriptsUnskippable: skipsGit });
    expect(skipped).toMatchObject({ remembered: false, exitCode: 0 });
    expect((await (await open(dir, u)).judgeLockfile('digest-1', () => [git('evil')], { scriptsUnskippable: skipsGit })).remembered).toBe(true);
    // npm 10 runs the git dependency's prepare whatever --ignore-scripts says: the same lockfile is decided again, and refused.
    const refused = await (await open(dir, u)).judgeLockfile('digest-1', () => [git('evil')], { scriptsUnskippable: runsGit });
    expect(refused).toMatchObject({ remembered: false, exitCode: 1 });
    expect(refused.blocking.map((f) => `${f.code} ${f.package}`)).toEqual(['SCRIPT_NOT_ALLOWED evil']);
    expect(refused.verdict?.blocking).toEqual(refused.blocking);
  });
});

describe('judgeInstalled: a verdict on installed copies is replayed only while every file it read is untouched', () => {
  const user = () => {
    const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-user-'));
    return { cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state') };
  };
  /** Files written by the test count as settled a minute later (ctime cannot be set back to make them old). */
  const later = () => Date.now() + 60_000;
  const open = (dir: string, u: ReturnType<typeof user>, options: Partial<GateOptions> = {}) =>
    openGate({ dir, packageManager: 'npm', registryConfig: createRegistryConfig({}), env: {}, engine: 'test-build', now: later, ...u, ...options });
  /** A project with good (allowed, postinstall) and evil (not allowed, postinstall) installed under node_modules. */
  function installedProject() {
    const dir = project({ scripts: { allow: ['good'] } });
    for (const name of ['good', 'evil']) {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: { postinstall: 'node x.js' } }));
      // Whole seconds, as a tarball sets them (and as a rewrite can set them back exactly).
      utimesSync(join(dir, 'node_modules', name, 'package.json'), 1_700_000_000, 1_700_000_000);
    }
    return dir;
  }
  function copies(dir: string, paths: string[] = ['', 'node_modules/good', 'node_modules/evil']) {
    const packages = [git('good'), git('evil')];
    const asked = { count: 0 };
    return {
      asked,
      copies: {
        paths: () => paths,
        packages: () => (asked.count++, packages),
        reader: (files?: InstalledFiles) => installedManifestReader({ kind: 'npm', path: join(dir, 'package-lock.json'), packages } as Lockfile, dir, files),
      },
    };
  }
  /** Rewrites a file with other bytes of the same size and its old mtime: only ctime (and the bytes) tell. */
  function rewriteKeepingStat(file: string, text: string) {
    const before = statSync(file, { bigint: true });
    expect(Buffer.byteLength(text)).toBe(Number(before.size));
    do {
      writeFileSync(file, text);
      utimesSync(file, 1_700_000_000, 1_700_000_000);
    } while (statSync(file, { bigint: true }).ctimeNs === before.ctimeNs);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
  }

  it('the same lockfile and untouched files: the verdict and its build plan come back, nothing translated or read', async () => {
    const dir = installedProject();
    const u = user();
    const first = copies(dir);
    const decided = await (await open(dir, u)).judgeInstalled('digest-1', first.copies);
    expect(decided).toMatchObject({ remembered: false, exitCode: 0, blocking: [] });
    expect(decided.buildSteps.map((s) => s.name)).toEqual(['good']);
    expect(decided.skipped.map((f) => `${f.code} ${f.package}`)).toEqual(['SCRIPT_NOT_ALLOWED evil']);
    const again = copies(dir);
    const replayed = await (await open(dir, u)).judgeInstalled('digest-1', again.copies);
    expect(again.asked.count).toBe(0);
    expect(replayed).toMatchObject({ remembered: true, exitCode: 0, blocking: [] });
    expect(replayed.buildSteps).toEqual(decided.buildSteps);
    expect(replayed.skippedNotice).toBe(decided.skippedNotice);
  });

  it('manifest confusion after the decision: a package.json rewritten with the same size and mtime is read again', async () => {
    const dir = installedProject();
    const u = user();
    await (await open(dir, u)).judgeInstalled('digest-1', copies(dir).copies);
    const file = join(dir, 'node_modules', 'good', 'package.json');
    // good now claims to be evil's twin: another package at good's path.
    rewriteKeepingStat(file, JSON.stringify({ name: 'gooo', version: '1.0.0', scripts: { postinstall: 'node x.js' } }));
    const after = copies(dir);
    const verdict = await (await open(dir, u)).judgeInstalled('digest-1', after.copies);
    expect(after.asked.count).toBe(1);
    expect(verdict).toMatchObject({ remembered: false, exitCode: 1 });
    expect(verdict.blocking.map((f) => `${f.code} ${f.package}`)).toEqual(['INSTALLED_MISMATCH good']);
    expect(verdict.buildSteps).toEqual([]);
  });

  it('anything else decides again: another lockfile, a policy change, a binding.gyp added, a copy removed, paths that miss a copy', async () => {
    const dir = installedProject();
    const u = user();
    const remembered = async (digest = 'digest-1', options: Partial<GateOptions> = {}, paths?: string[]) => (await (await open(dir, u, options)).judgeInstalled(digest, copies(dir, paths).copies)).remembered;
    await remembered();
    expect(await remembered()).toBe(true);
    expect(await remembered('digest-2')).toBe(false);
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' }, scripts: { allow: ['good', 'evil'] } }));
    expect(await remembered()).toBe(false);
    expect(await remembered()).toBe(true);
    writeFileSync(join(dir, 'node_modules', 'evil', 'binding.gyp'), '{}');
    expect(await remembered()).toBe(false);
    expect(await remembered()).toBe(true);
    rmSync(join(dir, 'node_modules', 'evil'), { recursive: true });
    expect(await remembered()).toBe(false);
    // Paths that leave out a copy the judgement read: the stamp would not cover it.
    const partial = installedProject();
    for (let i = 0; i < 2; i++) expect((await (await open(partial, u)).judgeInstalled('digest-1', copies(partial, ['node_modules/good']).copies)).remembered).toBe(false);
    // The same with files too fresh for their stat: the bytes read up front would not cover it either.
    const freshPartial = installedProject();
    for (let i = 0; i < 2; i++) expect((await (await open(freshPartial, u, { now: Date.now })).judgeInstalled('digest-1', copies(freshPartial, ['node_modules/good']).copies)).remembered).toBe(false);
  });

  it('files written just now (as after `npm ci`): vouched for by their bytes, read once, and any changed byte decides again', async () => {
    const dir = installedProject();
    const u = user();
    // The file system's own clock: every file is too fresh for its stat to vouch for it.
    const now = { now: Date.now };
    const judge = async () => {
      const c = copies(dir);
      const verdict = await (await open(dir, u, now)).judgeInstalled('digest-1', c.copies);
      return { verdict, translated: c.asked.count > 0 };
    };
    const first = await judge();
    expect(first).toMatchObject({ translated: true, verdict: { remembered: false, exitCode: 0 } });
    expect(first.verdict.buildSteps.map((s) => s.name)).toEqual(['good']);
    const again = await judge();
    expect(again).toMatchObject({ translated: false, verdict: { remembered: true, exitCode: 0 } });
    expect(again.verdict.buildSteps).toEqual(first.verdict.buildSteps);
    expect(again.verdict.skippedNotice).toBe(first.verdict.skippedNotice);

    // Manifest confusion: another package at good's path, same size.
    const good = join(dir, 'node_modules', 'good', 'package.json');
    const original = readFileSync(good, 'utf8');
    writeFileSync(good, original.replace('"good"', '"gooo"'));
    const confused = await judge();
    expect(confused).toMatchObject({ translated: true, verdict: { remembered: false, exitCode: 1 } });
    expect(confused.verdict.blocking.map((f) => `${f.code} ${f.package}`)).toEqual(['INSTALLED_MISMATCH good']);
    writeFileSync(good, original);
    expect((await judge()).verdict.remembered).toBe(true);

    // Another install command, same length: what runs is decided again.
    writeFileSync(good, original.replace('node x.js', 'node y.js'));
    expect(await judge()).toMatchObject({ translated: true, verdict: { remembered: false } });
    expect((await judge()).verdict.remembered).toBe(true);
    // A binding.gyp appears, then changes: each decided again.
    writeFileSync(join(dir, 'node_modules', 'evil', 'binding.gyp'), '{}');
    expect((await judge()).verdict.remembered).toBe(false);
    expect((await judge()).verdict.remembered).toBe(true);
    writeFileSync(join(dir, 'node_modules', 'evil', 'binding.gyp'), '[]');
    expect((await judge()).verdict.remembered).toBe(false);
    // A copy removed: decided again.
    rmSync(join(dir, 'node_modules', 'evil'), { recursive: true });
    expect((await judge()).verdict.remembered).toBe(false);
    expect((await judge()).verdict.remembered).toBe(true);
    // A remembered stat verdict and a remembered bytes verdict never stand for each other: settled files decide once more.
    expect((await (await open(dir, u)).judgeInstalled('digest-1', copies(dir).copies)).remembered).toBe(false);
  });
});

describe('judgeLockfile: a replayed verdict carries what an install still checks', () => {
  const key = makeSigningKey();
  const registry = 'http://127.0.0.1:9/';
  const integrityOf = (what: string) => `sha512-${createHash('sha512').update(what).digest('base64')}`;
  /** A registry package whose metadata is signed (no integrity in the lockfile, as Yarn's). */
  const signedNode = (name: string): PackageNode => ({ id: `${name}@1.0.0`, name, version: '1.0.0', source: 'registry', registry, resolved: `${registry}${name}/-/${name}-1.0.0.tgz`, integrityCheckedOnDownload: true, aliases: [], paths: [], dependents: ['.'] });
  const fetch = (async (url: string | URL | Request) => {
    const name = decodeURIComponent(String(url).slice(registry.length));
    const integrity = integrityOf(name);
    const body = { name, versions: { '1.0.0': { name, version: '1.0.0', dist: { integrity, signatures: [{ keyid: key.record.keyid, sig: key.sign(`${name}@1.0.0:${integrity}`) }] } } } };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/vnd.npm.install-v1+json' } });
  }) as typeof globalThis.fetch;
  const own = (name: string): PackageNode => ({ id: `${name}@1.0.0`, name, version: '1.0.0', source: 'directory', resolved: `packages/${name}`, insideProject: true, hasInstallScript: true, aliases: [], paths: [], dependents: ['.'] });

  function setUp() {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ registries: { [registry]: { keys: [key.record] } }, scripts: { allow: ['allowed-lib'] } }));
    const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-user-'));
    const u = { cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state') };
    const open = () => openGate({ dir, packageManager: 'yarn', registryConfig: createRegistryConfig({ defaultRegistry: registry }), env: {}, engine: 'test-build', fetch, ...u });
    return { open, cacheDir: u.cacheDir };
  }
  const packages = () => [signedNode('left-pad'), signedNode('allowed-lib'), own('my-tool'), own('shared')];
  // `shared@1.0.0` twice: the user's own copy and a registry copy the policy does not allow (copies disagree).
  const lockfile = () => [...packages(), { ...signedNode('shared') }];
  const candidates = ['left-pad', 'allowed-lib', 'my-tool', 'shared', 'not-judged', 'allowed-lib@2.0.0'].flatMap((spec) => {
    const [name, version = '1.0.0'] = spec.split('@') as [string, string?];
    return [{ name, version }, { name, version, source: 'registry' as const }, { name, version, source: 'directory' as const, insideProject: true }];
  });

  it('answers every build question as the verdict did, and keeps the signed integrities', async () => {
    const { open } = setUp();
    const decided = await (await open()).judgeLockfile('digest-1', lockfile);
    expect(decided).toMatchObject({ remembered: false, exitCode: 0 });
    expect(decided.signed.map((p) => `${p.name} ${p.integrity}`).sort()).toEqual(['allowed-lib', 'left-pad', 'shared'].map((n) => `${n} ${integrityOf(n)}`));
    expect(decided.signed.find((p) => p.name === 'left-pad')?.resolved).toBe(`${registry}left-pad/-/left-pad-1.0.0.tgz`);
    // the user's own my-tool builds though no entry allows it; shared does not (its registry copy is not allowed)
    expect(decided.mayBuild({ name: 'my-tool', version: '1.0.0' })).toBe(true);
    expect(decided.mayBuild({ name: 'shared', version: '1.0.0' })).toBe(false);

    const replayed = await (await open()).judgeLockfile('digest-1', () => {
      throw new Error('translated again');
    });
    expect(replayed.remembered).toBe(true);
    expect(candidates.map((c) => [c, replayed.mayBuild(c)])).toEqual(candidates.map((c) => [c, decided.mayBuild(c)]));
    expect(replayed.signed).toEqual(decided.signed);
  });

  it('the release line waits for the whole graph only in a partial judgement that says one follows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ registries: { [registry]: { keys: [key.record] } } }));
    const asked: string[] = [];
    const counting = (async (url: string | URL | Request) => (asked.push(String(url)), fetch(url))) as typeof globalThis.fetch;
    const judgeWith = async (inputs: { partial?: boolean; wholeGraphFollows?: boolean }) => {
      asked.length = 0;
      const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-user-'));
      const gate = await openGate({ dir, packageManager: 'pnpm', registryConfig: createRegistryConfig({ defaultRegistry: registry }), env: {}, cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state'), fetch: counting });
      const pkg = { ...signedNode('left-pad'), integrity: integrityOf('left-pad') };
      // The version's signed document comes with the manifest (as pnpm 10 hands it over): only the line would need a fetch.
      const supplied = { name: 'left-pad', version: '1.0.0', hasInstallScript: false, dist: { integrity: integrityOf('left-pad'), signatures: [{ keyid: key.record.keyid, sig: key.sign(`left-pad@1.0.0:${integrityOf('left-pad')}`) }] } };
      const verdict = await gate.judge([pkg], { ...inputs, supplied: () => supplied });
      expect(verdict.findings.map((f) => `${f.code} ${f.message}`)).toEqual([]);
      return asked.filter((url) => url.endsWith('/left-pad'));
    };
    expect(await judgeWith({ partial: true, wholeGraphFollows: true })).toEqual([]);
    expect(await judgeWith({ wholeGraphFollows: true })).toEqual([`${registry}left-pad`]);
    expect(await judgeWith({ partial: true })).toEqual([`${registry}left-pad`]);
  });

  it('a prefetch asks for the document the decision reads: the full one under a cooldown, one request per package', async () => {
    const asked: string[] = [];
    const documents = (async (url: string | URL | Request, init?: RequestInit) => {
      const name = decodeURIComponent(String(url).slice(registry.length));
      const full = (init?.headers as Record<string, string> | undefined)?.accept === 'application/json';
      asked.push(`${name} ${full ? 'full' : 'abbreviated'}`);
      const integrity = integrityOf(name);
      const version = { name, version: '1.0.0', dist: { integrity, signatures: [{ keyid: key.record.keyid, sig: key.sign(`${name}@1.0.0:${integrity}`) }] } };
      const body = full ? { name, 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { ...version, scripts: {} } }, time: { '1.0.0': '2020-01-01T00:00:00.000Z' } } : { name, versions: { '1.0.0': { ...version, hasInstallScript: false } } };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': full ? 'application/json' : 'application/vnd.npm.install-v1+json' } });
    }) as typeof globalThis.fetch;
    const judged = async (cooldown: object | undefined) => {
      asked.length = 0;
      const dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-'));
      writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ registries: { [registry]: { keys: [key.record] } }, ...(cooldown ? { cooldown } : {}) }));
      const isolated = mkdtempSync(join(tmpdir(), 'portcullis-gate-user-'));
      const gate = await openGate({ dir, packageManager: 'yarn', registryConfig: createRegistryConfig({ defaultRegistry: registry }), env: {}, cacheDir: join(isolated, 'cache'), stateDir: join(isolated, 'state'), fetch: documents });
      for (const name of ['left-pad', 'right-pad']) gate.prefetch(name);
      const verdict = await gate.judge([signedNode('left-pad'), signedNode('right-pad')]);
      expect(verdict.findings.map((f) => `${f.code} ${f.message}`)).toEqual([]);
      return asked.sort();
    };
    expect(await judged({ minimumReleaseAge: '3d' })).toEqual(['left-pad full', 'right-pad full']);
    // An exclude covering every version of a name: that one needs no publish time, and is prefetched abbreviated.
    expect(await judged({ minimumReleaseAge: '3d', exclude: ['right-pad'] })).toEqual(['left-pad full', 'right-pad abbreviated']);
    expect(await judged(undefined)).toEqual(['left-pad abbreviated', 'right-pad abbreviated']);
  });

  it('a remembered integrity edited in the cache vouches for nothing: decided again', async () => {
    const { open, cacheDir } = setUp();
    await (await open()).judgeLockfile('digest-1', lockfile);
    const folder = join(cacheDir, 'signed-lists-v1');
    const file = join(folder, readdirSync(folder)[0]!);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(integrityOf('left-pad'));
    writeFileSync(file, text.replace(integrityOf('left-pad'), integrityOf('evil')));
    const again = await (await open()).judgeLockfile('digest-1', lockfile);
    expect(again.remembered).toBe(false);
    expect(again.signed.find((p) => p.name === 'left-pad')?.integrity).toBe(integrityOf('left-pad'));
  });

  it('the signed packages of verdicts over the same lockfile are kept once; a verdict whose list is gone is decided again', async () => {
    const { open, cacheDir } = setUp();
    const g = await open();
    await g.judgeLockfile('digest-1', lockfile);
    await g.judgeLockfile('digest-2', lockfile);
    const verdicts = readFileSync(join(cacheDir, 'decisions-v3', readdirSync(join(cacheDir, 'decisions-v3'))[0]!), 'utf8');
    const lists = readFileSync(join(cacheDir, 'signed-lists-v1', readdirSync(join(cacheDir, 'signed-lists-v1'))[0]!), 'utf8');
    // Two verdicts, one list: the integrities are written once, and not beside the verdicts.
    expect((JSON.parse(verdicts) as { entries: unknown[] }).entries).toHaveLength(2);
    expect((JSON.parse(lists) as { entries: unknown[] }).entries).toHaveLength(1);
    expect(verdicts).not.toContain(integrityOf('left-pad'));
    expect(lists.split(integrityOf('left-pad')).length - 1).toBe(1);
    const replayed = await (await open()).judgeLockfile('digest-2', () => {
      throw new Error('translated again');
    });
    expect(replayed.remembered).toBe(true);
    expect(replayed.signed.find((p) => p.name === 'left-pad')?.integrity).toBe(integrityOf('left-pad'));
    rmSync(join(cacheDir, 'signed-lists-v1'), { recursive: true });
    expect((await (await open()).judgeLockfile('digest-2', lockfile)).remembered).toBe(false);
  });

});

describe('the local files a gate was decided from (Gate.localInputs)', () => {
  it('every path the policy lookup looked at, from where the command started and from the project, and the trusted root it names', async () => {
    const dir = project({ scripts: { allow: ['native-addon@1.0.0'] } });
    mkdirSync(join(dir, 'sub'));
    expect((await gate(dir)).localInputs()).toEqual({ files: [join(dir, 'portcullis.json')], advisories: null });
    expect((await gate(dir, { start: join(dir, 'sub') })).localInputs()?.files).toEqual([join(dir, 'sub', 'portcullis.json'), join(dir, 'portcullis.json')]);
    writeFileSync(join(dir, 'root.json'), '{}');
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' }, provenance: { trustedRoot: 'root.json' } }));
    expect((await gate(dir)).localInputs()?.files).toEqual([join(dir, 'portcullis.json'), join(dir, 'root.json')]);
    // PORTCULLIS_POLICY: that file alone (and the root it names).
    expect((await gate(join(dir, 'sub'), { env: { PORTCULLIS_POLICY: join(dir, 'portcullis.json') } })).localInputs()?.files).toEqual([join(dir, 'portcullis.json'), join(dir, 'root.json')]);
  });

  it('with no portcullis.json: every folder up to the filesystem root, where one appearing would be the policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-none-'));
    const files = (await gate(dir)).localInputs()!.files;
    expect(files[0]).toBe(join(dir, 'portcullis.json'));
    expect(files.at(-1)).toBe('/portcullis.json');
  });

  it('advisory sources by the key of their state the gate used (taken once); none for refreshed keys', async () => {
    const dir = project({});
    writeFileSync(join(dir, 'osv.json'), '[]');
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' }, advisories: { osv: ['osv.json'] } }));
    const g = await gate(dir);
    const first = g.localInputs()!.advisories!;
    expect(first.sources).toEqual([join(dir, 'osv.json')]);
    expect(first.key).toMatch(/^[0-9a-f]{64}$/);
    // The key the gate took stays its key; a new gate sees the file's new state.
    utimesSync(join(dir, 'osv.json'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    expect(g.localInputs()!.advisories!.key).toBe(first.key);
    expect((await gate(dir)).localInputs()!.advisories!.key).not.toBe(first.key);
    expect((await gate(dir, { refreshKeys: true })).localInputs()).toBeUndefined();
  });
});
