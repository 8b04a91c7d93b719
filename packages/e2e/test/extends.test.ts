/**
 * Policy inheritance (issue 19) end to end: a project whose portcullis.json `extends` an organisation policy package
 * on its registry gets the organisation's requirements (here a 3-day cooldown, against a version 2 days old: past Yarn
 * 4.18's own one-day default, so only the organisation's cooldown refuses it) through pnpm 12, Yarn 4.18, npm
 * (portcullis-npm) and `portcullis check`; a repository policy that loosens them is refused (exit 2) naming both
 * files; a changed organisation policy package (not the pinned integrity) is refused; a frozen install with the
 * organisation's package unreachable uses the policy cached by integrity.
 */
import { join } from 'node:path';
import { organisationPolicyPackage, startRegistry, withPostinstall, cleanPackage, type FixtureSpec, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, ran, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { createProject, install, portcullis } from '../src/project.js';
import { npm } from '../src/toolbox.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ORG = '@acme/portcullis-policy';
let registry: TestRegistry;
let orgSpec: FixtureSpec;
const results: string[] = [];

beforeAll(async () => {
  const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
  registry = await startRegistry({
    packages: [cleanPackage('old-lib', '1.0.0', { publishedAt: ago(30 * DAY) }), withPostinstall('fresh-lib', '1.0.0', { publishedAt: ago(2 * DAY) })],
  });
  // The organisation's policy: its registry's keys, a 3-day cooldown, and build approvals delegated to repositories.
  orgSpec = organisationPolicyPackage(ORG, '1.0.0', {
    registries: { [registry.url]: { keys: registry.keys.keys } },
    cooldown: { minimumReleaseAge: '3d' },
    delegate: { 'scripts.allow': true },
  }, { publishedAt: ago(30 * DAY) });
  registry.add(orgSpec);
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\nextends results:\n${results.join('\n')}\n`);
});

const pin = () => ({ package: ORG, version: '1.0.0', integrity: registry.integrity(ORG, '1.0.0') });
const extending = (more: object = {}) => ({ extends: pin(), scripts: { allow: ['fresh-lib'] }, ...more });
const codes = (text: string) => [...new Set(text.match(/RELEASE_TOO_NEW|POLICY_LOOSENED|ORGANISATION_POLICY_REFUSED|METADATA_UNAVAILABLE|ERR_PNPM_[A-Z_]+|YN0\d{3}/g) ?? [])].sort().join(' ') || '-';

describe('portcullis check', () => {
  it('the organisation’s cooldown applies to a project that only extends it; explain names the file each line came from', async () => {
    const project = createProject('npm', registry.url, { 'old-lib': '1.0.0', 'fresh-lib': '1.0.0' }, { policy: extending() });
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ package: string; code: string; message: string }> }).findings;
    expect(findings.map((f) => [f.package, f.code]), output(check)).toEqual([['fresh-lib', 'RELEASE_TOO_NEW']]);
    expect(findings[0]!.message).toMatch(/^fresh-lib@1\.0\.0 was published 2 days .*cooldown\.minimumReleaseAge is 3d/);
    expect(check.code).toBe(1);

    const explain = await portcullis(project, ['explain', 'fresh-lib']);
    const repoFile = join(project.dir, 'portcullis.json');
    expect(explain.stdout).toContain(`policy: ${repoFile} (extends ${ORG}@1.0.0/portcullis.json)`);
    expect(explain.stdout).toContain(`decided by: scripts.allow: fresh-lib (${repoFile}:`);
    expect(explain.stdout).toContain(`decided by: cooldown.minimumReleaseAge: "3d" (${ORG}@1.0.0/portcullis.json)`);
    expect(explain.stdout).toContain(`.keys: [2 key(s)] (${ORG}@1.0.0/portcullis.json)`);
  });

  it('a repository policy that loosens an inherited requirement is refused with exit 2, naming both files and the key', async () => {
    const project = createProject('npm', registry.url, { 'old-lib': '1.0.0' }, { policy: extending({ cooldown: { minimumReleaseAge: '1h' } }) });
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const check = await portcullis(project, ['check']);
    expect(check.code, output(check)).toBe(2);
    expect(check.stderr).toContain(join(project.dir, 'portcullis.json'));
    expect(check.stderr).toContain(`${ORG}@1.0.0/portcullis.json`);
    expect(check.stderr).toContain('"cooldown.minimumReleaseAge" is 1h where the organisation requires at least 3d');
  });

  it('a changed organisation policy package (not the pinned integrity) is refused with exit 2, naming both integrities', async () => {
    const project = createProject('npm', registry.url, { 'old-lib': '1.0.0' }, { policy: extending() });
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const pinned = registry.integrity(ORG, '1.0.0');
    registry.swapTarball(ORG, '1.0.0', { 'portcullis.json': JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } }, delegate: { 'scripts.allow': true, 'cooldown.exclude': true } }) });
    try {
      const check = await portcullis(project, ['check']);
      expect(check.code, output(check)).toBe(2);
      expect(check.stderr).toContain('is not the pinned package');
      expect(check.stderr).toContain(pinned);
      expect(check.stderr).toMatch(/its tarball's integrity is sha512-/);
    } finally {
      registry.add(orgSpec);
    }
  });
});

const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
describe.each(drivers.map((d) => [d.label, d] as const))('%s', (_label, driver: Driver) => {
  it('installs what the organisation allows, refuses what its cooldown refuses; a frozen install uses the cached organisation policy', async () => {
    const project = await driver.project(registry.url, { 'old-lib': '1.0.0' }, extending());
    const ok = await driver.install(project);
    results.push(`${driver.label} | extends, old-lib | exit ${ok.code} | ${codes(output(ok))}`);
    expect(ok.code, output(ok)).toBe(0);

    // The organisation's package cannot be fetched any more: the cached copy (by integrity) decides.
    registry.setFault(/portcullis-policy/, { kind: 'status', status: 500 });
    try {
      freshCheckout(project);
      driver.coldCache(project);
      const frozen = await driver.frozen(project);
      results.push(`${driver.label} | frozen, organisation package unreachable | exit ${frozen.code} | ${codes(output(frozen))}`);
      expect(frozen.code, output(frozen)).toBe(0);
    } finally {
      registry.clearFaults();
    }

    const fresh = await driver.project(registry.url, { 'old-lib': '1.0.0', 'fresh-lib': '1.0.0' }, extending());
    const refused = await driver.install(fresh);
    results.push(`${driver.label} | extends, fresh-lib 2 days old | exit ${refused.code} | ${codes(output(refused))} | ran: ${ran(fresh).join(' ') || 'nothing'}`);
    expect(refused.code, output(refused)).not.toBe(0);
    if (driver.pm === 'yarn') {
      // A fresh resolution: Yarn's own age gate, raised by the plugin to the organisation's 3 days, refuses first.
      expect(output(refused)).toMatch(/RELEASE_TOO_NEW|fresh-lib@npm:1\.0\.0: All versions satisfying "1\.0\.0" are quarantined/);
    } else {
      expect(output(refused)).toContain('RELEASE_TOO_NEW');
      expect(output(refused)).toContain('fresh-lib@1.0.0');
    }
    expect(ran(fresh)).toEqual([]);
  });

  it('a loosening repository policy stops the install before anything runs', async () => {
    const project = await driver.project(registry.url, { 'fresh-lib': '1.0.0' }, extending({ cooldown: { minimumReleaseAge: '1h' } }));
    const r = await driver.install(project);
    results.push(`${driver.label} | loosening repository policy | exit ${r.code} | ${codes(output(r))} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(r.code, output(r)).not.toBe(0);
    expect(output(r)).toContain(`${ORG}@1.0.0/portcullis.json`);
    expect(output(r)).toContain('cooldown.minimumReleaseAge');
    expect(ran(project)).toEqual([]);
  });
});

