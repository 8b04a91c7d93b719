/**
 * Bypass corpus B19 (issue 13.2): a pull request deletes the integrity of an allowed package from the lockfile,
 * and a mirror serves other bytes at its tarball URL. With no integrity in the lockfile, nothing says which bytes
 * get installed: Portcullis must refuse (INTEGRITY_MISSING) rather than verify the registry's own claim, and the
 * swapped tarball's postinstall must never run. Through npm 10/11/12 (`portcullis-npm ci` and `install`) and
 * pnpm 10/11/12 (a `tarball:` resolution without integrity), and `portcullis check` on each lockfile.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markerFileName, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, projectFiles, ran, type Driver } from '../src/corpus/drivers.js';
import { corpusPackages, swappedFiles, swappedMarker, swapTarget } from '../src/corpus/packages.js';
import { portcullis, type RunResult } from '../src/project.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: corpusPackages });
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\nbypass integrity results:\n${results.join('\n')}\n`);
});

const codesIn = (r: RunResult) => [...new Set(output(r).match(/INTEGRITY_MISSING|BAD_SIGNATURE|EINTEGRITY|ERR_PNPM_[A-Z_]+/g) ?? [])].join(' ') || '-';
function record(driver: Driver, label: string, r: RunResult, markers: string[]): void {
  results.push(`${driver.label} | ${label} | exit ${r.code} | ${codesIn(r)} | ran: ${markers.join(' ') || 'nothing'}`);
}

/** Removes the allowed package's integrity the way a hostile pull request would, keeping the file valid. */
function dropIntegrity(driver: Driver, lockfilePath: string): void {
  const text = readFileSync(lockfilePath, 'utf8');
  if (driver.pm === 'npm') {
    const lock = JSON.parse(text) as { packages: Record<string, { integrity?: string }> };
    const entry = lock.packages[`node_modules/${swapTarget.name}`];
    if (entry?.integrity === undefined) throw new Error(`no integrity to drop in ${lockfilePath}`);
    delete entry.integrity;
    writeFileSync(lockfilePath, `${JSON.stringify(lock, null, 2)}\n`);
    return;
  }
  // pnpm: `resolution: {integrity: …}` becomes the registry's conventional tarball URL with no integrity.
  const tarball = `${registry.url}${swapTarget.name}/-/${swapTarget.name}-${swapTarget.version}.tgz`;
  const pattern = new RegExp(`(\\n  ${swapTarget.name}@${swapTarget.version.replace(/\./g, '\\.')}:\\n    resolution: )\\{integrity: [^}]+\\}`);
  if (!pattern.test(text)) throw new Error(`no resolution to edit in ${lockfilePath}:\n${text}`);
  writeFileSync(lockfilePath, text.replace(pattern, `$1{tarball: ${tarball}}`));
}

describe.each([...npmDrivers(), ...pnpmDrivers()].map((d) => [d.label, d] as const))('%s: B19 lockfile entry without integrity', (_label, driver) => {
  it('a deleted integrity plus a swapped tarball is refused (INTEGRITY_MISSING); the swapped postinstall never runs', async () => {
    const policy = { scripts: { allow: [swapTarget.name] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
    const project = await driver.project(registry.url, { [swapTarget.name]: swapTarget.version, 'left-pad-lite': '1.1.0' }, policy);
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    expect(ran(project)).toEqual([markerFileName(swapTarget.name, swapTarget.version)]);

    const lockfile = join(project.dir, driver.lockfile);
    dropIntegrity(driver, lockfile);
    registry.swapTarball(swapTarget.name, swapTarget.version, swappedFiles);
    try {
      const check = await portcullis(project, ['check', '--format', 'json']);
      record(driver, 'B19 portcullis check', check, []);
      expect(check.code, output(check)).toBe(1);
      const findings = (JSON.parse(check.stdout) as { findings: Array<{ package: string; code: string; fix: string }> }).findings;
      expect(findings.map((f) => [f.package, f.code])).toEqual([[swapTarget.name, 'INTEGRITY_MISSING']]);

      freshCheckout(project);
      driver.coldCache(project);
      const files = projectFiles(project, driver.lockfile);
      const frozen = await driver.frozen(project);
      record(driver, 'B19 frozen install', frozen, ran(project));
      expect(frozen.code, output(frozen)).not.toBe(0);
      expect(ran(project), output(frozen)).toEqual([]);
      expect(projectFiles(project, driver.lockfile)).toEqual(files);

      // A plain install (which may re-resolve) must not run the swapped bytes either.
      freshCheckout(project);
      const again = await driver.install(project);
      record(driver, 'B19 install', again, ran(project));
      expect(ran(project), output(again)).not.toContain(swappedMarker);
      if (driver.pm === 'npm') {
        // npm keeps the entry as it is: the wrapper refuses before npm runs anything.
        expect(again.code, output(again)).not.toBe(0);
        expect(output(again)).toContain('INTEGRITY_MISSING');
      }
    } finally {
      registry.add(withPostinstall(swapTarget.name, swapTarget.version));
    }
  });
});
