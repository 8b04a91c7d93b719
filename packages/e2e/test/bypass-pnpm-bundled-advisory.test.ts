/**
 * A known-malicious package bundled inside another, on pnpm (round 45, ninth wave N3). `carrier@1.0.0`, validly
 * signed, ships `node_modules/listed-lib` 1.0.0 in its tarball (`bundleDependencies`); an OSV record lists
 * `listed-lib@1.0.0`. npm and Yarn refused it (KNOWN_MALICIOUS); pnpm 10.34.8, 11.28.10 and 12.24.0 installed it (exit
 * 0) and `check` on that tree said exit 0: pnpm's lockfile does not list bundled copies. Now core reads a bundling
 * registry package's bundled copies from its tarball (the one the lockfile pins) whatever the lockfile lists, and
 * looks them up in the advisories: every pnpm install, fresh and frozen, and `check`, exit 1 KNOWN_MALICIOUS naming
 * the bundled copy and its bundler, nothing linked.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, output, pnpmDrivers, ran } from '../src/corpus/drivers.js';
import { portcullis, type Project } from '../src/project.js';

let registry: TestRegistry;
beforeAll(async () => {
  const marker = "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, 'bundled-listed-lib.ran'), '')";
  const bundled = JSON.stringify({ name: 'listed-lib', version: '1.0.0', scripts: { postinstall: `node -e "${marker}"` } });
  registry = await startRegistry({
    packages: [
      cleanPackage('carrier', '1.0.0', { dependencies: { 'listed-lib': '1.0.0' }, bundleDependencies: ['listed-lib'], files: { 'node_modules/listed-lib/package.json': bundled, 'node_modules/listed-lib/index.js': '' } }),
      cleanPackage('clean-carrier', '1.0.0', { dependencies: { 'other-lib': '1.0.0' }, bundleDependencies: ['other-lib'], files: { 'node_modules/other-lib/package.json': JSON.stringify({ name: 'other-lib', version: '1.0.0' }) } }),
      cleanPackage('listed-lib', '1.0.0'),
      cleanPackage('other-lib', '1.0.0'),
    ],
  });
}, 60_000);
afterAll(async () => {
  await registry?.close();
});

const policy = () => ({ registries: { [registry.url]: { keys: registry.keys.keys } }, advisories: { osv: ['./security/osv'] } });

function writeAdvisory(project: Project): void {
  const folder = join(project.dir, 'security', 'osv', 'malicious', 'npm', 'listed-lib');
  mkdirSync(folder, { recursive: true });
  const record = { schema_version: '1.5.0', id: 'MAL-2026-0001', modified: '2026-11-30T00:00:00Z', published: '2026-11-30T00:00:00Z', summary: 'Malicious code in listed-lib (npm)', affected: [{ package: { ecosystem: 'npm', name: 'listed-lib' }, versions: ['1.0.0'] }] };
  writeFileSync(join(folder, 'MAL-2026-0001.json'), JSON.stringify(record));
}

const linked = (p: Project) => existsSync(join(p.dir, 'node_modules', 'carrier'));

describe.each(pnpmDrivers().map((d) => [d.label, d] as const))('%s: carrier bundles a known-malicious listed-lib', (_label, driver) => {
  it('fresh and frozen installs refuse it (KNOWN_MALICIOUS naming the bundled copy), nothing linked; check on the tree exit 1; a clean bundle installs', async () => {
    const project = await driver.project(registry.url, { carrier: '1.0.0' }, policy());
    writeAdvisory(project);
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toMatch(/listed-lib@1\.0\.0[^\n]*bundled in carrier@1\.0\.0|KNOWN_MALICIOUS[^\n]*listed-lib/);
    expect(output(fresh)).toContain('MAL-2026-0001');
    expect(linked(project)).toBe(false);
    expect(ran(project)).toEqual([]);

    // The tree as a plain pnpm (no hook) installs it: check must refuse it.
    const plain = await driver.plain(project, ['install', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(plain.code, output(plain)).toBe(0);
    expect(linked(project)).toBe(true);
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout || '{"findings":[]}') as { findings: Array<{ package: string; version: string; code: string; message: string }> }).findings;
    expect(findings.map((f) => [f.package, f.version, f.code]), output(check)).toEqual([['listed-lib', '1.0.0', 'KNOWN_MALICIOUS']]);
    expect(findings[0]!.message).toContain('bundled in carrier@1.0.0');
    expect(check.code).toBe(1);

    freshCheckout(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(output(frozen)).toContain('MAL-2026-0001');
    expect(linked(project)).toBe(false);
    expect(ran(project)).toEqual([]);

    const clean = await driver.project(registry.url, { 'clean-carrier': '1.0.0' }, policy());
    writeAdvisory(clean);
    const ok = await driver.install(clean);
    expect(ok.code, output(ok)).toBe(0);
    const okCheck = await portcullis(clean, ['check']);
    expect(okCheck.code, output(okCheck)).toBe(0);
  });
});
