/**
 * Hostile key documents and memo files: `parseKeysResponse` throws only KeysResponseError (its documented
 * error), `SignatureMemo.fromJSON` never throws and keeps only well-formed verdicts, and a hostile
 * `dist.signatures` never turns into "verified".
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { NPM_REGISTRY_KEYS } from './npm-keys.js';
import { createKeyring, KeysResponseError, parseKeysResponse } from './keyring.js';
import { makeSigningKey } from './signing-key.fixture.js';
import { SignatureMemo, verifyRegistrySignatures, type SignatureVerdict } from './verify.js';

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypeIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
}
afterEach(expectPrototypeIntact);

const HOSTILE = ['__proto__', 'constructor', 'prototype', 'polluted', 'keys', 'keyid', 'keytype', 'scheme', 'key', 'expires', 'format', 'entries', 'status'];
const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 8 }));
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, 0, 1, 'ecdsa-sha2-nistp256', 'SHA256:' + 'A'.repeat(43), '2025-01-29T00:00:00.000Z', 'verified', 'bad-signature', 'does-not-verify'),
    fc.string({ maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('parseKeysResponse (hostile input)', () => {
  const realKey = fc.constantFrom(...NPM_REGISTRY_KEYS);
  /** A keys document: real keys, and real keys with one field replaced by something hostile. */
  const keysDoc = fc.array(
    fc.oneof(
      realKey,
      fc.tuple(realKey, fc.constantFrom('keyid', 'keytype', 'scheme', 'key', 'expires', '__proto__'), hostileJson).map(([k, field, v]) => {
        const copy: Record<string, unknown> = { ...k };
        Object.defineProperty(copy, field, { value: v, enumerable: true, writable: true, configurable: true });
        return copy;
      }),
      hostileJson,
    ),
    { maxLength: 4 },
  );

  it('returns verified keys or throws KeysResponseError, whatever the document', () => {
    fc.assert(
      fc.property(fc.oneof(keysDoc.map((keys) => JSON.stringify({ keys })), hostileJson.map((v) => JSON.stringify(v) ?? ''), fc.uint8Array({ maxLength: 48 })), (body) => {
        try {
          const { keys } = parseKeysResponse(body);
          // Every key that comes back is one of npm's real keys: nothing hostile survives validation.
          for (const key of keys) expect(NPM_REGISTRY_KEYS.map((k) => k.keyid)).toContain(key.keyid);
        } catch (error) {
          if (!(error instanceof KeysResponseError)) throw new Error(`untyped error: ${String((error as Error)?.stack ?? error)}`);
        }
        expectPrototypeIntact();
      }),
      { numRuns: 500 },
    );
  });

  it('is bounded: over-limit size, too many keys, deep nesting', () => {
    expect(() => parseKeysResponse('x'.repeat(64 * 1024 + 1))).toThrow(KeysResponseError);
    expect(() => parseKeysResponse(JSON.stringify({ keys: Array(33).fill(NPM_REGISTRY_KEYS[0]) }))).toThrow(KeysResponseError);
    expect(() => parseKeysResponse(`${'['.repeat(30_000)}${']'.repeat(30_000)}`)).toThrow(KeysResponseError);
  });
});

describe('SignatureMemo.fromJSON (hostile memo file)', () => {
  const verdict: fc.Arbitrary<SignatureVerdict> = fc.oneof(
    fc.constant({ status: 'unsigned' as const }),
    fc.record({ status: fc.constant('verified' as const), keyid: fc.string({ maxLength: 10 }) }),
    fc.record({ status: fc.constant('unknown-key' as const), keyid: fc.string({ maxLength: 10 }) }),
    fc.record({ status: fc.constant('untrusted-registry' as const), registry: fc.webUrl() }),
    fc.record({ status: fc.constant('bad-signature' as const), keyid: fc.string({ maxLength: 10 }), reason: fc.constantFrom('does-not-verify' as const, 'malformed-signature' as const, 'malformed-entries' as const) }),
    fc.record({ status: fc.constant('key-expired' as const), keyid: fc.string({ maxLength: 10 }), expires: fc.constant('2025-01-29T00:00:00.000Z'), published: fc.option(fc.constant('2026-01-01T00:00:00.000Z'), { nil: null }) }),
  );
  const memoKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64'));

  it('round-trips toJSON → fromJSON', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(memoKey, verdict), { selector: ([k]) => k, maxLength: 10 }), (entries) => {
        const memo = new SignatureMemo();
        for (const [k, v] of entries) memo.set(k, v);
        const restored = SignatureMemo.fromJSON(JSON.parse(JSON.stringify(memo.toJSON())));
        expect(restored.size).toBe(entries.length);
        for (const [k, v] of entries) expect(restored.get(k)).toEqual(v);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on hostile input and keeps only well-formed verdicts', () => {
    const hostileMemo = fc.oneof(
      hostileJson,
      fc.array(fc.oneof(fc.tuple(memoKey, hostileJson), fc.tuple(hostileJson, verdict), hostileJson), { maxLength: 5 }).map((entries) => ({ format: 1, entries })),
    );
    fc.assert(
      fc.property(hostileMemo, (value) => {
        const memo = SignatureMemo.fromJSON(JSON.parse(JSON.stringify(value) ?? 'null'));
        expectPrototypeIntact();
        for (const [key, stored] of memo.toJSON().entries) {
          expect(key).toHaveLength(44);
          expect(['unsigned', 'verified', 'unknown-key', 'untrusted-registry', 'bad-signature', 'key-expired', 'needs-publish-time']).toContain(stored.status);
          // Only the fields of a verdict are kept: nothing extra rides along from the file.
          expect(Object.keys(stored).every((k) => ['status', 'keyid', 'registry', 'reason', 'expires', 'published'].includes(k))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('is bounded on a huge memo file (a million entries, capped)', () => {
    const started = performance.now();
    const entries = Array.from({ length: 1_000_000 }, (_, i) => [String(i).padStart(44, 'A'), { status: 'unsigned' }]);
    const memo = SignatureMemo.fromJSON({ format: 1, entries }, 100_000);
    expect(memo.size).toBe(100_000);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 60_000);
});

describe('verifyRegistrySignatures (hostile dist.signatures)', () => {
  const signer = makeSigningKey();
  const keyring = createKeyring({ 'https://r.example/': { keys: [signer.record] } });
  const check = { name: 'pkg', version: '1.0.0', integrity: 'sha512-AAAA', registry: 'https://r.example/', keyring };

  it('only a real signature over name@version:integrity verifies; anything else is never "verified"', () => {
    const good = { keyid: signer.record.keyid, sig: signer.sign('pkg@1.0.0:sha512-AAAA') };
    fc.assert(
      fc.property(fc.oneof(hostileJson, fc.array(fc.oneof(hostileJson, fc.record({ keyid: fc.constantFrom(signer.record.keyid, 'SHA256:x', '__proto__'), sig: fc.oneof(fc.string({ maxLength: 100 }), hostileJson) })), { maxLength: 4 })), (signatures) => {
        const verdict = verifyRegistrySignatures({ ...check, signatures });
        expect(verdict.status).not.toBe('verified');
        // Adding junk next to a good signature never makes a bad one pass, and a good one alone passes.
        const withGood = verifyRegistrySignatures({ ...check, signatures: Array.isArray(signatures) ? [good, ...signatures] : [good] });
        expect(['verified', 'bad-signature']).toContain(withGood.status);
      }),
      { numRuns: 500 },
    );
    expect(verifyRegistrySignatures({ ...check, signatures: [good] }).status).toBe('verified');
  });
});
