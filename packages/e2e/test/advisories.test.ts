/**
 * Advisories (issue 16) end to end: OSV records in the OpenSSF malicious-packages layout, named by
 * `advisories.osv`, through every real client — pnpm 10/11/12, Yarn 4.0/4.18, npm 10/11/12 through portcullis-npm —
 * and `portcullis check`. A version listed exactly or inside a SEMVER range is KNOWN_MALICIOUS with the advisory's id,
 * before anything runs, on fresh and frozen installs; an unaffected version installs; no allowlist waives it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDrivers, freshCheckout, output, ran, type Driver } from '../src/corpus/drivers.js';
import { createProject, install, portcullis, type Project, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({
    packages: [withPostinstall('listed-lib', '1.0.0'), withPostinstall('listed-lib', '1.1.0'), withPostinstall('ranged-lib', '2.0.5'), withPostinstall('ranged-lib', '2.1.0')],
  });
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\nadvisories results:\n${results.join('\n')}\n`);
});

/** Every waiver a policy has, for the listed packages: none of them may waive a known-malicious version. */
const policy = () => ({
  scripts: { allow: ['listed-lib', 'ranged-lib'] },
  signatures: { allowUnsigned: ['listed-lib', 'ranged-lib'] },
  registries: { [registry.url]: { keys: registry.keys.keys } },
  advisories: { osv: ['./security/osv'] },
});

function osv(id: string, name: string, affected: object): object {
  return { schema_version: '1.5.0', id, modified: '2026-11-30T00:00:00Z', published: '2026-11-30T00:00:00Z', summary: `Malicious code in ${name} (npm)`, affected: [{ package: { ecosystem: 'npm', name }, ...affected }] };
}

function writeAdvisories(project: Project): void {
  const dir = (name: string) => {
    const folder = join(project.dir, 'security', 'osv', 'malicious', 'npm', name);
    mkdirSync(folder, { recursive: true });
    return folder;
  };
  writeFileSync(join(dir('listed-lib'), 'MAL-2026-0001.json'), JSON.stringify(osv('MAL-2026-0001', 'listed-lib', { versions: ['1.0.0'] })));
  writeFileSync(join(dir('ranged-lib'), 'MAL-2026-0002.json'), JSON.stringify(osv('MAL-2026-0002', 'ranged-lib', { ranges: [{ type: 'SEMVER', events: [{ introduced: '2.0.0' }, { fixed: '2.1.0' }] }] })));
  // Withdrawn: ignored.
  writeFileSync(join(dir('listed-lib'), 'MAL-2026-0003.json'), JSON.stringify({ ...osv('MAL-2026-0003', 'listed-lib', { versions: ['1.1.0'] }), withdrawn: '2026-11-30T01:00:00Z' }));
}

const codesIn = (r: RunResult) => [...new Set(output(r).match(/KNOWN_MALICIOUS|MAL-2026-000\d/g) ?? [])].sort().join(' ') || '-';

describe('portcullis check', () => {
  it('exact version and range are KNOWN_MALICIOUS naming the advisory; unaffected and withdrawn pass', async () => {
    const project = createProject('npm', registry.url, { 'listed-lib': '1.0.0', 'ranged-lib': '2.0.5' }, { policy: policy() });
    writeAdvisories(project);
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ package: string; version: string; code: string; rule: string; message: string }> }).findings;
    expect(findings.map((f) => [f.package, f.version, f.code, f.rule]), output(check)).toEqual([
      ['listed-lib', '1.0.0', 'KNOWN_MALICIOUS', 'advisories'],
      ['ranged-lib', '2.0.5', 'KNOWN_MALICIOUS', 'advisories'],
    ]);
    expect(findings[0]!.message).toBe('listed-lib@1.0.0 is known malicious: MAL-2026-0001 (Malicious code in listed-lib (npm))');
    expect(check.code).toBe(1);

    const clean = createProject('npm', registry.url, { 'listed-lib': '1.1.0', 'ranged-lib': '2.1.0' }, { policy: policy() });
    writeAdvisories(clean);
    expect((await install(npm(11), 'npm', clean, ['--ignore-scripts'])).code).toBe(0);
    const ok = await portcullis(clean, ['check']);
    expect(ok.code, output(ok)).toBe(0);
  });

  it('advisories.osv naming a folder that does not exist cannot be decided: exit 3', async () => {
    const project = createProject('npm', registry.url, { 'listed-lib': '1.1.0' }, { policy: policy() });
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const check = await portcullis(project, ['check']);
    expect(check.code, output(check)).toBe(3);
  });
});

describe.each(allDrivers().map((d) => [d.label, d] as const))('%s', (_label, driver: Driver) => {
  it('a listed version is refused fresh and frozen, naming the advisory, before anything runs; an unaffected one installs', async () => {
    const project = await driver.project(registry.url, { 'listed-lib': '1.0.0', 'ranged-lib': '2.0.5' }, policy());
    writeAdvisories(project);
    const fresh = await driver.install(project);
    results.push(`${driver.label} | listed fresh | exit ${fresh.code} | ${codesIn(fresh)} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(fresh.code, output(fresh)).not.toBe(0);
    // pnpm judges manifests in batches as it resolves them and stops at the first refused batch: it names one advisory or both.
    expect(output(fresh)).toContain('KNOWN_MALICIOUS');
    expect(output(fresh)).toMatch(/MAL-2026-000[12]/);
    expect(ran(project)).toEqual([]);

    // A lockfile made before the advisories were known, installed again from scratch now.
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify({ ...policy(), advisories: { osv: [] } }));
    expect((await driver.install(project)).code).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy()));
    freshCheckout(project);
    driver.coldCache(project);
    const frozen = await driver.frozen(project);
    results.push(`${driver.label} | listed frozen | exit ${frozen.code} | ${codesIn(frozen)} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(output(frozen)).toContain('KNOWN_MALICIOUS');
    expect(output(frozen)).toContain('MAL-2026-0002');
    expect(ran(project)).toEqual([]);

    const clean = await driver.project(registry.url, { 'listed-lib': '1.1.0', 'ranged-lib': '2.1.0' }, policy());
    writeAdvisories(clean);
    const ok = await driver.install(clean);
    expect(ok.code, output(ok)).toBe(0);
  });
});
