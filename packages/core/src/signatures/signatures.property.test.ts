/**
 * Hostile key documents and signatures: a keys document goes through the one validator (registry/keys.ts
 * `parseKeys`, which throws only its typed PortcullisError) and then `refreshKeys`, and only real keys are ever
 * trusted; a hostile `dist.signatures` never turns into "verified".
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { NPM_REGISTRY_KEYS } from './npm-keys.js';
import { PortcullisError } from '../errors.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { parseKeys, type ServedKeys } from '../registry/keys.js';
import { createKeyring, refreshKeys } from './keyring.js';
import { makeSigningKey } from './signing-key.fixture.js';
import { verifyRegistrySignatures, verifyRegistrySignaturesOffThread } from './verify.js';

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypeIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
}
afterEach(expectPrototypeIntact);

const HOSTILE = ['__proto__', 'constructor', 'prototype', 'polluted', 'keys', 'keyid', 'keytype', 'scheme', 'key', 'expires', 'status'];
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

describe('parseKeys → refreshKeys (hostile keys documents)', () => {
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

  // Only npm's own keys are configured, and an empty list for a second registry: whatever is served, the
  // keys that end up trusted are npm's real ones.
  const keyring = createKeyring({ [NPM_REGISTRY_URL]: { keys: 'npm' }, 'https://r.example/': { keys: [] } });
  const realIds = NPM_REGISTRY_KEYS.map((k) => k.keyid);

  it('parseKeys gives keys or its typed error, and refreshKeys then trusts only real keys, whatever the document', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(keysDoc.map((keys) => JSON.stringify({ keys })), hostileJson.map((v) => JSON.stringify(v) ?? ''), fc.uint8Array({ maxLength: 48 })), async (body) => {
        let served: ServedKeys | undefined;
        try {
          served = parseKeys(body);
        } catch (error) {
          if (!(error instanceof PortcullisError)) throw new Error(`untyped error: ${String((error as Error)?.stack ?? error)}`);
          expect(['METADATA_UNAVAILABLE', 'INPUT_TOO_LARGE']).toContain(error.code);
        }
        expectPrototypeIntact();
        if (served === undefined) return;
        for (const registry of [NPM_REGISTRY_URL, 'https://r.example/']) {
          const result = await refreshKeys(keyring, registry, { fetchKeys: async () => served! });
          expect(['refreshed', 'rejected']).toContain(result.status);
          // Every key trusted afterwards is one of npm's real keys: nothing hostile survives validation.
          for (const key of result.keyring.forRegistry(registry).keys.keys()) expect(realIds).toContain(key);
        }
        expectPrototypeIntact();
      }),
      { numRuns: 500 },
    );
  });

  it('is bounded: over-limit size, too many keys, deep nesting', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof PortcullisError ? error.code : `untyped: ${String(error)}`;
      }
      return 'accepted';
    };
    expect(code(() => parseKeys('x'.repeat(64 * 1024 + 1)))).toBe('INPUT_TOO_LARGE');
    expect(code(() => parseKeys(JSON.stringify({ keys: Array(33).fill(NPM_REGISTRY_KEYS[0]) })))).toBe('METADATA_UNAVAILABLE');
    expect(code(() => parseKeys(`${'['.repeat(30_000)}${']'.repeat(30_000)}`))).toBe('METADATA_UNAVAILABLE');
  });
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

  it('off the thread (verifyRegistrySignaturesOffThread): the very same verdict for any dist.signatures', async () => {
    const good = { keyid: signer.record.keyid, sig: signer.sign('pkg@1.0.0:sha512-AAAA') };
    const bad = { keyid: signer.record.keyid, sig: signer.sign('pkg@1.0.1:sha512-AAAA') };
    const entry = fc.oneof(hostileJson, fc.constantFrom(good, bad, { ...good }), fc.record({ keyid: fc.constantFrom(signer.record.keyid, 'SHA256:x', '__proto__'), sig: fc.oneof(fc.string({ maxLength: 100 }), hostileJson) }));
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileJson, fc.array(entry, { maxLength: 5 })), async (signatures) => {
        expect(await verifyRegistrySignaturesOffThread({ ...check, signatures })).toEqual(verifyRegistrySignatures({ ...check, signatures }));
      }),
      { numRuns: 500 },
    );
  });
});
