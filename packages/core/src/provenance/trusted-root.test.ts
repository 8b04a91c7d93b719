import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { PUBLIC_GOOD_TRUSTED_ROOT } from './public-good-root.js';
import { defaultTrust, defaultTrustId, loadTrustedRoot, MAX_TRUSTED_ROOT_BYTES, trustFromRoot } from './trusted-root.js';
import { trustedRootJson } from './vectors.fixture.js';

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    expect((error as PortcullisError).code).toBe('POLICY_INVALID');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('the embedded public-good root', () => {
  it('is test-vectors/sigstore-trusted_root.json', () => {
    expect(PUBLIC_GOOD_TRUSTED_ROOT).toEqual(trustedRootJson());
  });

  it('is built once and indexes its logs and CAs', () => {
    const trust = defaultTrust();
    expect(defaultTrust()).toBe(trust);
    expect([...trust.tlogs.keys()]).toEqual(['wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=', 'zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=']);
    expect([...trust.ctlogs.keys()]).toEqual(['CGCS8ChS/2hF0dFrJ4ScRWcYrBY9wzjSbea8IgY2b3I=', '3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=']);
    expect(trust.authorities.map((a) => a.certificates.length)).toEqual([1, 2]);
    expect(trust.authorities[0]!.window.end.toISOString()).toBe('2022-12-31T23:59:59.999Z');
    expect(trust.ctlogs.get('CGCS8ChS/2hF0dFrJ4ScRWcYrBY9wzjSbea8IgY2b3I=')![0]!.end.toISOString()).toBe('2022-10-31T23:59:59.999Z');
  });
});

describe('trustFromRoot refuses roots it cannot use, naming the source', () => {
  const edited = (edit: (root: Record<string, any>) => void) => {
    const root = trustedRootJson();
    edit(root);
    return root;
  };
  const cases: [string, unknown, string][] = [
    ['not an object', [], 'not a JSON object'],
    ['wrong mediaType', edited((r) => (r.mediaType = 'application/json')), 'mediaType'],
    ['tlogs not a list', edited((r) => (r.tlogs = {})), 'tlogs is missing or not a list'],
    ['no tlogs', edited((r) => (r.tlogs = [])), 'tlogs is empty'],
    ['no CAs', edited((r) => (r.certificateAuthorities = [])), 'certificateAuthorities is empty'],
    ['bad log id', edited((r) => (r.tlogs[0].logId.keyId = 'not base64!')), 'tlogs[0].logId.keyId is not base64'],
    ['bad key', edited((r) => (r.tlogs[0].publicKey.rawBytes = 'AAAA')), 'sigstore cannot use it'],
    ['bad certificate', edited((r) => (r.certificateAuthorities[0].certChain.certificates[0].rawBytes = 'AAAA')), 'not a DER certificate'],
    ['bad time', edited((r) => (r.ctlogs[0].publicKey.validFor.start = 'yesterday')), 'ctlogs[0].publicKey.validFor.start is not a timestamp'],
    ['inverted window', edited((r) => (r.certificateAuthorities[1].validFor = { start: '2030-01-01T00:00:00Z', end: '2020-01-01T00:00:00Z' })), 'ends before it starts'],
    ['too many logs', edited((r) => (r.tlogs = Array.from({ length: 1000 }, () => r.tlogs[0]))), 'at most 64'],
    ['__proto__ tricks', JSON.parse(`{"__proto__": ${JSON.stringify(trustedRootJson())}}`), 'mediaType'],
  ];
  for (const [what, root, reason] of cases) {
    it(what, () => {
      const message = refusal(() => trustFromRoot(root, 'policy root.json'));
      expect(message).toContain('policy root.json: not a usable Sigstore trusted root');
      expect(message).toContain(reason);
    });
  }
  it('a root with fields inherited from a prototype is not read', () => {
    expect(refusal(() => trustFromRoot(Object.create(trustedRootJson()), 'x'))).toContain('mediaType');
  });
});

describe('loadTrustedRoot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-root-'));
  it('loads a trusted_root.json file', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(trustedRootJson()));
    expect(loadTrustedRoot(file)).toMatchObject({ source: file });
  });
  it('refuses a missing file, non-JSON and oversize files, naming the file', () => {
    expect(refusal(() => loadTrustedRoot(join(dir, 'absent.json')))).toBe(`${join(dir, 'absent.json')}: cannot read the Sigstore trusted root (ENOENT)`);
    writeFileSync(join(dir, 'bad.json'), '{');
    expect(refusal(() => loadTrustedRoot(join(dir, 'bad.json')))).toContain(`${join(dir, 'bad.json')}: the Sigstore trusted root is not JSON`);
    writeFileSync(join(dir, 'big.json'), '');
    truncateSync(join(dir, 'big.json'), MAX_TRUSTED_ROOT_BYTES + 1);
    expect(refusal(() => loadTrustedRoot(join(dir, 'big.json')))).toBe(`${join(dir, 'big.json')}: the trusted root is 4194305 bytes, larger than the 4194304-byte limit`);
    expect(refusal(() => loadTrustedRoot(dir))).toContain(`${dir}: cannot read`);
  });
});

describe('defaultTrustId', () => {
  it('is the embedded root’s SigstoreTrust.id, computed without building the trust (remembered provenance is filed under it)', () => {
    expect(defaultTrustId()).toBe(defaultTrust().id);
    expect(defaultTrustId()).toMatch(/^[0-9a-f]{64}$/);
  });
});
