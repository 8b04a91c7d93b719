/**
 * Provenance (issue 15) end to end: Sigstore bundles made by the test registry's test Sigstore (a test Fulcio CA,
 * transparency log and CT log in a test trusted root), verified by Portcullis through every real client — pnpm
 * 10/11/12, Yarn 4.0/4.18, npm 10/11/12 through portcullis-npm — on a fresh resolution and on a frozen install, and
 * through `portcullis check`. Fixtures (`provenanceSet`): acme-widget 1.0.0/1.1.0 built by github.com/acme/widget,
 * 1.2.0 without provenance (a downgrade), 1.3.0 built by github.com/evil/widget; lines 0.9 and 2 never had any.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, cleanPackage, provenanceSet, staleTrustedRoot, startRegistry, testTrustedRoot, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDrivers, freshCheckout, output, projectFiles, ran, type Driver } from '../src/corpus/drivers.js';
import { createProject, install, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { npm, pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      ...provenanceSet,
      // Validly signed lies the verifier itself accepts: only Portcullis' own checks catch them.
      withPostinstall('forged-widget', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0', { tamper: 'statement-repository' }) }),
      withPostinstall('other-bytes-widget', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0', { tamper: 'digest' }) }),
      // A real package's release history: hundreds of nightlies, of its line and of another major, so that pnpm 12's
      // file of its documents is larger than the 64 KB Portcullis reads of it first (its index), and the release line's
      // documents are read in part. 1.0.0 has provenance; 1.2.0, after it in line 1, has none (a downgrade).
      cleanPackage('acme-gadget', '1.0.0', { provenance: acmeWidgetProvenance('1.0.0') }),
      ...Array.from({ length: 200 }, (_, i) => cleanPackage('acme-gadget', `1.1.0-nightly.${i}`)),
      ...Array.from({ length: 200 }, (_, i) => cleanPackage('acme-gadget', `3.0.0-nightly.${i}`)),
      cleanPackage('acme-gadget', '1.2.0', { tags: ['latest'] }),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\nprovenance results:\n${results.join('\n')}\n`);
});

const PIN = { repository: 'github.com/acme/widget', workflow: '.github/workflows/release.yml' };
const CODES = /PROVENANCE_[A-Z]+|PUBLISHER_MISMATCH|TRUST_ROOT_STALE|METADATA_UNAVAILABLE|BAD_SIGNATURE/g;
/** The paths of the requests served since `from`; a packument's marked "(install)" or "(full)" by the document its Accept header asks for. */
const requestsSince = (from: number): string[] =>
  registry.requests.slice(from).map((r, i) => (r.path.includes('/-/') ? r.path : `${r.path} (${registry.accepts[from + i]!.includes('application/vnd.npm.install-v1+json') ? 'install' : 'full'})`));
const codesIn = (r: RunResult) => [...new Set(output(r).match(CODES) ?? [])].sort();

/** A policy trusting the test registry's keys and the test Sigstore (or a stale root), plus `provenance` settings. */
function policyWith(provenance: object, root: 'test' | 'stale' = 'test'): object {
  // The builds are allowed: what a refusal stops must be provenance alone, and a passing install runs its postinstall.
  return {
    scripts: { allow: ['acme-widget', '@acme/widget', 'forged-widget', 'other-bytes-widget'] },
    registries: { [registry.url]: { keys: registry.keys.keys } },
    provenance: { trustedRoot: `./sigstore-${root}-root.json`, ...provenance },
  };
}

function writeRoots(project: Project): void {
  writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
  writeFileSync(join(project.dir, 'sigstore-stale-root.json'), JSON.stringify(staleTrustedRoot()));
}

function writePolicy(project: Project, policy: object): void {
  writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy, null, 2)}\n`);
}

/** The refusals every client must make, each from a policy and a pinned dependency. */
const REFUSALS: Array<{ label: string; dependency: Record<string, string>; provenance: object; root?: 'stale'; code: string; also?: string; exit: number }> = [
  // Built by another repository: against the pin, and a downgrade of its release line too.
  { label: 'pinned publisher, another repository', dependency: { 'acme-widget': '1.3.0' }, provenance: { publishers: { 'acme-widget': PIN } }, code: 'PUBLISHER_MISMATCH', also: 'PROVENANCE_DOWNGRADE', exit: 1 },
  { label: 'same line without provenance after provenanced versions', dependency: { 'acme-widget': '1.2.0' }, provenance: {}, code: 'PROVENANCE_DOWNGRADE', exit: 1 },
  { label: 'required, none served', dependency: { 'acme-widget': '2.0.0' }, provenance: { require: ['acme-widget'] }, code: 'PROVENANCE_MISSING', exit: 1 },
  { label: 'statement names another repository than the certificate', dependency: { 'forged-widget': '1.0.0' }, provenance: { require: ['forged-widget'] }, code: 'PROVENANCE_INVALID', exit: 1 },
  { label: 'stale trusted root', dependency: { 'acme-widget': '1.1.0' }, provenance: { require: ['acme-widget'] }, root: 'stale', code: 'TRUST_ROOT_STALE', exit: 1 },
];

describe('portcullis check', () => {
  let project: Project;
  const checkWith = async (dependencies: Record<string, string>, provenance: object, root: 'test' | 'stale' = 'test') => {
    project = createProject('npm', registry.url, dependencies, { policy: policyWith(provenance, root) });
    writeRoots(project);
    const installed = await install(npm(11), 'npm', project, ['--ignore-scripts']);
    expect(installed.code, output(installed)).toBe(0);
    const check = await portcullis(project, ['check', '--format', 'json']);
    return { check, findings: (JSON.parse(check.stdout || '{"findings":[]}') as { findings: Array<{ package: string; version: string; code: string; rule: string; message: string; fix: string }> }).findings };
  };

  it('the pinned publisher, a scoped package and an old line that never had provenance pass', async () => {
    const { check, findings } = await checkWith({ 'acme-widget': '1.1.0', '@acme/widget': '1.0.0' }, { publishers: { 'acme-widget': PIN, '@acme/*': PIN } });
    expect(findings, output(check)).toEqual([]);
    expect(check.code).toBe(0);
    const old = await checkWith({ 'acme-widget': '0.9.1' }, {});
    expect(old.findings, output(old.check)).toEqual([]);
  });

  it.each([12, 10] as const)('a pnpm %i tree: the downgrade is found from the release line pnpm kept in its cache, without fetching the packument; with that cache gone, fetched', async (major) => {
    // Installed by pnpm while the policy did not ask; then the default policy (noDowngrade on) checks the tree.
    project = createProject('pnpm', registry.url, { 'acme-widget': '1.2.0' }, { policy: policyWith({ noDowngrade: false }) });
    writeRoots(project);
    const cacheDir = join(project.home, 'pnpm-cache');
    const pnpmOf = pnpm(major);
    const installed = await run(pnpmOf.command, [...pnpmOf.args, 'install', '--ignore-scripts', `--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${cacheDir}`], { cwd: project.dir, env: project.env });
    expect(installed.code, output(installed)).toBe(0);
    writePolicy(project, policyWith({}));
    const checkNow = async () => {
      const from = registry.requests.length;
      const check = await portcullis(project, ['check', '--format', 'json'], { pnpm_config_cache_dir: cacheDir });
      const findings = (JSON.parse(check.stdout || '{"findings":[]}') as { findings: Array<{ package: string; version: string; code: string }> }).findings;
      return { check, findings, asked: requestsSince(from) };
    };
    const kept = await checkNow();
    expect(kept.findings.map((f) => [f.package, f.version, f.code]), output(kept.check)).toEqual([['acme-widget', '1.2.0', 'PROVENANCE_DOWNGRADE']]);
    expect(kept.check.code).toBe(1);
    // The bundles are fetched and verified; the line is read from pnpm's cache (pnpm 12 in v12/metadata, pnpm 10 in
    // metadata-v1.3): no install document is fetched, only the full one, once, for the publish times of the move found
    // (a release published after 1.2.0 would not be its past: round 46).
    expect(kept.asked.filter((path) => !path.includes('/-/npm/v1/attestations/'))).toEqual(['/acme-widget (full)']);
    expect(kept.asked.length).toBeGreaterThan(1);

    // Without pnpm's cache (and with Portcullis' own emptied): the same finding, from a fetched packument.
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(join(project.home, 'portcullis-cache'), { recursive: true, force: true });
    const fetched = await checkNow();
    expect(fetched.findings.map((f) => [f.package, f.version, f.code]), output(fetched.check)).toEqual([['acme-widget', '1.2.0', 'PROVENANCE_DOWNGRADE']]);
    expect(fetched.asked).toContain('/acme-widget (install)');
  });

  /** acme-widget or acme-gadget 1.2.0, installed by pnpm 12 while the policy did not ask; then a fresh runner (docs/ci.md) with noDowngrade on. */
  async function freshRunnerDowngrade(name: string): Promise<void> {
    project = createProject('pnpm', registry.url, { [name]: '1.2.0' }, { policy: policyWith({ noDowngrade: false }) });
    writeRoots(project);
    const init = await portcullis(project, ['init', 'pnpm']);
    expect(init.code, output(init)).toBe(0);
    const pnpm12 = pnpm(12);
    const own = [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
    const first = await run(pnpm12.command, [...pnpm12.args, 'install', '--no-frozen-lockfile', ...own], { cwd: project.dir, env: project.env });
    expect(first.code, output(first)).toBe(0);
    writePolicy(project, policyWith({}));
    // A fresh runner (docs/ci.md): pnpm's store and cache restored; Portcullis' cache and state directory new.
    for (const gone of [join(project.dir, 'node_modules'), join(project.home, 'portcullis-cache'), join(project.home, '.local', 'state')]) rmSync(gone, { recursive: true, force: true });
    freshCheckout(project);
    const from = registry.requests.length;
    const frozen = await run(pnpm12.command, [...pnpm12.args, 'install', '--frozen-lockfile', ...own], { cwd: project.dir, env: project.env });
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(codesIn(frozen)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(output(frozen)).toContain(`${name}@1.2.0`);
    expect(ran(project)).toEqual([]);
    // The bundles are fetched and verified; the line is read from pnpm's cache (v12/metadata): no install document is
    // fetched, only the full one, once, for the publish times of the move found (round 46).
    const asked = requestsSince(from);
    expect(asked.filter((path) => !path.includes('/-/npm/v1/attestations/'))).toEqual([`/${name} (full)`]);
    expect(asked.length).toBeGreaterThan(1);
  }

  it('pnpm 12 on a fresh CI runner: updateConfig finds the downgrade from the release line pnpm kept, without fetching the packument', async () => {
    await freshRunnerDowngrade('acme-widget');
  });

  it('pnpm 12 on a fresh CI runner, a package with hundreds of versions: the same, from the part of its file that holds the release line', async () => {
    await freshRunnerDowngrade('acme-gadget');
    // pnpm's file of acme-gadget's documents is larger than what Portcullis reads of it first.
    const folder = `http%3A+${new URL(registry.url).host.replace(':', '+')}`;
    expect(statSync(join(project.home, 'pnpm-cache', 'v12', 'metadata', folder, 'acme-gadget.jsonl')).size).toBeGreaterThan(64 * 1024);
  });

  it("a cache inside the checkout is never read: a crafted one hiding the earlier provenance does not hide the downgrade", async () => {
    // A pnpm 10 tree; the repository then carries a cache folder of its own (pnpm 10's layout) whose packument drops
    // every attestation claim, and pnpm-workspace.yaml points pnpm's cacheDir at it.
    project = createProject('pnpm', registry.url, { 'acme-widget': '1.2.0' }, { policy: policyWith({ noDowngrade: false }) });
    writeRoots(project);
    const pnpm10 = pnpm(10);
    const kept = join(project.home, 'pnpm-cache');
    const installed = await run(pnpm10.command, [...pnpm10.args, 'install', '--ignore-scripts', `--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${kept}`], { cwd: project.dir, env: project.env });
    expect(installed.code, output(installed)).toBe(0);
    const host = new URL(registry.url).host.replace(':', '+');
    const real = JSON.parse(readFileSync(join(kept, 'metadata-v1.3', host, 'acme-widget.json'), 'utf8')) as { versions: Record<string, { dist: Record<string, unknown> }> };
    expect(Object.values(real.versions).some((v) => v.dist.attestations !== undefined)).toBe(true);
    for (const v of Object.values(real.versions)) delete v.dist.attestations;
    mkdirSync(join(project.dir, '.pnpm-cache', 'metadata-v1.3', host), { recursive: true });
    writeFileSync(join(project.dir, '.pnpm-cache', 'metadata-v1.3', host, 'acme-widget.json'), JSON.stringify(real));
    writeFileSync(join(project.dir, 'pnpm-workspace.yaml'), 'cacheDir: .pnpm-cache\n');
    rmSync(kept, { recursive: true, force: true });
    writePolicy(project, policyWith({}));
    const from = registry.requests.length;
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout || '{"findings":[]}') as { findings: Array<{ package: string; version: string; code: string }> }).findings;
    expect(findings.map((f) => [f.package, f.version, f.code]), output(check)).toEqual([['acme-widget', '1.2.0', 'PROVENANCE_DOWNGRADE']]);
    // The release line came from the registry, not from the folder in the checkout.
    expect(registry.requests.slice(from).map((r) => r.path)).toContain('/acme-widget');
  });

  it.each(REFUSALS)('$label → $code', async ({ dependency, provenance, root, code, also, exit }) => {
    const { check, findings } = await checkWith(dependency, provenance, root ?? 'test');
    results.push(`check | ${code} | exit ${check.code}`);
    expect(findings.map((f) => [f.code, f.rule]).sort(), output(check)).toEqual([[code, 'provenance'], ...(also ? [[also, 'provenance']] : [])].sort());
    expect(check.code).toBe(exit);
    expect(findings[0]!.message).toContain(Object.keys(dependency)[0]);
  });

  it('bytes the bundle does not name (another digest) are PROVENANCE_INVALID', async () => {
    const { findings } = await checkWith({ 'other-bytes-widget': '1.0.0' }, { require: ['other-bytes-widget'] });
    expect(findings.map((f) => f.code)).toEqual(['PROVENANCE_INVALID']);
    expect(findings[0]!.message).toMatch(/sha512|digest/);
  });

  it('the attestations endpoint down is exit 3, never allowed', async () => {
    registry.setFault(/^\/-\/npm\/v1\/attestations\//, { kind: 'status', status: 500 });
    try {
      const { check, findings } = await checkWith({ 'acme-widget': '1.1.0' }, { require: ['acme-widget'] });
      expect(findings.map((f) => f.code), output(check)).toEqual(['METADATA_UNAVAILABLE']);
      expect(check.code).toBe(3);
    } finally {
      registry.clearFaults();
    }
  });

  it('a mirror that strips attestations is said once, plainly; required provenance then fails closed', async () => {
    const mirror = await startRegistry({ packages: provenanceSet, stripAttestations: true });
    try {
      const stripped = createProject('npm', mirror.url, { 'acme-widget': '1.1.0', '@acme/widget': '1.0.0' }, { policy: { scripts: { allow: ['acme-widget', '@acme/widget'] }, registries: { [mirror.url]: { keys: mirror.keys.keys } }, provenance: { trustedRoot: './sigstore-test-root.json', require: ['acme-widget', '@acme/*'] } } });
      writeRoots(stripped);
      expect((await install(npm(11), 'npm', stripped, ['--ignore-scripts'])).code).toBe(0);
      const check = await portcullis(stripped, ['check', '--format', 'json']);
      const report = JSON.parse(check.stdout) as { findings: Array<{ code: string }>; notices: string[] };
      expect(report.findings.map((f) => f.code)).toEqual(['PROVENANCE_MISSING', 'PROVENANCE_MISSING']);
      expect(report.notices.join('\n')).toContain(`${mirror.url} served no provenance attestations for any of the 2 versions`);
      expect(check.code).toBe(1);
    } finally {
      await mirror.close();
    }
  });

  it('approve --publisher pins repository, workflow and the immutable ids from the verified provenance', async () => {
    const { check } = await checkWith({ 'acme-widget': '1.1.0' }, {});
    expect(check.code).toBe(0);
    const approve = await portcullis(project, ['approve', '--publisher', 'acme-widget']);
    expect(approve.code, output(approve)).toBe(0);
    const policy = JSON.parse((await import('node:fs')).readFileSync(join(project.dir, 'portcullis.json'), 'utf8')) as { provenance: { publishers: Record<string, unknown> } };
    expect(policy.provenance.publishers['acme-widget']).toEqual({ ...PIN, repositoryId: '123', ownerId: '456' });
    const again = await portcullis(project, ['check']);
    expect(again.code, output(again)).toBe(0);
  });
});

describe.each(allDrivers().map((d) => [d.label, d] as const))('%s', (_label, driver: Driver) => {
  const setUp = async (dependencies: Record<string, string>, provenance: object, root: 'test' | 'stale' = 'test') => {
    const project = await driver.project(registry.url, dependencies, policyWith(provenance, root));
    writeRoots(project);
    return project;
  };

  it('the pinned publisher and an old line without provenance install (fresh and frozen); nothing else is refused', async () => {
    const project = await setUp({ 'acme-widget': '1.1.0', '@acme/widget': '1.0.0' }, { publishers: { 'acme-widget': PIN } });
    const fresh = await driver.install(project);
    results.push(`${driver.label} | pinned publisher, fresh | exit ${fresh.code} | ${codesIn(fresh).join(' ') || '-'}`);
    expect(fresh.code, output(fresh)).toBe(0);
    freshCheckout(project);
    driver.coldCache(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).toBe(0);
    if (driver.pm === 'yarn') {
      // Yarn's own command pins the scoped package's publisher from its verified provenance.
      const approve = await driver.plain(project, ['portcullis', 'approve', '--publisher', '@acme/widget']);
      expect(approve.code, output(approve)).toBe(0);
      const policy = JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')) as { provenance: { publishers: Record<string, unknown> } };
      expect(policy.provenance.publishers['@acme/widget']).toEqual({ ...PIN, repositoryId: '123', ownerId: '456' });
    }
  });

  it.each(REFUSALS)('fresh resolution: $label → $code, nothing installed or run', async ({ dependency, provenance, root, code }) => {
    const project = await setUp(dependency, provenance, root ?? 'test');
    const files = projectFiles(project, driver.lockfile);
    const r = await driver.install(project);
    results.push(`${driver.label} | ${code} fresh | exit ${r.code} | ${codesIn(r).join(' ') || '-'} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(r.code, output(r)).not.toBe(0);
    expect(codesIn(r)).toContain(code);
    expect(ran(project)).toEqual([]);
    // npm restores what it would have written; pnpm and Yarn stop before writing the lockfile.
    expect(projectFiles(project, driver.lockfile)['package.json']).toBe(files['package.json']);
  });

  it('frozen install of a lockfile that installed before: a downgrade and another publisher are refused before anything runs', async () => {
    // Installed while the policy did not ask; then the policy asks, and the lockfile is installed again from scratch.
    const project = await setUp({ 'acme-widget': '1.2.0' }, { noDowngrade: false });
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    writePolicy(project, policyWith({}));
    freshCheckout(project);
    driver.coldCache(project);
    const frozen = await driver.frozen(project);
    results.push(`${driver.label} | PROVENANCE_DOWNGRADE frozen | exit ${frozen.code} | ${codesIn(frozen).join(' ') || '-'}`);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(codesIn(frozen)).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);

    const other = await setUp({ 'acme-widget': '1.3.0' }, { noDowngrade: false });
    expect((await driver.install(other)).code).toBe(0);
    writePolicy(other, policyWith({ noDowngrade: false, publishers: { 'acme-widget': PIN } }));
    freshCheckout(other);
    const pinned = await driver.frozen(other);
    expect(pinned.code, output(pinned)).not.toBe(0);
    expect(codesIn(pinned)).toContain('PUBLISHER_MISMATCH');
  });

  it('`add` of a downgrade is refused: nothing installed or run, package.json unchanged where the client restores it', async () => {
    const project = await setUp({ 'acme-widget': '1.1.0' }, {});
    expect((await driver.install(project)).code).toBe(0);
    freshCheckout(project);
    // npm through the wrapper; pnpm and Yarn as typed (their hook and plugin are in the project).
    const add = driver.pm === 'npm' ? await portcullisNpm(driver.tool, project, ['install', 'acme-widget@1.2.0']) : await driver.plain(project, ['add', 'acme-widget@1.2.0']);
    results.push(`${driver.label} | add acme-widget@1.2.0 | exit ${add.code} | ${codesIn(add).join(' ') || '-'} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(add.code, output(add)).not.toBe(0);
    expect(codesIn(add)).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
  });

  it('the attestations endpoint down while provenance is required: the install stops, exit 3 where the client passes it on', async () => {
    const project = await setUp({ 'acme-widget': '1.1.0' }, { require: ['acme-widget'] });
    registry.setFault(/^\/-\/npm\/v1\/attestations\//, { kind: 'status', status: 500 });
    try {
      const r = await driver.install(project);
      results.push(`${driver.label} | attestations endpoint down | exit ${r.code} | ${codesIn(r).join(' ') || '-'}`);
      expect(r.code, output(r)).not.toBe(0);
      expect(codesIn(r)).toContain('METADATA_UNAVAILABLE');
      if (driver.pm === 'npm') expect(r.code).toBe(3);
      expect(ran(project)).toEqual([]);
    } finally {
      registry.clearFaults();
    }
  });
});
