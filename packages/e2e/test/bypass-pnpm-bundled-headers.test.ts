/**
 * Round 46, fourteenth wave: a bundled copy that pnpm unpacks and core's tarball reader did not see. `advisories.osv`
 * lists `listed-lib@1.0.0`; each carrier (validly signed, `bundleDependencies: ["listed-lib"]`) ships the copy written
 * byte by byte (`packRawTarball`):
 * - `dotfirst-carrier`: the copy's entries under `./node_modules/listed-lib/…` (the first segment spelt `.`). pnpm strips
 *   the first segment as written, so the copy lands in `node_modules/listed-lib`; core dropped the `.` first, then
 *   stripped `node_modules` as the first segment and saw `listed-lib/package.json`.
 * - `paxutf-carrier`: the copy's `package.json` named by a pax `path` record that follows a `comment` record of
 *   two-byte characters. A pax record's length counts bytes (pnpm and node-tar count bytes); core counted characters,
 *   so the `path` record was read as the tail of the comment and the entry as `README`.
 * - `gnuprefix-carrier`, `v7prefix-carrier` (P3): the copy's headers are old GNU (`ustar  `) or v7 (no magic) with the
 *   bytes `x` where a ustar header keeps its prefix. pnpm 12 ignores them and unpacks the copy into `node_modules/listed-lib`
 *   (exit 0, `check` exit 0); core, like pnpm 10 and 11, read `x/package/node_modules/…`. The unpackers disagree, so such
 *   a tarball is not read: undecided (exit 3), nothing linked.
 * - `casefold-carrier` (P5): the copy under `Node_Modules/listed-lib/Package.json`. pnpm unpacks it as written; on a
 *   case-insensitive file system (macOS, Windows) `require('listed-lib')` from the carrier finds it. Core matched
 *   `node_modules` and `package.json` in lower case only (exit 0, `check` exit 0); now in any case.
 */
import { existsSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { cleanPackage, packRawTarball, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, output, pnpmDrivers } from '../src/corpus/drivers.js';
import { advisoryPolicy, writeListedLibAdvisory } from '../src/bundled-advisory.js';
import { portcullis } from '../src/project.js';

const manifest = { name: '', version: '1.0.0', dependencies: { 'listed-lib': '1.0.0' }, bundleDependencies: ['listed-lib'] };
const copy = JSON.stringify({ name: 'listed-lib', version: '1.0.0' });

function carrier(name: string, entries: Parameters<typeof packRawTarball>[0]) {
  const tarball = packRawTarball([{ path: 'package/package.json', content: JSON.stringify({ ...manifest, name }) }, { path: 'package/index.js', content: "module.exports = require('listed-lib');" }, ...entries]);
  return cleanPackage(name, '1.0.0', { dependencies: manifest.dependencies, bundleDependencies: manifest.bundleDependencies, tarball });
}

/** One pax record, its length counted in bytes as the format says. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

function paxUtf() {
  const path = paxRecord('path', 'package/node_modules/listed-lib/package.json');
  // As many two-byte characters as the path record has bytes: counted in characters, the comment swallows it.
  const comment = paxRecord('comment', 'é'.repeat(Buffer.byteLength(path)));
  return carrier('paxutf-carrier', [
    { path: 'package/PaxHeader/README', type: 'x', content: comment + path },
    { path: 'package/README', content: copy },
    { path: 'package/node_modules/listed-lib/index.js', content: "module.exports = 'the bundled copy';" },
  ]);
}

/** A carrier whose copy's headers carry `magic` (null: none, v7) and the bytes `x` in the ustar prefix field. */
function prefixed(name: string, magic: string | null) {
  const tar = gunzipSync(
    packRawTarball([
      { path: 'package/package.json', content: JSON.stringify({ ...manifest, name }) },
      { path: 'package/node_modules/listed-lib/package.json', content: copy },
    ]),
  );
  const header = tar.subarray(512 * 2, 512 * 3);
  if (magic === null) header.fill(0, 257, 265);
  else header.write(magic, 257, 8, 'latin1');
  header.write('x', 345, 155, 'utf8');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return cleanPackage(name, '1.0.0', { dependencies: manifest.dependencies, bundleDependencies: manifest.bundleDependencies, tarball: gzipSync(tar) });
}

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      carrier('dotfirst-carrier', [
        { path: './node_modules/listed-lib/package.json', content: copy },
        { path: './node_modules/listed-lib/index.js', content: "module.exports = 'the bundled copy';" },
      ]),
      paxUtf(),
      prefixed('gnuprefix-carrier', 'ustar  \0'),
      prefixed('v7prefix-carrier', null),
      carrier('casefold-carrier', [
        { path: 'package/Node_Modules/listed-lib/Package.json', content: copy },
        { path: 'package/Node_Modules/listed-lib/index.js', content: "module.exports = 'the bundled copy';" },
      ]),
      cleanPackage('listed-lib', '1.0.0'),
    ],
  });
}, 60_000);
afterAll(async () => {
  await registry?.close();
});

const policy = () => advisoryPolicy(registry);

describe.each(pnpmDrivers().map((d) => [d.label, d] as const))('%s: a bundled copy core did not see', (_label, driver) => {
  it.each(['dotfirst-carrier', 'paxutf-carrier'])('%s: refused (KNOWN_MALICIOUS naming the copy), nothing linked; check on a plain install exit 1', async (name) => {
    const project = await driver.project(registry.url, { [name]: '1.0.0' }, policy());
    writeListedLibAdvisory(project);
    const carried = () => existsSync(join(project.dir, 'node_modules', name));
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toMatch(new RegExp(`listed-lib@1\\.0\\.0 \\(bundled in ${name}@1\\.0\\.0\\)[^\\n]*MAL-2026-0001`));
    expect(carried()).toBe(false);

    const plain = await driver.plain(project, ['install', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(plain.code, output(plain)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', name, 'node_modules', 'listed-lib', 'package.json'))).toBe(true);
    const check = await portcullis(project, ['check', '--format', 'json']);
    const findings = (JSON.parse(check.stdout || '{"findings":[]}') as { findings: Array<{ package: string; code: string; message: string }> }).findings;
    expect(findings.map((f) => [f.package, f.code, f.message.match(/bundled in [^)]+/)?.[0]]), output(check)).toEqual([['listed-lib', 'KNOWN_MALICIOUS', `bundled in ${name}@1.0.0`]]);
    expect(check.code).toBe(1);

    freshCheckout(project);
    const frozen = await driver.frozen(project);
    expect(frozen.code, output(frozen)).not.toBe(0);
    expect(output(frozen)).toContain('MAL-2026-0001');
    expect(carried()).toBe(false);
  });
});

describe.each(pnpmDrivers().map((d) => [d.label, d] as const))('%s: a copy behind prefix bytes the unpackers read differently', (label, driver) => {
  it.each(['gnuprefix-carrier', 'v7prefix-carrier'])('%s: undecided (METADATA_UNAVAILABLE naming the carrier), nothing linked; check exit 3', async (name) => {
    const project = await driver.project(registry.url, { [name]: '1.0.0' }, policy());
    writeListedLibAdvisory(project);
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toMatch(new RegExp(`${name}@1\\.0\\.0[^\\n]*not POSIX ustar`));
    // Running again does not decide it: the fix says to remove the package or move to another version.
    expect(output(fresh)).toContain(`fix: remove ${name} from your dependencies or move to another version of it`);
    expect(existsSync(join(project.dir, 'node_modules', name))).toBe(false);

    const plain = await driver.plain(project, ['install', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(plain.code, output(plain)).toBe(0);
    // pnpm 12 unpacks the copy where require finds it; pnpm 10 and 11 under x/package/.
    expect(existsSync(join(project.dir, 'node_modules', name, 'node_modules', 'listed-lib', 'package.json'))).toBe(label.startsWith('pnpm 12'));
    const check = await portcullis(project, ['check']);
    expect(check.code, output(check)).toBe(3);
    expect(output(check)).toMatch(new RegExp(`METADATA_UNAVAILABLE[^\\n]*${name}|${name}[^\\n]*not POSIX ustar`));
    expect(output(check)).toContain(`remove ${name} from your dependencies or move to another version of it`);
  });
});

describe.each(pnpmDrivers().map((d) => [d.label, d] as const))('%s: a copy under Node_Modules (P5)', (_label, driver) => {
  it('refused (KNOWN_MALICIOUS naming the copy), nothing linked; check on a plain install exit 1', async () => {
    const project = await driver.project(registry.url, { 'casefold-carrier': '1.0.0' }, policy());
    writeListedLibAdvisory(project);
    const fresh = await driver.install(project);
    expect(fresh.code, output(fresh)).not.toBe(0);
    expect(output(fresh)).toMatch(/listed-lib@1\.0\.0 \(bundled in casefold-carrier@1\.0\.0\)[^\n]*MAL-2026-0001/);
    expect(existsSync(join(project.dir, 'node_modules', 'casefold-carrier'))).toBe(false);

    const plain = await driver.plain(project, ['install', '--ignore-pnpmfile', '--ignore-scripts']);
    expect(plain.code, output(plain)).toBe(0);
    expect(existsSync(join(project.dir, 'node_modules', 'casefold-carrier', 'Node_Modules', 'listed-lib', 'Package.json'))).toBe(true);
    const check = await portcullis(project, ['check']);
    expect(check.code, output(check)).toBe(1);
    expect(output(check)).toMatch(/listed-lib@1\.0\.0 \(bundled in casefold-carrier@1\.0\.0\)/);
  });
});
