import { describe, expect, it } from 'vitest';
import { repairDistTags, rewritePackument, type VersionVerdict } from './packument.js';

const sig = { keyid: 'SHA256:org', sig: 'c2ln' };
const served: VersionVerdict = { served: true, signature: sig };
const removed = (code: string): VersionVerdict => ({ served: false, removal: { code, reason: `because ${code}` } });
const doc = (version: string) => ({ name: 'lib', version, dist: { integrity: `sha512-${version}`, tarball: `http://127.0.0.1/lib/-/lib-${version}.tgz`, signatures: [{ keyid: 'SHA256:upstream', sig: 'dXA=' }] } });

describe('rewritePackument', () => {
  const manifest = () => ({
    name: 'lib',
    versions: { '1.0.0': doc('1.0.0'), '1.1.0': doc('1.1.0'), '2.0.0-rc.1': doc('2.0.0-rc.1'), '1.2.0': doc('1.2.0') },
    time: { created: 'c', modified: 'm', '1.0.0': 't1', '1.1.0': 't2', '2.0.0-rc.1': 't3', '1.2.0': 't4' },
    'dist-tags': { latest: '1.2.0', next: '2.0.0-rc.1', old: '1.1.0' },
  });

  it('keeps only served versions (and their times), adds the signature, says why the others went', () => {
    const input = manifest();
    const before = JSON.stringify(input);
    const out = rewritePackument(input, new Map([['1.0.0', served], ['1.1.0', served], ['2.0.0-rc.1', served], ['1.2.0', removed('BAD_SIGNATURE')]]), sig.keyid) as ReturnType<typeof manifest> & { 'x-portcullis': { removed: Record<string, { code: string }> } };
    expect(Object.keys(out.versions)).toEqual(['1.0.0', '1.1.0', '2.0.0-rc.1']);
    expect(Object.keys(out.time)).toEqual(['created', 'modified', '1.0.0', '1.1.0', '2.0.0-rc.1']);
    expect(out.versions['1.0.0'].dist.signatures).toEqual([{ keyid: 'SHA256:upstream', sig: 'dXA=' }, sig]);
    expect(out['x-portcullis'].removed).toEqual({ '1.2.0': { code: 'BAD_SIGNATURE', reason: 'because BAD_SIGNATURE' } });
    // latest moved to the highest served release, never a prerelease; other tags kept.
    expect(out['dist-tags']).toEqual({ latest: '1.1.0', next: '2.0.0-rc.1', old: '1.1.0' });
    expect(JSON.stringify(input)).toBe(before);
  });

  it('a version without a verdict is never served (NOT_VETTED)', () => {
    const out = rewritePackument(manifest(), new Map([['1.0.0', served]]), sig.keyid) as { versions: object; 'x-portcullis': { removed: Record<string, { code: string }> } };
    expect(Object.keys(out.versions)).toEqual(['1.0.0']);
    expect(out['x-portcullis'].removed['1.1.0']?.code).toBe('NOT_VETTED');
  });

  it('drops an upstream entry that claims the organisation keyid (only the plugin signs with it)', () => {
    const input = manifest();
    input.versions['1.0.0'].dist.signatures.push({ keyid: sig.keyid, sig: 'Zm9yZ2Vk' });
    const out = rewritePackument(input, new Map([['1.0.0', served]]), sig.keyid) as ReturnType<typeof manifest>;
    expect(out.versions['1.0.0'].dist.signatures).toEqual([{ keyid: 'SHA256:upstream', sig: 'dXA=' }, sig]);
  });

  it('a hostile packument: __proto__ as a version or tag pollutes nothing', () => {
    const input = JSON.parse('{"name":"lib","versions":{"__proto__":{"polluted":true},"1.0.0":' + JSON.stringify(doc('1.0.0')) + '},"dist-tags":{"__proto__":"1.0.0","latest":"1.0.0"}}') as Record<string, unknown>;
    const out = rewritePackument(input, new Map([['1.0.0', served]]), sig.keyid) as { versions: Record<string, unknown>; 'dist-tags': Record<string, string> };
    expect(Object.keys(out.versions)).toEqual(['1.0.0']);
    expect(out['dist-tags']).toEqual({ latest: '1.0.0' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('repairDistTags', () => {
  it('drops latest when no release is served', () => {
    expect(repairDistTags({ latest: '1.0.0', beta: '2.0.0-beta.1' }, ['2.0.0-beta.1'])).toEqual({ beta: '2.0.0-beta.1' });
    expect(repairDistTags(undefined, [])).toEqual({});
  });
});
