/**
 * A known-malicious package bundled inside another, on pnpm (round 45, ninth wave N3). `carrier@1.0.0`, validly
 * signed, ships `node_modules/listed-lib` 1.0.0 in its tarball (`bundleDependencies`); an OSV record lists
 * `listed-lib@1.0.0`. npm and Yarn refused it (KNOWN_MALICIOUS); pnpm 10.34.8, 11.28.10 and 12.24.0 installed it (exit
 * 0) and `check` on that tree said exit 0: pnpm's lockfile does not list bundled copies. Now core reads a bundling
 * registry package's bundled copies from its tarball (the one the lockfile pins) whatever the lockfile lists, and
 * looks them up in the advisories: every pnpm install, fresh and frozen, and `check`, exit 1 KNOWN_MALICIOUS naming
 * the bundled copy and its bundler, nothing linked.
 *
 * Round 46 (twelfth wave, N3e): the same copy under a path spelt `package/./node_modules/listed-lib/…` or
 * `package//node_modules/listed-lib/…` (an attacker's tarball, written byte by byte). pnpm 10.34.8, 11.28.10 and 12.24.0
 * unpack both to `node_modules/listed-lib` (installed, `require`-able), but core's reader matched the path as spelt:
 * exit 0, `check` exit 0. Now the reader takes the path an unpacker writes. N3f: the copy's entries hidden as the bytes
 * of a `README` whose pax header says `size=0` (pnpm and npm unpack by that size, so they find the copy; core read the
 * header's size and skipped it): exit 0, `check` exit 0; now such a tarball cannot be read safely, exit 3 (fail closed).
 * N3g: the copy's `package.json` named by a GNU long name (`L`) followed by a pax header without a path (pnpm keeps the
 * long name; core dropped it and read the entry as `README`): exit 0, `check` exit 0; now read as pnpm reads it.
 */
import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { cleanPackage, packRawTarball, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, output, pnpmDrivers, ran } from '../src/corpus/drivers.js';
import { advisoryPolicy, writeListedLibAdvisory } from '../src/bundled-advisory.js';
import { portcullis, type Project } from '../src/project.js';

/** A carrier whose tarball spells its bundled listed-lib's folder `<prefix>node_modules/listed-lib`. */
function spelt(name: string, prefix: string) {
  const manifest = { name, version: '1.0.0', dependencies: { 'listed-lib': '1.0.0' }, bundleDependencies: ['listed-lib'] };
  const tarball = packRawTarball([
    { path: 'package/package.json', content: JSON.stringify(manifest) },
    { path: 'package/index.js', content: "module.exports = require('listed-lib');" },
    { path: `${prefix}node_modules/listed-lib/package.json`, content: JSON.stringify({ name: 'listed-lib', version: '1.0.0' }) },
    { path: `${prefix}node_modules/listed-lib/index.js`, content: "module.exports = 'the bundled copy';" },
  ]);
  return cleanPackage(name, '1.0.0', { dependencies: manifest.dependencies, bundleDependencies: manifest.bundleDependencies, tarball });
}

/** A carrier whose bundled listed-lib is the bytes of a README that a pax header says is empty. */
function padded(name: string) {
  const manifest = { name, version: '1.0.0', dependencies: { 'listed-lib': '1.0.0' }, bundleDependencies: ['listed-lib'] };
  const copy = gunzipSync(packRawTarball([{ path: 'package/node_modules/listed-lib/package.json', content: JSON.stringify({ name: 'listed-lib', version: '1.0.0' }) }])).subarray(0, -1024);
  const tarball = packRawTarball([
    { path: 'package/package.json', content: JSON.stringify(manifest) },
    { path: 'package/PaxHeader/README', type: 'x', content: '9 size=0\n' },
    { path: 'package/README', content: copy },
  ]);
  return cleanPackage(name, '1.0.0', { dependencies: manifest.dependencies, bundleDependencies: manifest.bundleDependencies, tarball });
}

/** A carrier whose bundled listed-lib's package.json is named by a GNU long name, then a pax header without a path. */
function longNamed(name: string) {
  const manifest = { name, version: '1.0.0', dependencies: { 'listed-lib': '1.0.0' }, bundleDependencies: ['listed-lib'] };
  const tarball = packRawTarball([
    { path: 'package/package.json', content: JSON.stringify(manifest) },
    { path: '././@LongLink', type: 'L', content: 'package/node_modules/listed-lib/package.json' },
    { path: 'package/PaxHeader/README', type: 'x', content: '12 comment=\n' },
    { path: 'package/README', content: JSON.stringify({ name: 'listed-lib', version: '1.0.0' }) },
  ]);
  return cleanPackage(name, '1.0.0', { dependencies: manifest.dependencies, bundleDependencies: manifest.bundleDependencies, tarball });
}

let registry: TestRegistry;
beforeAll(async () => {
  const marker = "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, 'bundled-listed-lib.ran'), '')";
  const bundled = JSON.stringify({ name: 'listed-lib', version: '1.0.0', scripts: { postinstall: `node -e "${marker}"` } });
  registry = await startRegistry({
    packages: [
      cleanPackage('carrier', '1.0.0', { dependencies: { 'listed-lib': '1.0.0' }, bundleDependencies: ['listed-lib'], files: { 'node_modules/listed-lib/package.json': bundled, 'node_modules/listed-lib/index.js': '' } }),
      cleanPackage('clean-carrier', '1.0.0', { dependencies: { 'other-lib': '1.0.0' }, bundleDependencies: ['other-lib'], files: { 'node_modules/other-lib/package.json': JSON.stringify({ name: 'other-lib', version: '1.0.0' }) } }),
      spelt('dotted-carrier', 'package/./'),
      spelt('slashed-carrier', 'package//'),
      padded('padded-carrier'),
      longNamed('longnamed-carrier'),
      cleanPackage('listed-lib', '1.0.0'),
      cleanPackage('other-lib', '1.0.0'),
    ],
  });
}, 60_000);
afterAll(async () => {
  await registry?.close();
});

const policy = () => advisoryPolicy(registry);

const linked = (p: Project) => existsSync(join(p.dir, 'node_modules', 'carrier'));

describe.each(pnpmDrivers().map((d) => [d.label, d] as const))('%s: carrier bundles a known-malicious listed-lib', (_label, driver) => {
  it('fresh and frozen installs refuse it (KNOWN_MALICIOUS naming the bundled copy), nothing linked; check on the tree exit 1; a clean bundle installs', async () => {
    const project = await driver.project(registry.url, { carrier: '1.0.0' }, policy());
    writeListedLibAdvisory(project);
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
    writeListedLibAdvisory(clean);
    const ok = await driver.install(clean);
    expect(ok.code, output(ok)).toBe(0);
    const okCheck = await portcullis(clean, ['check']);
    expect(okCheck.code, output(okCheck)).toBe(0);
  });

  it('a copy whose path is spelt with `./` or `//`, or named by a long name before a pathless pax header, is read as pnpm unpacks it (N3e, N3g): refused, nothing linked; check exit 1', async () => {
    const project = await driver.project(registry.url, { 'dotted-carrier': '1.0.0', 'slashed-carrier': '1.0.0', 'longnamed-carrier': '1.0.0' }, policy());
    writeListedLibAdvisory(project);
    const carriers = () => ['dotted-carrier', 'slashed-carrier', 'longnamed-carrier'].filter((name) => existsSync(join(project.dir, 'node_modules', name)));
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toMatch(/listed-lib@1\.0\.0 \(bundled in (dotted|slashed|longnamed)-carrier@1\.0\.0\)[^\n]*MAL-2026-0001/);
    expect(carriers()).toEqual([]);

    const plain = await driver.plain(project, ['install', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(plain.code, output(plain)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', 'dotted-carrier', 'node_modules', 'listed-lib', 'package.json'))).toBe(true);
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout || '{"findings":[]}') as { findings: Array<{ package: string; code: string; message: string }> }).findings;
    expect(findings.map((f) => [f.package, f.code, f.message.match(/bundled in [^)]+/)?.[0]]).sort(), output(check)).toEqual([
      ['listed-lib', 'KNOWN_MALICIOUS', 'bundled in dotted-carrier@1.0.0'],
      ['listed-lib', 'KNOWN_MALICIOUS', 'bundled in longnamed-carrier@1.0.0'],
      ['listed-lib', 'KNOWN_MALICIOUS', 'bundled in slashed-carrier@1.0.0'],
    ]);
    expect(check.code).toBe(1);

    freshCheckout(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(output(frozen)).toContain('MAL-2026-0001');
    expect(carriers()).toEqual([]);
  });

  it('a copy hidden behind a pax size the header does not give (N3f): the tarball cannot be read safely, exit 3 naming the bundler; nothing linked', async () => {
    const project = await driver.project(registry.url, { 'padded-carrier': '1.0.0' }, policy());
    writeListedLibAdvisory(project);
    const paddedLinked = () => existsSync(join(project.dir, 'node_modules', 'padded-carrier'));
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toMatch(/padded-carrier@1\.0\.0[^\n]*another size/);
    expect(paddedLinked()).toBe(false);

    const plain = await driver.plain(project, ['install', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(plain.code, output(plain)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', 'padded-carrier', 'node_modules', 'listed-lib', 'package.json'))).toBe(true);
    const check = await portcullis(project, ['check']);
    expect(check.code, output(check)).toBe(3);
    expect(output(check)).toMatch(/padded-carrier@1\.0\.0[^\n]*METADATA_UNAVAILABLE|METADATA_UNAVAILABLE[^\n]*padded-carrier/);

    freshCheckout(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(paddedLinked()).toBe(false);
  });
});
