/**
 * Bypass corpus B17/B18 (issue 13): an allowed package installed from a tarball that is not the registry's own
 * for that name and version. A pull request points `url-good`'s lockfile entry at another host's tarball or at
 * another package's tarball on the same registry (Yarn: `__archiveUrl`, with plain Yarn recomputing the
 * checksum; npm: `resolved` + `integrity`; pnpm: `tarball` + `integrity`); a mirror changes only `dist.tarball`.
 * Each must be refused (non-zero, nothing run) by the guarded install and by `portcullis check`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, markerFileName, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, pnpmDrivers, ran, yarnDrivers, type Driver } from '../src/corpus/drivers.js';
import { EVIL, GOOD, pointLockfileAt, recomputeYarnChecksums, startForeignHost, startTarballMirror, substituteMarkers, tarballUrlPackages, type ForeignHost, type TarballMirror } from '../src/corpus/tarball-urls.js';
import { portcullis, type RunResult } from '../src/project.js';

let registry: TestRegistry;
let foreign: ForeignHost;
let mirror: TarballMirror;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: tarballUrlPackages });
  [foreign, mirror] = await Promise.all([startForeignHost(), startTarballMirror(registry.url)]);
});
afterAll(async () => {
  await Promise.all([registry?.close(), foreign?.close(), mirror?.close()]);
  if (results.length > 0) process.stdout.write(`\nbypass tarball URL results:\n${results.join('\n')}\n`);
});

const policy = (registryUrl: string) => ({ scripts: { allow: [GOOD.name] }, registries: { [registryUrl]: { keys: registry.keys.keys } } });
const goodMarker = markerFileName(GOOD.name, GOOD.version);
const codesIn = (r: RunResult) => [...new Set(output(r).match(/UNSIGNED_SOURCE|UNTRUSTED_REGISTRY|BAD_SIGNATURE|METADATA_UNAVAILABLE|EINTEGRITY|ERR_PNPM_[A-Z_]+|YN00(18|35|82)/g) ?? [])].join(' ') || '-';
function record(driver: Driver, label: string, r: RunResult, markers: string[]): void {
  results.push(`${driver.label} | ${label} | exit ${r.code} | ${codesIn(r)} | ran: ${markers.join(' ') || 'nothing'}`);
}

/** The substitutes: another host (a plain file server, conventional-looking path too), another package's tarball on the registry. */
const edits = () => [
  { label: 'another host', url: `${foreign.url}files/payload-1.0.0.tgz`, integrity: foreign.integrity },
  { label: 'another host, registry-shaped path', url: `${foreign.url}npm/${GOOD.name}/-/${GOOD.name}-${GOOD.version}.tgz`, integrity: foreign.integrity },
  { label: "another package's tarball on the registry", url: `${registry.url}${EVIL.name}/-/${EVIL.name}-${EVIL.version}.tgz`, integrity: registry.integrity(EVIL.name, EVIL.version) },
];

/** npm 12 and 11 refuse URL tarballs unless allowed on the command line; the edit must be refused by Portcullis, not by npm. */
const clientOptIn = (driver: Driver) => (driver.label.startsWith('npm 12') ? ['--allow-remote=all'] : []);
const noRetries = (driver: Driver) => (driver.pm === 'yarn' || driver.label.startsWith('pnpm 12') ? [] : ['--fetch-retries=0']);

const lockfileClients = [...yarnDrivers(), npmDrivers()[1]!, pnpmDrivers()[0]!];
describe.each(lockfileClients.map((d) => [d.label, d] as const))('%s: lockfile points an allowed package at another tarball', (_label, driver) => {
  it.each([0, 1, 2])('B17 edit %i: the guarded lockfile install and portcullis check refuse it; nothing runs', async (index) => {
    const edit = edits()[index]!;
    const project = await driver.project(registry.url, { [GOOD.name]: GOOD.version }, policy(registry.url));
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    expect(ran(project)).toEqual([goodMarker]);

    pointLockfileAt(driver, project, edit.url, edit.integrity);
    if (driver.pm === 'yarn') {
      const plain = await recomputeYarnChecksums(driver, project);
      expect(plain.code, output(plain)).toBe(0);
    }
    freshCheckout(project);
    driver.coldCache(project);
    foreign.requests.length = 0;

    const check = await portcullis(project, ['check', '--format', 'json']);
    record(driver, `B17 ${edit.label}: portcullis check`, check, []);
    const r = await driver.frozen(project, [...clientOptIn(driver), ...noRetries(driver)], { YARN_HTTP_RETRY: '0' });
    record(driver, `B17 ${edit.label}: guarded install`, r, ran(project));

    expect(check.code, output(check)).toBe(1);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ package: string; code: string }> }).findings;
    expect(findings).toContainEqual(expect.objectContaining({ package: GOOD.name, code: 'UNSIGNED_SOURCE' }));
    expect(r.code, output(r)).not.toBe(0);
    expect(output(r)).toContain('UNSIGNED_SOURCE');
    expect(ran(project)).toEqual([]);
    // Nothing asked the foreign host for metadata or bytes: the lockfile does not choose where Portcullis looks.
    expect(foreign.requests).toEqual([]);
  });
});

describe.each(lockfileClients.map((d) => [d.label, d] as const))('%s: a mirror changes only dist.tarball', (_label, driver) => {
  it('B18: a faithful mirror installs; one whose packument points url-good at another tarball, or that redirects its tarball, is refused, nothing runs', async () => {
    mirror.tarballOf.clear();
    const faithful = await driver.project(mirror.url, { [GOOD.name]: GOOD.version }, policy(mirror.url));
    const ok = await driver.install(faithful);
    expect(ok.code, output(ok)).toBe(0);
    expect(ran(faithful)).toEqual([goodMarker]);

    const outcomes: Array<{ r: RunResult; markers: string[] }> = [];
    for (const [label, substitute] of [
      ["another package's tarball on the mirror", `${mirror.url}${EVIL.name}/-/${EVIL.name}-${EVIL.version}.tgz`],
      ['another host', `${foreign.url}files/payload-1.0.0.tgz`],
    ] as const) {
      mirror.tarballOf.set(`${GOOD.name}@${GOOD.version}`, substitute);
      try {
        const project = await driver.project(mirror.url, { [GOOD.name]: GOOD.version }, policy(mirror.url));
        const r = await driver.install(project, noRetries(driver), { YARN_HTTP_RETRY: '0' });
        record(driver, `B18 mirror dist.tarball → ${label}`, r, ran(project));
        outcomes.push({ r, markers: ran(project) });
      } finally {
        mirror.tarballOf.clear();
      }
    }
    for (const { r, markers } of outcomes) {
      expect(r.code, output(r)).not.toBe(0);
      // pnpm may also refuse the bytes itself: they do not match the packument's (unchanged) integrity.
      expect(output(r)).toMatch(driver.pm === 'pnpm' ? /UNSIGNED_SOURCE|ERR_PNPM_TARBALL_INTEGRITY/ : /UNSIGNED_SOURCE/);
      expect(markers.filter((m) => substituteMarkers.includes(m) || m === goodMarker)).toEqual([]);
    }

    // The packument is honest, but the mirror redirects the conventional tarball URL to another package's tarball:
    // the bytes Yarn receives for the locator are checked, wherever the request ended up.
    mirror.redirects.set(`/${GOOD.name}/-/${GOOD.name}-${GOOD.version}.tgz`, `${mirror.url}${EVIL.name}/-/${EVIL.name}-${EVIL.version}.tgz`);
    try {
      const project = await driver.project(mirror.url, { [GOOD.name]: GOOD.version }, policy(mirror.url));
      const r = await driver.install(project, noRetries(driver), { YARN_HTTP_RETRY: '0' });
      record(driver, 'B18 mirror redirects the conventional tarball URL → another package\'s tarball', r, ran(project));
      expect(r.code, output(r)).not.toBe(0);
      // Yarn compares no bytes itself: the plugin does; npm and pnpm compare them with the signed integrity they recorded.
      expect(output(r)).toMatch(driver.pm === 'yarn' ? /BAD_SIGNATURE/ : /EINTEGRITY|ERR_PNPM_TARBALL_INTEGRITY/);
      expect(ran(project)).toEqual([]);
    } finally {
      mirror.redirects.clear();
    }
  });
});

describe.each([npmDrivers()[1]!, pnpmDrivers()[0]!].map((d) => [d.label, d] as const))('%s: URL tricks in the lockfile, through portcullis check', (_label, driver) => {
  it('B17b: only exactly the registry\'s tarball of url-good@1.0.0 is the registry; query, fragment, prefix, appended path, encoded slashes, user-info are remote tarballs', async () => {
    const project = await driver.project(registry.url, { [GOOD.name]: GOOD.version }, policy(registry.url));
    const first = await driver.install(project);
    expect(first.code, output(first)).toBe(0);
    const lockfile = join(project.dir, driver.lockfile);
    const original = readFileSync(lockfile, 'utf8');
    const reg = registry.url;
    const conventional = `${GOOD.name}/-/${GOOD.name}-${GOOD.version}.tgz`;
    const evilTarball = `${EVIL.name}/-/${EVIL.name}-${EVIL.version}.tgz`;
    const foreignHost = foreign.url.replace(/^http:\/\//, '');
    const remote = [
      `${reg}${conventional}?x=1`,
      `${reg}${conventional}#x`,
      `${reg}${evilTarball}?/${conventional}`,
      `${reg}${evilTarball}#/${conventional}`,
      `${reg}prefix/${conventional}`,
      `${reg}${evilTarball}/${conventional}`,
      `${reg}${evilTarball}%2f..%2f..%2f${conventional}`,
      `http://user:secret@${foreignHost}npm/${conventional}`,
      `http://${reg.replace(/^http:\/\//, '').replace(/\/$/, '')}@${foreignHost}${conventional}`,
    ];
    // These resolve (`..`, `%2e%2e`, user-info on the registry itself) to exactly the registry's own tarball.
    const registryOwn = [`${reg}${EVIL.name}/-/../../${conventional}`, `${reg}${EVIL.name}/%2e%2e/${conventional}`, reg.replace('http://', 'http://u:p@') + conventional];
    foreign.requests.length = 0;
    const outcomes: Array<{ url: string; code: number; codes: string[]; text: string }> = [];
    for (const url of [...remote, ...registryOwn]) {
      writeFileSync(lockfile, original);
      const own = registryOwn.includes(url);
      pointLockfileAt(driver, project, url, own ? registry.integrity(GOOD.name, GOOD.version) : registry.integrity(EVIL.name, EVIL.version));
      const check = await portcullis(project, ['check', '--format', 'json']);
      record(driver, `B17b ${url}: portcullis check`, check, []);
      const findings = check.code === 0 || check.code === 1 ? (JSON.parse(check.stdout) as { findings: Array<{ package: string; code: string }> }).findings : [];
      outcomes.push({ url, code: check.code, codes: findings.filter((f) => f.package === GOOD.name).map((f) => f.code), text: output(check) });
    }
    writeFileSync(lockfile, original);
    for (const { url, code, codes, text } of outcomes) {
      if (registryOwn.includes(url)) expect({ url, code, codes }, text).toEqual({ url, code: 0, codes: [] });
      else expect({ url, code, codes }, text).toEqual({ url, code: 1, codes: ['UNSIGNED_SOURCE'] });
    }
    expect(foreign.requests).toEqual([]);
  });
});
