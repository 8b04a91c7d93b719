/**
 * Eleventh wave: the line's past of a release below its line's provenanced ones. The attacker publishes two
 * prereleases of acme-widget's line 1 below 1.0.0 (acme's first provenanced release), both now, both with valid
 * provenance from github.com/evil/widget: 1.0.0-evil.0, then 1.0.0-evil.1. The second has an earlier release by
 * semver that claims provenance (the first, the attacker's own): it must still be judged against acme's releases,
 * published before it.
 */
import { acmeWidgetProvenance, provenanceSet, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, pnpmDrivers, type Driver } from '../src/corpus/drivers.js';
import { checkedAfterNpm, frozenRefused, refusedThenInstalled } from '../src/provenance-line.js';

let registry: TestRegistry;
const EVIL = { repository: 'github.com/evil/widget', repositoryId: '666', ownerId: '667' };
beforeAll(async () => {
  const now = Date.now();
  registry = await startRegistry({
    packages: [
      ...provenanceSet,
      withPostinstall('acme-widget', '1.0.0-evil.0', { provenance: acmeWidgetProvenance('1.0.0-evil.0', EVIL), publishedAt: new Date(now - 60_000).toISOString() }),
      withPostinstall('acme-widget', '1.0.0-evil.1', { provenance: acmeWidgetProvenance('1.0.0-evil.1', EVIL), publishedAt: new Date(now).toISOString() }),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

describe('a second attacker-built release below every provenanced one of its line', () => {
  it('portcullis check: acme-widget@1.0.0-evil.1 is a downgrade of the line acme built', async () => {
    const check = await checkedAfterNpm(registry, '1.0.0-evil.1');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.0.0-evil.1', 'PROVENANCE_DOWNGRADE']]);
    expect(check.findings[0]!.message).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: fresh and frozen installs refused, nothing run', async (_label, driver) => {
    const project = await refusedThenInstalled(driver, registry, '1.0.0-evil.1');
    freshCheckout(project);
    await frozenRefused(driver, project);
  });
});
