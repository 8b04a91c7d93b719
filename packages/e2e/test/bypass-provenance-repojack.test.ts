/**
 * Eleventh wave, E3: a repository of the same name, another repository (a re-registered name: its immutable id and
 * owner id differ). acme-widget 1.0.0/1.1.0 were built by github.com/acme/widget (id 123, owner 456); the attacker,
 * holding the npm account and a re-created github.com/acme/widget (id 666, owner 667), publishes 1.4.0 with valid
 * provenance from it. Both certificates carry ids: they are two repositories, and 1.4.0 is a downgrade of the line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, provenanceSet, startRegistry, testTrustedRoot, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmDrivers, output, pnpmDrivers, ran, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { portcullis } from '../src/project.js';

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

function policy(provenance: object = {}): object {
  return {
    scripts: { allow: ['acme-widget'] },
    registries: { [registry.url]: { keys: registry.keys.keys } },
    provenance: { trustedRoot: './sigstore-test-root.json', ...provenance },
  };
}

const codes = (text: string) => [...new Set(text.match(/PROVENANCE_[A-Z]+|PUBLISHER_MISMATCH/g) ?? [])].sort();

describe('a re-created repository of the same name (other ids) builds a release of the line', () => {
  const drivers: Driver[] = [pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: the fresh install is refused, nothing run; check on the tree a plain install left refuses it', async (_label, driver) => {
    const project = await driver.project(registry.url, { 'acme-widget': '1.4.0' }, policy());
    writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(codes(output(fresh))).toContain('PROVENANCE_DOWNGRADE');
    expect(ran(project)).toEqual([]);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy({ noDowngrade: false }), null, 2)}\n`);
    expect((await driver.install(project)).code).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy(), null, 2)}\n`);
    const check = await portcullis(project, ['check']);
    expect(codes(output(check)), output(check)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(output(check)).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });
});
