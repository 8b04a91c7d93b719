/**
 * Twelfth wave: the downgrade check compared a verified release with the newest 256 claims of its line only. A
 * hijacker who publishes more than 256 validly attested releases from their own repository (github.com/evil/widget)
 * pushed acme's 1.0.0 and 1.1.0 out of view: their next release then showed no move. A longer line is compared with
 * its newest claims and with the ones first published (the registry's `time`, from the full document).
 *
 * And a version without provenance was compared with the newest three earlier claims only: three claims that do not
 * verify (1.1.1 … 1.1.4 here, their bundles' digests not the tarballs') hid acme's verified 1.1.0 from 1.1.5.
 */
import { acmeWidgetProvenance, FIXTURE_PUBLISHED_AT, provenanceSet, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmDrivers, output, pnpmDrivers, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { portcullis } from '../src/project.js';
import { checkedAfterNpm, provenanceCodes, refusedThenInstalled } from '../src/provenance-line.js';

const EVIL = { repository: 'github.com/evil/widget', repositoryId: '666', ownerId: '667' };
/**
 * 1.3.1 … 1.3.LAST, the attacker's (1.3.0, also theirs, is in provenanceSet), published a month after acme's releases
 * (the fixtures' times: a minute apart from FIXTURE_PUBLISHED_AT) and weeks ago (Yarn 4.18 quarantines what is new).
 */
const LAST = 262;
const NEWEST = `1.3.${LAST}`;

let registry: TestRegistry;
beforeAll(async () => {
  const after = Date.parse(FIXTURE_PUBLISHED_AT) + 30 * 86_400_000;
  const evil = Array.from({ length: LAST }, (_, i) => `1.3.${i + 1}`).map((version, i) =>
    withPostinstall('acme-widget', version, { provenance: acmeWidgetProvenance(version, EVIL), publishedAt: new Date(after + i * 1000).toISOString() }),
  );
  const unverifiable = ['1.1.1', '1.1.2', '1.1.3', '1.1.4'].map((version) => withPostinstall('acme-widget', version, { provenance: acmeWidgetProvenance(version, { tamper: 'digest' }) }));
  registry = await startRegistry({ packages: [...provenanceSet, ...evil, ...unverifiable, withPostinstall('acme-widget', '1.1.5')] });
}, 120_000);
afterAll(async () => {
  await registry?.close();
});

describe('past 256 releases built by the attacker’s repository', () => {
  it(`portcullis check: acme-widget@${NEWEST} is still a downgrade of the line acme built`, async () => {
    const check = await checkedAfterNpm(registry, NEWEST);
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', NEWEST, 'PROVENANCE_DOWNGRADE']]);
    expect(check.findings[0]!.message).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: the fresh install is refused, nothing run; check on the tree a plain install left refuses it', async (_label, driver) => {
    const project = await refusedThenInstalled(driver, registry, NEWEST);
    const check = await portcullis(project, ['check']);
    expect(provenanceCodes(output(check)), output(check)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(output(check)).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });
});

describe('a release without provenance after claims that do not verify', () => {
  it('portcullis check: acme-widget@1.1.5 is a downgrade of acme’s verified 1.1.0, four newer claims that do not verify notwithstanding', async () => {
    const check = await checkedAfterNpm(registry, '1.1.5');
    expect(check.findings.map((f) => [f.package, f.version, f.code]), check.output).toEqual([['acme-widget', '1.1.5', 'PROVENANCE_DOWNGRADE']]);
    expect(check.findings[0]!.message).toContain('1.1.0');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: the fresh install is refused, nothing run', async (_label, driver) => {
    await refusedThenInstalled(driver, registry, '1.1.5');
  });
});
