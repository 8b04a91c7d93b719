import { describe, expect, it } from 'vitest';
import { createKeyring } from './keyring.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { NPM_REGISTRY_KEYS } from './npm-keys.js';
import { makeSigningKey } from './signing-key.fixture.js';
import { readVectors } from './vectors.fixture.js';
import { verifyRegistrySignatures as verifyOnThisThread, verifyRegistrySignaturesOffThread, type SignatureCheck } from './verify.js';

/** Every check this file makes, also verified off the thread at the end: the same verdict, case for case. */
const made: Array<{ check: SignatureCheck; verdict: ReturnType<typeof verifyOnThisThread> }> = [];
function verifyRegistrySignatures(check: SignatureCheck): ReturnType<typeof verifyOnThisThread> {
  const verdict = verifyOnThisThread(check);
  made.push({ check, verdict });
  return verdict;
}

const OLD = NPM_REGISTRY_KEYS.find((k) => k.expires !== null)!;
const NEW = NPM_REGISTRY_KEYS.find((k) => k.expires === null)!;
const BEFORE_EXPIRY = '2025-01-28T23:59:59.999Z';
const vectors = readVectors('npm-registry-signatures.json');
const negatives = readVectors('npm-registry-signatures-negative.json');
const keyring = createKeyring({ [NPM_REGISTRY_URL]: { keys: 'npm' } });

const oldVector = vectors.find((v) => v.keyid === OLD.keyid)!;
const newVector = vectors.find((v) => v.keyid === NEW.keyid)!;

function check(v: { name: string; version: string; integrity: string; keyid: string; sig: string }, extra: Partial<SignatureCheck> = {}): SignatureCheck {
  return { name: v.name, version: v.version, integrity: v.integrity, signatures: [{ keyid: v.keyid, sig: v.sig }], registry: NPM_REGISTRY_URL, keyring, ...extra };
}

describe('real npm registry vectors', () => {
  it('has the 142 vectors the README describes', () => {
    expect(vectors).toHaveLength(142);
    expect(vectors.filter((v) => v.keyid === OLD.keyid)).toHaveLength(136);
    expect(vectors.filter((v) => v.keyid === NEW.keyid)).toHaveLength(6);
    expect(negatives).toHaveLength(5);
  });

  it('verifies every one with the embedded keys', () => {
    const failures = vectors
      .map((v) => ({ v, verdict: verifyRegistrySignatures(check(v, { publishedAt: v.keyid === OLD.keyid ? BEFORE_EXPIRY : undefined })) }))
      .filter(({ verdict }) => verdict.status !== 'verified')
      .map(({ v, verdict }) => `${v.name}@${v.version}: ${JSON.stringify(verdict)}`);
    expect(failures).toEqual([]);
  });

  it('verifies new-key vectors without a publish time, and asks for it for old-key ones', () => {
    for (const v of vectors) {
      const verdict = verifyRegistrySignatures(check(v));
      if (v.keyid === NEW.keyid) expect(verdict).toEqual({ status: 'verified', keyid: NEW.keyid });
      else expect(verdict).toEqual({ status: 'needs-publish-time', keyid: OLD.keyid, expires: OLD.expires });
    }
  });

  it.each(negatives.map((n) => [n.why!, n] as const))('rejects: %s', (_why, n) => {
    expect(n.expect).toBe(false);
    const verdict = verifyRegistrySignatures(check(n, { publishedAt: BEFORE_EXPIRY }));
    expect(verdict).toMatchObject({ status: 'bad-signature', keyid: n.keyid });
  });
});

describe('expiry rule', () => {
  it('counts an expired key\'s signature for versions published before the expiry', () => {
    expect(verifyRegistrySignatures(check(oldVector, { publishedAt: '2025-01-28T12:00:00Z' }))).toEqual({ status: 'verified', keyid: OLD.keyid });
    expect(verifyRegistrySignatures(check(oldVector, { publishedAt: new Date('2019-04-01T00:00:00Z') }))).toMatchObject({ status: 'verified' });
  });

  it('refuses it for versions published at or after the expiry', () => {
    expect(verifyRegistrySignatures(check(oldVector, { publishedAt: '2025-01-29T00:00:00.000Z' }))).toEqual({
      status: 'key-expired',
      keyid: OLD.keyid,
      expires: OLD.expires,
      published: '2025-01-29T00:00:00.000Z',
    });
    expect(verifyRegistrySignatures(check(oldVector, { publishedAt: Date.parse('2025-06-01T00:00:00Z') }))).toMatchObject({
      status: 'key-expired',
      published: '2025-06-01T00:00:00.000Z',
    });
  });

  it('needs no publish time while the key has not expired yet', () => {
    expect(verifyRegistrySignatures(check(oldVector, { now: Date.parse('2025-01-01T00:00:00Z') }))).toMatchObject({ status: 'verified' });
    expect(verifyRegistrySignatures(check(oldVector, { now: Date.parse('2025-02-01T00:00:00Z') }))).toMatchObject({ status: 'needs-publish-time' });
  });

  it('needs no publish time when a current key also signed', () => {
    const corp = makeSigningKey();
    const retired = makeSigningKey('2024-01-01T00:00:00Z');
    const ring = createKeyring({ 'https://npm.example.corp/': { keys: [retired.record, corp.record] } });
    const message = 'pkg@1.0.0:sha512-abc';
    const signatures = [
      { keyid: retired.record.keyid, sig: retired.sign(message) },
      { keyid: corp.record.keyid, sig: corp.sign(message) },
    ];
    const base = { name: 'pkg', version: '1.0.0', integrity: 'sha512-abc', signatures, registry: 'https://npm.example.corp', keyring: ring };
    expect(verifyRegistrySignatures(base)).toEqual({ status: 'verified', keyid: corp.record.keyid });
    // The expired key's signature must still verify: every signature by a known key must.
    const tampered = [{ keyid: retired.record.keyid, sig: retired.sign('other@1.0.0:sha512-abc') }, signatures[1]];
    expect(verifyRegistrySignatures({ ...base, signatures: tampered })).toMatchObject({ status: 'bad-signature', keyid: retired.record.keyid });
  });

  it('does not guess from an invalid publish time', () => {
    expect(verifyRegistrySignatures(check(oldVector, { publishedAt: 'yesterday' }))).toMatchObject({ status: 'unavailable' });
  });
});

describe('what is verified', () => {
  it('binds the signature to the integrity being installed', () => {
    const tampered = { ...newVector, integrity: newVector.integrity.replace(/.(==)?$/, (m) => (m[0] === 'A' ? 'B' : 'A') + m.slice(1)) };
    expect(tampered.integrity).not.toBe(newVector.integrity);
    expect(verifyRegistrySignatures(check(tampered))).toEqual({ status: 'bad-signature', keyid: NEW.keyid, reason: 'does-not-verify' });
  });

  it('binds it to the name and version', () => {
    expect(verifyRegistrySignatures(check({ ...newVector, version: `${newVector.version}-x` }))).toMatchObject({ status: 'bad-signature' });
    expect(verifyRegistrySignatures(check({ ...newVector, name: `${newVector.name}x` }))).toMatchObject({ status: 'bad-signature' });
  });

  it('cannot check without an integrity', () => {
    expect(verifyRegistrySignatures(check(newVector, { integrity: undefined }))).toMatchObject({ status: 'unavailable' });
  });

  it('verifies with explicit policy keys of a private registry', () => {
    const corp = makeSigningKey();
    const ring = createKeyring({ 'https://npm.example.corp/': { keys: [corp.record] } });
    const verdict = verifyRegistrySignatures({
      name: '@corp/lib',
      version: '2.0.0',
      integrity: 'sha512-xyz',
      signatures: [{ keyid: corp.record.keyid, sig: corp.sign('@corp/lib@2.0.0:sha512-xyz') }],
      registry: 'https://npm.example.corp',
      keyring: ring,
    });
    expect(verdict).toEqual({ status: 'verified', keyid: corp.record.keyid });
  });
});

describe('statuses', () => {
  const sig = { keyid: newVector.keyid, sig: newVector.sig };
  const unknown = { keyid: `SHA256:${'Q'.repeat(43)}`, sig: newVector.sig };

  it('unsigned: no signatures array, an empty one, or not an array', () => {
    for (const signatures of [undefined, null, [], 'sig', {}]) {
      expect(verifyRegistrySignatures(check(newVector, { signatures }))).toEqual({ status: 'unsigned' });
    }
  });

  it('untrusted-registry: signatures served by a registry with no keys', () => {
    const verdict = verifyRegistrySignatures(check(newVector, { registry: 'HTTPS://Mirror.example:443' }));
    expect(verdict).toEqual({ status: 'untrusted-registry', registry: 'https://mirror.example/' });
    // unsigned comes first, so a stripping mirror is recognisable even when unconfigured
    expect(verifyRegistrySignatures(check(newVector, { registry: 'https://mirror.example/', signatures: [] }))).toEqual({ status: 'unsigned' });
  });

  it('unknown-key: signatures only by keys the registry is not trusted with', () => {
    expect(verifyRegistrySignatures(check(newVector, { signatures: [unknown] }))).toEqual({ status: 'unknown-key', keyid: unknown.keyid });
    expect(verifyRegistrySignatures(check(newVector, { signatures: [unknown, sig] }))).toEqual({ status: 'verified', keyid: NEW.keyid });
  });

  it('duplicates of a valid signature are fine', () => {
    expect(verifyRegistrySignatures(check(newVector, { signatures: [sig, sig, { ...sig }] }))).toEqual({ status: 'verified', keyid: NEW.keyid });
  });

  it('every signature by a known key must verify', () => {
    const bad = { keyid: NEW.keyid, sig: oldVector.sig };
    expect(verifyRegistrySignatures(check(newVector, { signatures: [sig, bad] }))).toMatchObject({ status: 'bad-signature', keyid: NEW.keyid });
    expect(verifyRegistrySignatures(check(newVector, { signatures: [bad, sig] }))).toMatchObject({ status: 'bad-signature', keyid: NEW.keyid });
  });

  it('garbage never counts, and garbage by a known key is a bad signature', () => {
    const garbage = [null, 42, 'x', [], {}, { keyid: 5, sig: newVector.sig }, { sig: newVector.sig }];
    expect(verifyRegistrySignatures(check(newVector, { signatures: [...garbage, sig] }))).toEqual({ status: 'verified', keyid: NEW.keyid });
    expect(verifyRegistrySignatures(check(newVector, { signatures: garbage }))).toEqual({ status: 'bad-signature', keyid: '', reason: 'malformed-entries' });
    for (const badSig of [undefined, 7, '', 'not base64!', 'bogus', `${newVector.sig}A`, 'A'.repeat(400)]) {
      expect(verifyRegistrySignatures(check(newVector, { signatures: [sig, { keyid: NEW.keyid, sig: badSig }] }))).toMatchObject({
        status: 'bad-signature',
        keyid: NEW.keyid,
      });
    }
    expect(verifyRegistrySignatures(check(newVector, { signatures: [unknown, null] }))).toEqual({ status: 'unknown-key', keyid: unknown.keyid });
  });

  it('is deterministic whatever the order of garbage', () => {
    const entries = [null, sig, unknown, { keyid: NEW.keyid }, 3];
    const first = verifyRegistrySignatures(check(newVector, { signatures: entries }));
    expect(verifyRegistrySignatures(check(newVector, { signatures: [...entries].reverse() }))).toEqual(first);
    expect(first).toMatchObject({ status: 'bad-signature', reason: 'malformed-signature' });
  });
});

describe('verifyRegistrySignaturesOffThread', () => {
  it('gives the very verdict of verifyRegistrySignatures for every check above (vectors, negatives, expiry, garbage)', async () => {
    expect(made.length).toBeGreaterThan(300);
    for (const { check, verdict } of made) expect(await verifyRegistrySignaturesOffThread(check), JSON.stringify(check.signatures)).toEqual(verdict);
  });
});
