import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { INSTALL_SCRIPTS } from '../model.js';
import { installScriptsOf, packumentFromJson, packumentToJson, parsePackument, servedKindOf, type Packument } from './packument.js';

const SIG = { keyid: 'SHA256:abc', sig: 'MEUCIQ==' };

function doc(versions: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: 'pkg', 'dist-tags': { latest: '1.0.0' }, versions, ...extra });
}

function version(v: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'pkg', version: v, dist: { integrity: `sha512-${v}`, tarball: `https://r.test/pkg/-/pkg-${v}.tgz`, signatures: [SIG] }, ...extra };
}

function reason(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return { code: (error as PortcullisError).code, message: (error as Error).message };
  }
  throw new Error('expected a PortcullisError');
}

describe('parsePackument', () => {
  it('keeps what Portcullis uses from an abbreviated document', () => {
    const p = parsePackument(doc({ '1.0.0': version('1.0.0', { hasInstallScript: true, scripts: { postinstall: 'x' } }) }), { name: 'pkg', kind: 'abbreviated' });
    const v = p.versions.get('1.0.0')!;
    expect(v.dist).toEqual({ integrity: 'sha512-1.0.0', tarball: 'https://r.test/pkg/-/pkg-1.0.0.tgz', signatures: [SIG] });
    expect(v.hasInstallScript).toBe(true);
    // Scripts count wherever they are listed: they can only add to what is blocked.
    expect(v.scripts?.postinstall).toBe('x');
    expect(p.time.size).toBe(0);
  });

  it('reads scripts from a full document served for an abbreviated request (a mirror that ignores Accept)', () => {
    // What the mirror on these machines sends: full entries, `scripts` but no `hasInstallScript`.
    const text = doc({ '1.0.0': version('1.0.0', { _id: 'pkg@1.0.0', scripts: { postinstall: 'node install.js' } }), '2.0.0': version('2.0.0', { _id: 'pkg@2.0.0' }) }, { time: {} });
    const p = parsePackument(text, { name: 'pkg', kind: 'abbreviated', served: 'full' });
    expect(installScriptsOf(p.versions.get('1.0.0')!, INSTALL_SCRIPTS)).toEqual({ known: true, hasInstallScript: true, scripts: ['postinstall'] });
    // A full manifest without `scripts` lists none.
    expect(installScriptsOf(p.versions.get('2.0.0')!, INSTALL_SCRIPTS)).toEqual({ known: true, hasInstallScript: false, scripts: [] });
  });

  it('tells "no scripts" from "not said": silence is "none" only where the format says so', () => {
    const text = doc({ '1.0.0': version('1.0.0') });
    // The abbreviated document omits hasInstallScript when there are none.
    const served = parsePackument(text, { name: 'pkg', kind: 'abbreviated', served: 'abbreviated' }).versions.get('1.0.0')!;
    expect(served.hasInstallScript).toBe(false);
    expect(installScriptsOf(served, INSTALL_SCRIPTS)).toEqual({ known: true, hasInstallScript: false, scripts: [] });
    // A document that is not the abbreviated one, whose entry is no manifest: unknown, never "no scripts".
    for (const servedAs of ['full', 'stored'] as const) {
      const v = parsePackument(text, { name: 'pkg', kind: 'abbreviated', served: servedAs }).versions.get('1.0.0')!;
      expect(installScriptsOf(v, INSTALL_SCRIPTS)).toEqual({ known: false });
    }
    // The cache projection keeps every known answer explicit, and silence unknown.
    const known = parsePackument(text, { name: 'pkg', kind: 'abbreviated', served: 'abbreviated' });
    const back = packumentFromJson(packumentToJson(known), { name: 'pkg', kind: 'abbreviated', served: 'stored' });
    expect(installScriptsOf(back.versions.get('1.0.0')!, INSTALL_SCRIPTS)).toEqual({ known: true, hasInstallScript: false, scripts: [] });
    const unknown = parsePackument(text, { name: 'pkg', kind: 'abbreviated', served: 'full' });
    const stored = packumentFromJson(packumentToJson(unknown), { name: 'pkg', kind: 'abbreviated', served: 'stored' });
    expect(installScriptsOf(stored.versions.get('1.0.0')!, INSTALL_SCRIPTS)).toEqual({ known: false });
  });

  it('takes the served kind from Content-Type: only the install media type is abbreviated', () => {
    expect(servedKindOf('application/vnd.npm.install-v1+json; charset=utf-8')).toBe('abbreviated');
    expect(servedKindOf('Application/Vnd.Npm.Install-V1+JSON')).toBe('abbreviated');
    expect(servedKindOf('application/json')).toBe('full');
    // No Content-Type (Yarn's HTTP stack hands over bodies only): read from the document itself.
    expect(servedKindOf(null)).toBe('infer');
    const silent = { name: 'pkg', version: '1.0.0', dist: { integrity: 'sha512-x' } };
    const abbreviated = parsePackument(JSON.stringify({ name: 'pkg', modified: 'm', versions: { '1.0.0': silent } }), { name: 'pkg', kind: 'abbreviated', served: 'infer' });
    expect(abbreviated.versions.get('1.0.0')!.hasInstallScript).toBe(false);
    const full = parsePackument(JSON.stringify({ name: 'pkg', time: {}, versions: { '1.0.0': silent } }), { name: 'pkg', kind: 'abbreviated', served: 'infer' });
    expect(installScriptsOf(full.versions.get('1.0.0')!, INSTALL_SCRIPTS)).toEqual({ known: false });
    expect(servedKindOf('text/html')).toBe('full');
  });

  it('reads scripts, gypfile and publish times from a full document', () => {
    const p = parsePackument(
      doc({ '1.0.0': version('1.0.0', { gypfile: true, scripts: { install: 'node-gyp rebuild', test: 'vitest' } }) }, { time: { created: 'c', '1.0.0': '2024-01-01T00:00:00.000Z' } }),
      { name: 'pkg', kind: 'full' },
    );
    const v = p.versions.get('1.0.0')!;
    expect(v.gypfile).toBe(true);
    expect(v.scripts?.install).toBe('node-gyp rebuild');
    expect(Object.getPrototypeOf(v.scripts)).toBeNull();
    expect(p.time.get('1.0.0')).toBe('2024-01-01T00:00:00.000Z');
    expect(p.time.has('created')).toBe(false);
  });

  it('accepts bytes', () => {
    const p = parsePackument(Buffer.from(doc({ '1.0.0': version('1.0.0') })), { name: 'pkg', kind: 'abbreviated' });
    expect([...p.versions.keys()]).toEqual(['1.0.0']);
  });

  it('refuses what is not a packument', () => {
    const opts = { name: 'pkg', kind: 'abbreviated' } as const;
    expect(reason(() => parsePackument('', opts)).message).toMatch(/empty/);
    expect(reason(() => parsePackument('{"name":"pkg","versions":{', opts)).message).toMatch(/not valid JSON/);
    expect(reason(() => parsePackument('<html>', opts)).message).toMatch(/not valid JSON/);
    expect(reason(() => parsePackument('[]', opts)).message).toMatch(/an array, not a packument/);
    expect(reason(() => parsePackument('null', opts)).message).toMatch(/null/);
    expect(reason(() => parsePackument('"x"', opts)).message).toMatch(/a string/);
    expect(reason(() => parsePackument('{"name":"pkg"}', opts)).message).toMatch(/"versions" is missing/);
    expect(reason(() => parsePackument('{"name":"pkg","versions":[]}', opts)).message).toMatch(/"versions" is an array/);
    expect(reason(() => parsePackument('{"versions":{}}', opts)).message).toMatch(/no "name"/);
    expect(reason(() => parsePackument(doc({}, { name: 'other' }), opts)).message).toMatch(/packument of "other"/);
    expect(reason(() => parsePackument(doc({}, { time: [] }), { name: 'pkg', kind: 'full' })).message).toMatch(/"time" is an array/);
    expect(reason(() => parsePackument(Buffer.from([0x7b, 0xff, 0xfe]), opts)).message).toMatch(/UTF-8/);
    expect(reason(() => parsePackument('{}', opts)).code).toBe('METADATA_UNAVAILABLE');
  });

  it('refuses a document over the size limit before parsing it', () => {
    const big = doc({ '1.0.0': version('1.0.0', { padding: 'x'.repeat(2000) }) });
    const error = reason(() => parsePackument(big, { name: 'pkg', kind: 'abbreviated', maxBytes: 1000 }));
    expect(error.code).toBe('INPUT_TOO_LARGE');
    expect(error.message).toMatch(/over the 1000-byte limit/);
  });

  it('never lets __proto__ or constructor keys reach a prototype', () => {
    const hostile =
      '{"name":"pkg","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"versions":{' +
      '"__proto__":{"polluted":3},"constructor":{"name":"pkg","version":"constructor","dist":{}},' +
      '"1.0.0":{"name":"pkg","version":"1.0.0","__proto__":{"hasInstallScript":true},' +
      '"dist":{"__proto__":{"integrity":"sha512-forged"},"signatures":[{"__proto__":{"keyid":"k","sig":"s"}}]},' +
      '"scripts":{"__proto__":{"postinstall":"evil"},"constructor":"x"}},' +
      '"1.0.1":{"name":"pkg","version":"1.0.1","dist":{"__proto__":{"integrity":"sha512-forged"}}}},' +
      '"time":{"__proto__":{"1.0.1":"forged"}}}';
    const p = parsePackument(hostile, { name: 'pkg', kind: 'full' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect([...p.versions.keys()]).toEqual(['1.0.1']);
    // Inherited-looking fields from __proto__ are never read.
    expect(p.versions.get('1.0.1')!.dist.integrity).toBeUndefined();
    expect(p.versions.get('1.0.1')!.hasInstallScript).toBeUndefined();
    expect(p.invalidVersions.get('1.0.0')).toMatch(/signature lacks/);
    expect(p.time.size).toBe(0);
  });

  it('keeps a __proto__ script as a plain key without polluting', () => {
    const p = parsePackument('{"name":"pkg","versions":{"1.0.0":{"name":"pkg","version":"1.0.0","dist":{},"scripts":{"__proto__":"x","postinstall":"y"}}}}', {
      name: 'pkg',
      kind: 'full',
    });
    const scripts = p.versions.get('1.0.0')!.scripts!;
    expect(Object.keys(scripts).sort()).toEqual(['__proto__', 'postinstall']);
    expect(scripts.postinstall).toBe('y');
  });

  it('marks a malformed version unusable without losing the others', () => {
    const p = parsePackument(
      doc({
        '1.0.0': version('1.0.0'),
        '1.0.1': [],
        '1.0.2': version('1.0.2', { dist: [] }),
        '1.0.3': version('1.0.3', { dist: { integrity: 42 } }),
        '1.0.4': version('1.0.4', { dist: { signatures: {} } }),
        '1.0.5': version('1.0.5', { dist: { signatures: [{ keyid: 1, sig: 'x' }] } }),
        '1.0.6': version('1.0.6', { hasInstallScript: 'yes' }),
        '1.0.7': version('1.0.7', { version: '9.9.9' }),
        '1.0.8': version('1.0.8', { name: 'other' }),
        '1.0.9': version('1.0.9', { scripts: { postinstall: ['evil'] } }),
        '1.0.10': version('1.0.10', { scripts: 'evil' }),
        'not-a-version': version('not-a-version'),
      }),
      { name: 'pkg', kind: 'full' },
    );
    expect([...p.versions.keys()]).toEqual(['1.0.0']);
    expect(Object.fromEntries(p.invalidVersions)).toEqual({
      '1.0.1': 'its entry is an array, not an object',
      '1.0.2': 'its "dist" is an array, not an object',
      '1.0.3': 'its "dist.integrity" is a number, not a string',
      '1.0.4': 'its "dist.signatures" is an object, not an array',
      '1.0.5': 'a signature lacks a string "keyid" or "sig"',
      '1.0.6': 'its "hasInstallScript" is a string, not a boolean',
      '1.0.7': 'its entry says version 9.9.9',
      '1.0.8': 'its entry names another package',
      '1.0.9': 'its script "postinstall" is an array, not a string',
      '1.0.10': 'its "scripts" is a string, not an object',
    });
  });

  it('survives deeply nested input', () => {
    const deep = `{"name":"pkg","versions":{"1.0.0":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const p = parsePackument(deep, { name: 'pkg', kind: 'abbreviated' });
    expect(p.invalidVersions.get('1.0.0')).toMatch(/array/);
  });

  it('handles many versions quickly', () => {
    const versions: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) versions[`1.0.${i}`] = version(`1.0.${i}`);
    const started = performance.now();
    const p = parsePackument(doc(versions), { name: 'pkg', kind: 'abbreviated' });
    expect(p.versions.size).toBe(20_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('packumentToJson', () => {
  it('round-trips through the parser, invalid entries included', () => {
    const rawText = doc(
      { '1.0.0': version('1.0.0', { gypfile: true, scripts: { install: 'x' }, readme: 'long'.repeat(100) }), '2.0.0': { version: 2 } },
      { time: { '1.0.0': 't1', '2.0.0': 't2' } },
    );
    const original = parsePackument(rawText, { name: 'pkg', kind: 'full' });
    const json = JSON.parse(JSON.stringify(packumentToJson(original, JSON.parse(rawText))));
    const again: Packument = packumentFromJson(json, { name: 'pkg', kind: 'full' });
    expect(again).toEqual(original);
    expect(JSON.stringify(json)).not.toContain('longlong');
  });
});

describe('bundleDependencies (attack round, issue 13: which copies a parent really ships)', () => {
  it('reads either spelling, `true` as every dependency, and keeps it through the cache projection', () => {
    const p = parsePackument(
      doc({
        '1.0.0': version('1.0.0', { bundleDependencies: ['a', 'b'] }),
        '1.1.0': version('1.1.0', { bundledDependencies: ['c'] }),
        '1.2.0': version('1.2.0', { bundleDependencies: true, dependencies: { d: '1' }, optionalDependencies: { e: '1' } }),
        '1.3.0': version('1.3.0'),
        '1.4.0': version('1.4.0', { bundleDependencies: ['a', 7] }),
      }),
      { name: 'pkg', kind: 'abbreviated' },
    );
    expect(p.versions.get('1.0.0')!.bundleDependencies).toEqual(['a', 'b']);
    expect(p.versions.get('1.1.0')!.bundleDependencies).toEqual(['c']);
    expect(p.versions.get('1.2.0')!.bundleDependencies).toEqual(['d', 'e']);
    expect(p.versions.get('1.3.0')!.bundleDependencies).toBeUndefined();
    expect(p.invalidVersions.get('1.4.0')).toContain('bundleDependencies');
    const again = packumentFromJson(packumentToJson(p), { name: 'pkg', kind: 'abbreviated', served: 'stored' });
    expect(again.versions.get('1.0.0')!.bundleDependencies).toEqual(['a', 'b']);
    expect(again.versions.get('1.2.0')!.bundleDependencies).toEqual(['d', 'e']);
  });
});
