/**
 * Script drift (issue 18.2) end to end: `drift-lib@^1.0.0` is approved by range; `portcullis approve` records what
 * 1.0.0 runs (scripts.fingerprints). 1.0.1 runs the same postinstall and builds; 1.1.0 changes its postinstall and is
 * refused with SCRIPT_CHANGED — through pnpm 10/11/12, Yarn 4.18/4.0, npm 10/11/12 through portcullis-npm, fresh and
 * frozen, and by `portcullis check` — before its postinstall runs. Approving 1.1.0 makes it build.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, withStablePostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDrivers, freshCheckout, output, ran, type Driver } from '../src/corpus/drivers.js';
import { createProject, install, portcullis, type Project, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({
    packages: [withStablePostinstall('drift-lib', '1.0.0', 'a'), withStablePostinstall('drift-lib', '1.0.1', 'a'), withStablePostinstall('drift-lib', '1.1.0', 'b')],
  });
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\ndrift results:\n${results.join('\n')}\n`);
});

const policy = () => ({ scripts: { allow: ['drift-lib@^1.0.0'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
const OLD_COMMAND = withStablePostinstall('drift-lib', '1.0.0', 'a').scripts!.postinstall!;
const NEW_COMMAND = withStablePostinstall('drift-lib', '1.1.0', 'b').scripts!.postinstall!;
const codesIn = (r: RunResult) => [...new Set(output(r).match(/SCRIPT_CHANGED|SCRIPT_NOT_ALLOWED|METADATA_UNAVAILABLE|ERR_PNPM_[A-Z_]+|YN0\d{3}/g) ?? [])].sort().join(' ') || '-';

function depend(project: Project, version: string): void {
  const file = join(project.dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { dependencies: Record<string, string> };
  manifest.dependencies['drift-lib'] = version;
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

type PolicyDoc = { scripts: { allow: string[]; fingerprints?: Record<string, Record<string, string>> } };
const readPolicy = (project: Project) => JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')) as PolicyDoc;

describe('portcullis check', () => {
  it('a range-approved version whose postinstall changed is SCRIPT_CHANGED with old and new command lines; approving it passes', async () => {
    const project = createProject('npm', registry.url, { 'drift-lib': '1.0.0' }, { policy: policy() });
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const approve = await portcullis(project, ['approve', 'drift-lib']);
    expect(approve.code, output(approve)).toBe(0);
    expect(approve.stdout).toContain('+ scripts.fingerprints["drift-lib@1.0.0"]: postinstall: ');
    expect(readPolicy(project).scripts.fingerprints).toEqual({ 'drift-lib@1.0.0': { postinstall: OLD_COMMAND } });

    depend(project, '1.0.1');
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const same = await portcullis(project, ['check']);
    expect(same.code, output(same)).toBe(0);

    depend(project, '1.1.0');
    expect((await install(npm(11), 'npm', project, ['--ignore-scripts'])).code).toBe(0);
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ package: string; version: string; code: string; rule: string; message: string; fix: string }> }).findings;
    expect(findings.map((f) => [f.package, f.version, f.code, f.rule]), output(check)).toEqual([['drift-lib', '1.1.0', 'SCRIPT_CHANGED', 'scripts']]);
    expect(findings[0]!.message).toContain('drift-lib@1.1.0 runs different install-time code (postinstall) than drift-lib@1.0.0');
    expect(findings[0]!.message).toContain(`was: postinstall: ${JSON.stringify(OLD_COMMAND)}`);
    expect(findings[0]!.message).toContain(`now: postinstall: ${JSON.stringify(NEW_COMMAND)}`);
    expect(findings[0]!.fix).toBe('portcullis approve drift-lib@1.1.0');
    expect(check.code).toBe(1);
    const explain = await portcullis(project, ['explain', 'drift-lib']);
    // explain: decided by the range entry and the recorded fingerprint, not "no entry covers it".
    expect(explain.stdout).toMatch(/✗ scripts: runs postinstall at install time[^\n]*\n\s+decided by: scripts\.allow: drift-lib@\^1\.0\.0 [^\n]*; scripts\.fingerprints: drift-lib@1\.0\.0 /);
    expect(explain.stdout).toContain('SCRIPT_CHANGED: drift-lib@1.1.0 runs different install-time code');
    expect(explain.code).toBe(1);

    const reapprove = await portcullis(project, ['approve', 'drift-lib']);
    expect(reapprove.code, output(reapprove)).toBe(0);
    const ok = await portcullis(project, ['check']);
    expect(ok.code, output(ok)).toBe(0);
  });
});

describe.each(allDrivers().map((d) => [d.label, d] as const))('%s', (_label, driver: Driver) => {
  // CI=true makes pnpm's install frozen by default: a changed package.json must resolve anew. portcullis-npm install after
  // a version change in package.json leaves the old copy in node_modules ("up to date"; reported apart), so npm starts clean.
  const resolve = (project: Project) => {
    if (driver.pm === 'npm') rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    return driver.install(project, driver.pm === 'pnpm' ? ['--no-frozen-lockfile'] : []);
  };
  const approve = (project: Project) => (driver.pm === 'yarn' ? driver.plain(project, ['portcullis', 'approve', 'drift-lib']) : portcullis(project, ['approve', 'drift-lib']));

  it('refuses a range-approved version whose postinstall changed (fresh and frozen) before it runs; re-approving builds it', async () => {
    const project = await driver.project(registry.url, { 'drift-lib': '1.0.0' }, policy());
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    expect(ran(project)).toEqual(['drift-lib@1.0.0.ran']);
    const approved = await approve(project);
    expect(approved.code, output(approved)).toBe(0);
    expect(readPolicy(project).scripts.fingerprints).toEqual({ 'drift-lib@1.0.0': { postinstall: OLD_COMMAND } });
    const approvedPolicy = readFileSync(join(project.dir, 'portcullis.json'), 'utf8');

    // The same postinstall in the next version: the range approval still lets it build.
    depend(project, '1.0.1');
    const same = await resolve(project);
    results.push(`${driver.label} | same fresh | exit ${same.code} | ${codesIn(same)} | ran: ${ran(project).join(' ')}`);
    expect(same.code, output(same)).toBe(0);
    expect(ran(project)).toContain('drift-lib@1.0.1.ran');

    depend(project, '1.1.0');
    const fresh = await resolve(project);
    results.push(`${driver.label} | changed fresh | exit ${fresh.code} | ${codesIn(fresh)} | ran: ${ran(project).join(' ')}`);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toContain('SCRIPT_CHANGED');
    expect(output(fresh)).toContain('drift-lib@1.1.0');
    expect(output(fresh)).toContain('postinstall-a');
    expect(output(fresh)).toContain('postinstall-b');
    expect(ran(project)).not.toContain('drift-lib@1.1.0.ran');

    // A lockfile with 1.1.0 made under an old policy (no fingerprints), installed again from scratch now.
    const old = readPolicy(project);
    delete old.scripts.fingerprints;
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(old));
    const unrecorded = await resolve(project);
    expect(unrecorded.code, output(unrecorded)).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), approvedPolicy);
    freshCheckout(project);
    driver.coldCache(project);
    const frozen = await driver.frozen(project);
    results.push(`${driver.label} | changed frozen | exit ${frozen.code} | ${codesIn(frozen)} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(output(frozen)).toContain('SCRIPT_CHANGED');
    expect(ran(project)).toEqual([]);

    // Re-approving records what 1.1.0 runs; now it builds.
    const reapproved = await approve(project);
    expect(reapproved.code, output(reapproved)).toBe(0);
    expect(readPolicy(project).scripts.fingerprints?.['drift-lib@1.1.0']).toEqual({ postinstall: NEW_COMMAND });
    freshCheckout(project);
    const after = await driver.frozen(project);
    results.push(`${driver.label} | re-approved frozen | exit ${after.code} | ${codesIn(after)} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(after.code, output(after)).toBe(0);
    expect(ran(project)).toEqual(['drift-lib@1.1.0.ran']);
  });
});
