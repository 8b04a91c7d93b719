import { spawnSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeNodeGyp, hasInstallScript, markerFileName, packFixture, signaturesFor, withBindingGyp, withPostinstall, withStablePostinstall, type SignatureKind } from './fixtures.js';
import { signedMessage, testKeys, type SigningKey } from './keys.js';
import { readTarball } from './tarball.js';

function tarballPackageJson(spec: Parameters<typeof packFixture>[0]): Record<string, unknown> {
  const entry = readTarball(packFixture(spec).tarball).find((e) => e.path === 'package.json')!;
  return JSON.parse(entry.content.toString('utf8')) as Record<string, unknown>;
}

describe('hasInstallScript', () => {
  it('follows npm: install hooks or a binding.gyp', () => {
    expect(hasInstallScript({ postinstall: 'x' }, [])).toBe(true);
    expect(hasInstallScript({ preinstall: 'x' }, [])).toBe(true);
    expect(hasInstallScript({ install: 'x' }, [])).toBe(true);
    expect(hasInstallScript({ prepare: 'x', test: 'y' }, ['index.js'])).toBe(false);
    expect(hasInstallScript(undefined, ['binding.gyp'])).toBe(true);
    expect(hasInstallScript(undefined, ['src/binding.gyp'])).toBe(false);
  });
});

describe('packFixture', () => {
  it('builds the packument entry and a matching tarball', () => {
    const packed = packFixture({ name: '@acme/logger', version: '2.1.0', dependencies: { 'left-pad-lite': '^1.0.0' }, bin: { logger: './bin/logger.js' } });
    expect(packed.manifest).toMatchObject({ name: '@acme/logger', version: '2.1.0', _id: '@acme/logger@2.1.0', dependencies: { 'left-pad-lite': '^1.0.0' } });
    expect(packed.manifest.hasInstallScript).toBeUndefined();
    const entries = readTarball(packed.tarball);
    expect(entries.map((e) => e.path).sort()).toEqual(['bin/logger.js', 'index.js', 'package.json']);
    expect(entries.find((e) => e.path === 'bin/logger.js')!.mode).toBe(0o755);
    expect(packed.fileCount).toBe(3);
    expect(packed.unpackedSize).toBe(entries.reduce((n, e) => n + e.content.length, 0));
  });

  it('implies install: node-gyp rebuild for a bare binding.gyp, as npm publishes it', () => {
    const packed = packFixture(withBindingGyp('native-addon', '1.0.0'));
    expect(packed.manifest.hasInstallScript).toBe(true);
    expect(packed.manifest.gypfile).toBe(true);
    expect(packed.manifest.scripts).toEqual({ install: 'node-gyp rebuild' });
    // The tarball's own package.json has no scripts: the implication is the registry's.
    expect(tarballPackageJson(withBindingGyp('native-addon', '1.0.0')).scripts).toBeUndefined();
    const gyp = readTarball(packed.tarball).find((e) => e.path === 'binding.gyp')!;
    expect(JSON.parse(gyp.content.toString()).targets[0].type).toBe('none');
  });

  it('keeps an explicit install script instead of implying node-gyp', () => {
    const packed = packFixture({ name: 'n', version: '1.0.0', scripts: { install: 'node build.js' }, files: { 'binding.gyp': '{}' } });
    expect(packed.manifest.scripts).toEqual({ install: 'node build.js' });
  });

  it('supports manifest confusion: tarball-only and metadata-only fields', () => {
    const spec = { name: 'sneaky', version: '1.0.0', tarballManifest: { scripts: { postinstall: 'node steal.js' } }, metadata: { description: 'harmless' } };
    const packed = packFixture(spec);
    expect(packed.manifest.scripts).toBeUndefined();
    expect(packed.manifest.hasInstallScript).toBeUndefined();
    expect(packed.manifest.description).toBe('harmless');
    expect(tarballPackageJson(spec).scripts).toEqual({ postinstall: 'node steal.js' });
    expect(packFixture({ ...withPostinstall('liar', '1.0.0'), metadata: { hasInstallScript: false, scripts: {} } }).manifest.hasInstallScript).toBeUndefined();
  });

  it('rejects bad names and versions', () => {
    expect(() => packFixture({ name: 'Bad Name', version: '1.0.0' })).toThrow(/invalid package name/);
    expect(() => packFixture({ name: 'ok', version: '1.0' })).toThrow(/invalid version/);
    expect(() => packFixture({ name: 'ok', version: '1.0.0', publishedAt: 'yesterday' })).toThrow(/publishedAt/);
  });

  it('is deterministic', () => {
    expect(packFixture(withPostinstall('a', '1.0.0')).integrity).toBe(packFixture(withPostinstall('a', '1.0.0')).integrity);
  });
});

describe('signaturesFor', () => {
  const integrity = 'sha512-' + Buffer.alloc(64, 1).toString('base64');
  const check = (key: SigningKey, sig: string) =>
    verify('sha256', Buffer.from(signedMessage('p', '1.0.0', integrity)), createPublicKey({ key: Buffer.from(key.record.key, 'base64'), format: 'der', type: 'spki' }), Buffer.from(sig, 'base64'));
  const cases: Array<[SignatureKind, SigningKey | undefined, boolean]> = [
    ['valid', testKeys.active, true],
    ['unknown-key', testKeys.unknown, true],
    ['expired-key', testKeys.expired, true],
    ['corrupt', testKeys.active, false],
  ];
  it.each(cases)('%s', (kind, key, valid) => {
    const sigs = signaturesFor(kind, 'p', '1.0.0', integrity)!;
    expect(sigs).toHaveLength(1);
    expect(sigs[0]!.keyid).toBe(key!.record.keyid);
    expect(check(key!, sigs[0]!.sig)).toBe(valid);
  });
  it('none, garbage, duplicate', () => {
    expect(signaturesFor('none', 'p', '1.0.0', integrity)).toBeUndefined();
    expect(check(testKeys.active, signaturesFor('garbage', 'p', '1.0.0', integrity)![0]!.sig)).toBe(false);
    const twice = signaturesFor('duplicate', 'p', '1.0.0', integrity)!;
    expect(twice).toHaveLength(2);
    expect(twice.every((s) => s.keyid === testKeys.active.record.keyid && check(testKeys.active, s.sig))).toBe(true);
  });
});

describe('marker fixtures', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const temp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-marker-'));
    dirs.push(dir);
    return dir;
  };

  it('names markers scope-safely', () => {
    expect(markerFileName('@acme/logger', '2.1.0')).toBe('@acme+logger@2.1.0.ran');
  });

  it('the postinstall writes its marker through sh, and does nothing without the variable', () => {
    const script = withPostinstall('@acme/evil', '1.0.0').scripts!.postinstall!;
    const markers = temp();
    const ran = spawnSync('sh', ['-c', script], { cwd: temp(), env: { ...process.env, PORTCULLIS_MARKER_DIR: markers }, encoding: 'utf8' });
    expect(ran.status, ran.stderr).toBe(0);
    expect(readFileSync(join(markers, '@acme+evil@1.0.0.ran'), 'utf8').trim()).toBe('postinstall');
    const env = { ...process.env };
    delete env.PORTCULLIS_MARKER_DIR;
    expect(spawnSync('sh', ['-c', script], { cwd: temp(), env }).status).toBe(0);
  });

  it('a stable postinstall is the same command line in every version of a variant, and writes the marker of the version it runs in', () => {
    const first = withStablePostinstall('@acme/drift', '1.0.0').scripts!.postinstall!;
    expect(withStablePostinstall('@acme/drift', '1.0.1').scripts!.postinstall).toBe(first);
    expect(withStablePostinstall('@acme/drift', '1.0.0', 'b').scripts!.postinstall).not.toBe(first);
    const markers = temp();
    const dir = temp();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/drift', version: '1.0.1' }));
    const ran = spawnSync('sh', ['-c', first], { cwd: dir, env: { ...process.env, PORTCULLIS_MARKER_DIR: markers }, encoding: 'utf8' });
    expect(ran.status, ran.stderr).toBe(0);
    expect(readFileSync(join(markers, '@acme+drift@1.0.1.ran'), 'utf8').trim()).toBe('postinstall-a');
  });

  it('the fake node-gyp runs the binding.gyp marker', () => {
    const pkg = temp();
    const markers = temp();
    for (const spec of [withBindingGyp('native-addon', '1.0.0'), fakeNodeGyp()]) {
      for (const entry of readTarball(packFixture(spec).tarball)) {
        const target = join(pkg, spec.name === 'node-gyp' ? '.gyp' : '', entry.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, entry.content);
      }
    }
    const ran = spawnSync(process.execPath, [join(pkg, '.gyp/bin/node-gyp.js'), 'rebuild'], { cwd: pkg, env: { ...process.env, PORTCULLIS_MARKER_DIR: markers }, encoding: 'utf8' });
    expect(ran.status, ran.stderr).toBe(0);
    expect(existsSync(join(markers, 'native-addon@1.0.0.ran'))).toBe(true);
  });
});
