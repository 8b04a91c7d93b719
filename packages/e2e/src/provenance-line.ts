/**
 * What the provenance-downgrade attack files share (bypass-provenance-line, -past, -repojack): acme-widget's line, its
 * policy (scripts allowed, so only the downgrade rule can refuse), the test Sigstore's trusted root in the project, and
 * the steps each case takes with a real client.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testTrustedRoot, type TestRegistry } from '@portcullis/test-registry';
import { expect } from 'vitest';
import { output, ran, type Driver } from './corpus/drivers.js';
import { createProject, install, portcullis, type Project, type RunResult } from './project.js';
import { npm } from './toolbox.js';

/** The policy of every case: acme-widget's scripts allowed, the registry's keys, the test root; `provenance` on top. */
export function provenanceLinePolicy(registry: TestRegistry, provenance: object = {}): object {
  return {
    scripts: { allow: ['acme-widget'] },
    registries: { [registry.url]: { keys: registry.keys.keys } },
    provenance: { trustedRoot: './sigstore-test-root.json', ...provenance },
  };
}

/** The provenance finding codes a client's or `check`'s output names, once each, sorted. */
export const provenanceCodes = (text: string): string[] => [...new Set(text.match(/PROVENANCE_[A-Z]+|PUBLISHER_MISMATCH/g) ?? [])].sort();

/** Writes the test Sigstore's trusted root where the policy names it. */
export function withTestRoot<T extends Project>(project: T): T {
  writeFileSync(join(project.dir, 'sigstore-test-root.json'), JSON.stringify(testTrustedRoot()));
  return project;
}

function writePolicy(project: Project, policy: object): void {
  writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify(policy, null, 2)}\n`);
}

/**
 * A fresh install of `acme-widget@version` through `driver`: refused as a downgrade, nothing run; then installed with
 * `noDowngrade: false` (the tree a plain install leaves), and the policy put back. The project, for what the case
 * checks next.
 */
export async function refusedThenInstalled(driver: Driver, registry: TestRegistry, version: string): Promise<Project> {
  const project = withTestRoot(await driver.project(registry.url, { 'acme-widget': version }, provenanceLinePolicy(registry)));
  const fresh = await driver.install(project);
  expect(fresh.code, output(fresh)).not.toBe(0);
  expect(provenanceCodes(output(fresh)), output(fresh)).toContain('PROVENANCE_DOWNGRADE');
  expect(ran(project)).toEqual([]);
  writePolicy(project, provenanceLinePolicy(registry, { noDowngrade: false }));
  expect((await driver.install(project)).code).toBe(0);
  writePolicy(project, provenanceLinePolicy(registry));
  return project;
}

/** A frozen install (`--frozen-lockfile`, `--immutable`, `ci`) refused as a downgrade, nothing run. */
export async function frozenRefused(driver: Driver, project: Project): Promise<RunResult> {
  const frozen = await driver.frozen(project);
  expect(frozen.code, output(frozen)).not.toBe(0);
  expect(provenanceCodes(output(frozen))).toContain('PROVENANCE_DOWNGRADE');
  expect(ran(project)).toEqual([]);
  return frozen;
}

export interface CheckFinding {
  package: string;
  version: string;
  code: string;
  message: string;
}

/** `portcullis check --format json` of a project npm 11 installed with `acme-widget@version` (scripts off). */
export async function checkedAfterNpm(registry: TestRegistry, version: string): Promise<{ findings: CheckFinding[]; code: number; output: string }> {
  const project = withTestRoot(createProject('npm', registry.url, { 'acme-widget': version }, { policy: provenanceLinePolicy(registry) }));
  const installed = await install(npm(11), 'npm', project, ['--ignore-scripts']);
  expect(installed.code, output(installed)).toBe(0);
  const check = await portcullis(project, ['check', '--format', 'json']);
  return { findings: (JSON.parse(check.stdout || '{"findings":[]}') as { findings: CheckFinding[] }).findings, code: check.code, output: output(check) };
}
