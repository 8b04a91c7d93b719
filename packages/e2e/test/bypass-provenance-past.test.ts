/**
 * Eleventh wave: the line's past of a release below its line's provenanced ones. The attacker publishes two
 * prereleases of acme-widget's line 1 below 1.0.0 (acme's first provenanced release), both now, both with valid
 * provenance from github.com/evil/widget: 1.0.0-evil.0, then 1.0.0-evil.1. The second has an earlier release by
 * semver that claims provenance (the first, the attacker's own): it must still be judged against acme's releases,
 * published before it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, provenanceSet, startRegistry, testTrustedRoot, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, ran, type Driver } from '../src/corpus/drivers.js';
import { createProject, install, portcullis } from '../src/project.js';
import { npm } from '../src/toolbox.js';

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

function policy(provenance: object = {}): object {
  return {
    scripts: { allow: ['acme-widget'] },
    registries: { [registry.url]: { keys: registry.keys.keys } },
    provenance: { trustedRoot: './sigstore-test-root.json', ...provenance },
  };
}

const codes = (text: string) => [...new Set(text.match(/PROVENANCE_[A-Z]+|PUBLISHER_MISMATCH/g) ?? [])].sort();

describe('a second attacker-built release below every provenanced one of its line', () => {
  it('portcullis check: acme-widget@1.0.0-evil.1 is a downgrade of the line acme built', async () => {
    const project = createProject('npm', registry.url, { 'acme-widget': '1.0.0-evil.1' }, { policy: policy() });
    writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
    const installed = await install(npm(11), 'npm', project, ['--ignore-scripts']);
    expect(installed.code, output(installed)).toBe(0);
    const check = await portcullis(project, ['check']);
    expect(codes(output(check)), output(check)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(output(check)).toContain('github.com/acme/widget');
    expect(check.code).toBe(1);
  });

  const drivers: Driver[] = [pnpmDrivers()[2]!, npmDrivers()[1]!];
  it.each(drivers.map((d) => [d.label, d] as const))('%s: fresh and frozen installs refused, nothing run', async (_label, driver) => {
    const project = await driver.project(registry.url, { 'acme-widget': '1.0.0-evil.1' }, policy());
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
