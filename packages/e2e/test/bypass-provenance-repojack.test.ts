/**
 * Eleventh wave, E3: a repository of the same name, another repository (a re-registered name: its immutable id and
 * owner id differ). acme-widget 1.0.0/1.1.0 were built by github.com/acme/widget (id 123, owner 456); the attacker,
 * holding the npm account and a re-created github.com/acme/widget (id 666, owner 667), publishes 1.4.0 with valid
 * provenance from it. Both certificates carry ids: they are two repositories, and 1.4.0 is a downgrade of the line.
 */
import { acmeWidgetProvenance, provenanceSet, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmDrivers, output, pnpmDrivers, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { portcullis } from '../src/project.js';
import { provenanceCodes, refusedThenInstalled } from '../src/provenance-line.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      ...provenanceSet.filter((p) => !(p.name === 'acme-widget' && p.version === '1.3.0')),
      withPostinstall('acme-widget', '1.4.0', { provenance: acmeWidgetProvenance('1.4.0', { repositoryId: '666', ownerId: '667' }) }),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

describe('a re-created repository of the same name (other ids) builds a release of the line', () => {
  const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: the fresh install is refused, nothing run; check on the tree a plain install left refuses it', async (_label, driver) => {
    const project = await refusedThenInstalled(driver, registry, '1.4.0');
    const check = await portcullis(project, ['check']);
    expect(provenanceCodes(output(check)), output(check)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(output(check)).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });
});
