/**
 * Ninth wave: the trust rules attacked as a hijacked maintainer account would. A provenance downgrade is judged
 * against the release line's verified history: the attacker's own provenanced releases must never become the line's
 * baseline. Fixtures (`provenanceSet`): acme-widget 1.0.0/1.1.0 built by github.com/acme/widget, 1.3.0 built by
 * github.com/evil/widget; here also 1.3.1, built by github.com/evil/widget again (validly signed and attested), and
 * 1.0.0-evil.0, published now without provenance: lower than every provenanced release of the line, later than all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, provenanceSet, startRegistry, testTrustedRoot, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, ran, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { createProject, install, portcullis, type Project } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
const EVIL = { repository: 'github.com/evil/widget', repositoryId: '666', ownerId: '667' };
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      ...provenanceSet,
      withPostinstall('acme-widget', '1.3.1', { provenance: acmeWidgetProvenance('1.3.1', EVIL) }),
      // Below the line's first provenanced release by semver, published after it (now), without provenance.
      withPostinstall('acme-widget', '1.0.0-evil.0', { publishedAt: new Date().toISOString() }),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

function policy(provenance: object = {}): object {
  return {
    scripts: { allow: ['acme-widget'] },
    registries: { [registry.url]: { keys: registry.keys.keys } },
    provenance: { trustedRoot: './sigstore-test-root.json', ...provenance },
  };
}

const codes = (text: string) => [...new Set(text.match(/PROVENANCE_[A-Z]+|PUBLISHER_MISMATCH/g) ?? [])].sort();

interface CheckFinding {
  package: string;
  version: string;
  code: string;
  message: string;
}

/** `portcullis check` of a project npm 11 installed with `acme-widget@version` (scripts off): its findings and result. */
async function checked(version: string): Promise<{ findings: CheckFinding[]; code: number; output: string }> {
  const project: Project = createProject('npm', registry.url, { 'acme-widget': version }, { policy: policy() });
  writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
  const installed = await install(npm(11), 'npm', project, ['--ignore-scripts']);
  expect(installed.code, output(installed)).toBe(0);
  const check = await portcullis(project, ['check', '--format', 'json']);
  return { findings: (JSON.parse(check.stdout || '{"findings":[]}') as { findings: CheckFinding[] }).findings, code: check.code, output: output(check) };
}

describe('a second release built by the attacker’s repository', () => {
  it('portcullis check: acme-widget@1.3.1 is a downgrade of the line acme built (1.3.0, also the attacker’s, is no baseline)', async () => {
    const check = await checked('1.3.1');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.3.1', 'PROVENANCE_DOWNGRADE']]);
    expect(check.findings[0]!.message).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: fresh install refused, nothing run', async (_label, driver) => {
    const project = await driver.project(registry.url, { 'acme-widget': '1.3.1' }, policy());
    writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
    const r = await driver.install(project);
    expect(r.code, output(r)).not.toBe(0);
    expect(codes(output(r))).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
  });

  it.each(drivers.map((d) => [d.label, d] as const))('%s: a frozen install of a lockfile that installed while the policy did not ask is refused', async (_label, driver) => {
    const project = await driver.project(registry.url, { 'acme-widget': '1.3.1' }, policy({ noDowngrade: false }));
    writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy(), null, 2)}\n`);
    freshCheckout(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(codes(output(frozen))).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
  });
});

describe('a release below every provenanced one of its line, published after them', () => {
  it('portcullis check: acme-widget@1.0.0-evil.0 is a downgrade (earlier in time, not in semver)', async () => {
    const check = await checked('1.0.0-evil.0');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.0.0-evil.0', 'PROVENANCE_DOWNGRADE']]);
    expect(check.code).toBe(1);
  });

  // Yarn 4.18.1 refuses this exact prerelease pin itself (YN0016); pnpm and npm installed it and ran its postinstall.
  const drivers: Driver[] = [pnpmDrivers()[2]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: fresh and frozen installs refused, nothing run', async (_label, driver) => {
    const project = await driver.project(registry.url, { 'acme-widget': '1.0.0-evil.0' }, policy());
    writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(codes(output(fresh))).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy({ noDowngrade: false }), null, 2)}\n`);
    expect((await driver.install(project)).code).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy(), null, 2)}\n`);
    freshCheckout(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(codes(output(frozen))).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
  });
});
