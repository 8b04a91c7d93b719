/**
 * Fourteenth wave (round 46): a version that differs from another only in build metadata counts as an earlier release
 * of the same version for the downgrade check (twelfth wave V2), both ways. The attacker who holds acme-widget's name
 * publishes `3.0.0+evil` now, with valid provenance from their own github.com/evil/widget, beside acme's verified
 * `3.0.0` (published a day before). Before: the legitimate 3.0.0 was refused as a PROVENANCE_DOWNGRADE ("provenance
 * moved from github.com/evil/widget"): a denial of service on the release a project already reviewed and locked. Now
 * a twin counts as earlier only when the registry's `time` says it was published before (core
 * `decider/provenance.ts`): acme's 3.0.0 installs and builds, the attacker's `3.0.0+evil` is still refused, naming
 * github.com/acme/widget.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acmeWidgetProvenance, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDrivers, npmDrivers, output, pnpmDrivers, ran, yarnDrivers } from '../src/corpus/drivers.js';
import { createProject, portcullis, portcullisNpm, run } from '../src/project.js';
import { checkedAfterNpm, provenanceCodes, provenanceLinePolicy, withTestRoot } from '../src/provenance-line.js';

let registry: TestRegistry;
const DAY = 86_400_000;
const EVIL = { repository: 'github.com/evil/widget', repositoryId: '666', ownerId: '667' };
beforeAll(async () => {
  const now = Date.now();
  registry = await startRegistry({
    packages: [
      withPostinstall('acme-widget', '3.0.0', { provenance: acmeWidgetProvenance('3.0.0'), publishedAt: new Date(now - 3 * DAY).toISOString() }),
      withPostinstall('acme-widget', '3.0.0+evil', { provenance: acmeWidgetProvenance('3.0.0+evil', EVIL), publishedAt: new Date(now).toISOString() }),
      // Round 46: acme's 3.1.0, then the attacker's lower 3.0.1 from their own repository, published after it.
      withPostinstall('acme-widget', '3.1.0', { provenance: acmeWidgetProvenance('3.1.0'), publishedAt: new Date(now - 2 * DAY).toISOString() }),
      withPostinstall('acme-widget', '3.0.1', { provenance: acmeWidgetProvenance('3.0.1', EVIL), publishedAt: new Date(now - 1.5 * DAY).toISOString() }),
    ],
  });
}, 60_000);
afterAll(async () => {
  await registry?.close();
});

describe('acme’s 3.0.0 beside the attacker’s 3.0.0+evil, published after it from another repository', () => {
  it('portcullis check: acme-widget@3.0.0 is no downgrade', async () => {
    const legit = await checkedAfterNpm(registry, '3.0.0');
    expect(legit.findings, legit.output).toEqual([]);
    expect(legit.code, legit.output).toBe(0);
  }, 120_000);

  // npm resolves a dependency written "3.0.0+evil" to 3.0.0: the attacker names their entry in package-lock.json.
  it.each(npmDrivers().map((d) => [d.label, d] as const))('%s: ci of a lockfile naming acme-widget@3.0.0+evil is still refused, naming github.com/acme/widget; check too', async (_label, driver) => {
    const project = withTestRoot(createProject('npm', registry.url, { 'acme-widget': '3.0.0' }, { policy: provenanceLinePolicy(registry) }));
    const locked = await run(driver.tool.command, [...driver.tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project.dir, env: project.env });
    expect(locked.code, output(locked)).toBe(0);
    const doc = (await (await fetch(`${registry.url}acme-widget`)).json()) as { versions: Record<string, { dist: { integrity: string; tarball: string } }> };
    const { integrity, tarball } = doc.versions['3.0.0+evil']!.dist;
    const lockPath = join(project.dir, 'package-lock.json');
    const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    Object.assign(lock.packages['node_modules/acme-widget']!, { version: '3.0.0+evil', resolved: tarball, integrity });
    writeFileSync(lockPath, JSON.stringify(lock, null, 2));
    const ci = await portcullisNpm(driver.tool, project, ['ci']);
    expect(ran(project), output(ci)).toEqual([]);
    expect(ci.code, output(ci)).toBe(1);
    expect(provenanceCodes(output(ci)), output(ci)).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(output(ci)).toContain('the earlier acme-widget@3.0.0 of the same release line had verified provenance from github.com/acme/widget');
    const check = await portcullis(project, ['check']);
    expect(check.code, output(check)).toBe(1);
    expect(provenanceCodes(output(check)), output(check)).toEqual(['PROVENANCE_DOWNGRADE']);
  }, 120_000);

  it.each(allDrivers().map((d) => [d.label, d] as const))('%s: a fresh install of acme-widget@3.0.0 builds it', async (_label, driver) => {
    const project = withTestRoot(await driver.project(registry.url, { 'acme-widget': '3.0.0' }, provenanceLinePolicy(registry)));
    const r = await driver.install(project);
    expect(provenanceCodes(output(r)), output(r)).toEqual([]);
    expect(r.code, output(r)).toBe(0);
    expect(ran(project)).toEqual(['acme-widget@3.0.0.ran']);
  }, 120_000);

  // A mirror whose full document lacks the publish time of 3.0.0 or of its twin: which came first cannot be told.
  // Undecidable (METADATA_UNAVAILABLE), not a downgrade whose fix names the twin, maybe the attacker's, to pin.
  it.each([['3.0.0'], ['3.0.0+evil']])('without the publish time of %s: check undecidable (exit 3), pnpm 12 and npm 11 refused, nothing run', async (undated) => {
    registry.setFault('/acme-widget', { kind: 'drop-time', versions: [undated] });
    try {
      const check = await checkedAfterNpm(registry, '3.0.0');
      expect(check.findings.map((f) => f.code), check.output).toEqual(['METADATA_UNAVAILABLE']);
      expect(check.findings[0]!.message).toContain(`no readable publish time for acme-widget@${undated}`);
      expect(check.code).toBe(3);
      for (const driver of [pnpmDrivers()[2]!, npmDrivers()[1]!]) {
        const project = withTestRoot(await driver.project(registry.url, { 'acme-widget': '3.0.0' }, provenanceLinePolicy(registry)));
        const r = await driver.install(project);
        expect(r.code, output(r)).not.toBe(0);
        expect(output(r)).toContain('which of them came first cannot be told');
        expect(ran(project)).toEqual([]);
      }
    } finally {
      registry.clearFaults();
    }
  }, 120_000);
});

/**
 * Round 46: an earlier release by semver published after this one is not its past. The attacker's 3.0.1 (from
 * github.com/evil/widget), published after acme's 3.1.0, made 3.1.0 — already reviewed and locked — a
 * PROVENANCE_DOWNGRADE on every client. Now a release that would be a move is compared by publish time first.
 */
describe('acme’s 3.1.0 beside the attacker’s lower 3.0.1, published after it from another repository', () => {
  it('portcullis check: acme-widget@3.1.0 is no downgrade; the attacker’s 3.0.1 is', async () => {
    const legit = await checkedAfterNpm(registry, '3.1.0');
    expect(legit.findings, legit.output).toEqual([]);
    expect(legit.code, legit.output).toBe(0);
    const evil = await checkedAfterNpm(registry, '3.0.1');
    expect(evil.findings.map((f) => f.code), evil.output).toEqual(['PROVENANCE_DOWNGRADE']);
    expect(evil.findings[0]!.message).toContain('github.com/acme/widget');
  }, 120_000);

  it.each([pnpmDrivers()[2]!, yarnDrivers()[0]!, npmDrivers()[1]!].map((d) => [d.label, d] as const))('%s: a fresh install of acme-widget@3.1.0 builds it', async (_label, driver) => {
    const project = withTestRoot(await driver.project(registry.url, { 'acme-widget': '3.1.0' }, provenanceLinePolicy(registry)));
    const r = await driver.install(project);
    expect(provenanceCodes(output(r)), output(r)).toEqual([]);
    expect(r.code, output(r)).toBe(0);
    expect(ran(project)).toEqual(['acme-widget@3.1.0.ran']);
  }, 120_000);
});
