/**
 * Ninth wave: the trust rules attacked as a hijacked maintainer account would. A provenance downgrade is judged
 * against the release line's verified history: the attacker's own provenanced releases must never become the line's
 * baseline. Fixtures (`provenanceSet`): acme-widget 1.0.0/1.1.0 built by github.com/acme/widget, 1.3.0 built by
 * github.com/evil/widget; here also 1.3.1, built by github.com/evil/widget again (validly signed and attested), and
 * 1.0.0-evil.0, published now without provenance: lower than every provenanced release of the line, later than all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, provenanceSet, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, ran, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { checkedAfterNpm, frozenRefused, provenanceCodes, provenanceLinePolicy, refusedThenInstalled, withTestRoot } from '../src/provenance-line.js';

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

describe('a second release built by the attacker’s repository', () => {
  it('portcullis check: acme-widget@1.3.1 is a downgrade of the line acme built (1.3.0, also the attacker’s, is no baseline)', async () => {
    const check = await checkedAfterNpm(registry, '1.3.1');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.3.1', 'PROVENANCE_DOWNGRADE']]);
    expect(check.findings[0]!.message).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: fresh install refused, nothing run', async (_label, driver) => {
    const project = withTestRoot(await driver.project(registry.url, { 'acme-widget': '1.3.1' }, provenanceLinePolicy(registry)));
    const r = await driver.install(project);
    expect(r.code, output(r)).not.toBe(0);
    expect(provenanceCodes(output(r))).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
  });

  it.each(drivers.map((d) => [d.label, d] as const))('%s: a frozen install of a lockfile that installed while the policy did not ask is refused', async (_label, driver) => {
    const project = withTestRoot(await driver.project(registry.url, { 'acme-widget': '1.3.1' }, provenanceLinePolicy(registry, { noDowngrade: false })));
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(provenanceLinePolicy(registry), null, 2)}\n`);
    freshCheckout(project);
    await frozenRefused(driver, project);
  });
});

describe('a release below every provenanced one of its line, published after them', () => {
  it('portcullis check: acme-widget@1.0.0-evil.0 is a downgrade (earlier in time, not in semver)', async () => {
    const check = await checkedAfterNpm(registry, '1.0.0-evil.0');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.0.0-evil.0', 'PROVENANCE_DOWNGRADE']]);
    expect(check.code).toBe(1);
  });

  // Yarn 4.18.1 refuses this exact prerelease pin itself (YN0016); pnpm and npm installed it and ran its postinstall.
  const drivers: Driver[] = [pnpmDrivers()[2]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: fresh and frozen installs refused, nothing run', async (_label, driver) => {
    const project = await refusedThenInstalled(driver, registry, '1.0.0-evil.0');
    freshCheckout(project);
    await frozenRefused(driver, project);
  });
});
