/**
 * Thirteenth wave, L3: a version without provenance was compared with the earlier claims of its line by semver, and,
 * only when there were none, with the releases published before it. The attacker publishes `1.0.0-a` with a claim that
 * does not verify (its bundle's digest is not the tarball's), then `1.0.0-b` without provenance, both below acme's
 * verified 1.0.0 and 1.1.0 by semver and published a month after them: the one earlier claim by semver did not verify,
 * and acme's releases, later by semver, were never looked at. Now, when no earlier claim by semver verifies, the
 * releases of the line published before it are compared too.
 */
import { acmeWidgetProvenance, FIXTURE_PUBLISHED_AT, provenanceSet, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmDrivers, output, pnpmDrivers, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { portcullis } from '../src/project.js';
import { checkedAfterNpm, provenanceCodes, refusedThenInstalled } from '../src/provenance-line.js';

let registry: TestRegistry;
beforeAll(async () => {
  const after = Date.parse(FIXTURE_PUBLISHED_AT) + 30 * 86_400_000;
  registry = await startRegistry({
    packages: [
      ...provenanceSet,
      withPostinstall('acme-widget', '1.0.0-a', { provenance: acmeWidgetProvenance('1.0.0-a', { tamper: 'digest' }), publishedAt: new Date(after).toISOString() }),
      withPostinstall('acme-widget', '1.0.0-b', { publishedAt: new Date(after + 1000).toISOString() }),
    ],
  });
}, 120_000);
afterAll(async () => {
  await registry?.close();
});

describe('a prerelease without provenance whose only earlier claim by semver does not verify', () => {
  it('portcullis check: acme-widget@1.0.0-b is a downgrade of the verified releases published before it', async () => {
    const check = await checkedAfterNpm(registry, '1.0.0-b');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.0.0-b', 'PROVENANCE_DOWNGRADE']]);
    // The newest verified one published before it (provenanceSet's 1.3.0, built elsewhere), which is verified too.
    expect(check.findings[0]!.message).toContain('this one has none');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: the fresh install is refused, nothing run; check on the tree a plain install left refuses it', async (_label, driver) => {
    const project = await refusedThenInstalled(driver, registry, '1.0.0-b');
    const check = await portcullis(project, ['check']);
    expect(provenanceCodes(output(check)), output(check)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(check.code).toBe(1);
  });
});
