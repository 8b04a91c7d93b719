/**
 * Hostile portcullis.json: the located JSON parser agrees with JSON.parse, and the policy parser turns
 * any text into a Policy or a POLICY_INVALID error — never another crash, never a polluted prototype,
 * always in bounded time. Valid policies generated from arbitraries parse back to what was written.
 */
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { isValidPackageName } from '../package-name.js';
import { JsonSyntaxError, parseJsonWithLocations, type JsonNode } from './json.js';
import { parsePolicy } from './load.js';
import type { Policy } from './types.js';

const FILE = '/repo/portcullis.json';
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypeIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
}
afterEach(expectPrototypeIntact);

/** parsePolicy, where anything thrown must be POLICY_INVALID naming the file (and a line and column). */
function policyOrError(text: string): Policy | PortcullisError {
  try {
    const policy = parsePolicy(text, FILE);
    expectPrototypeIntact();
    return policy;
  } catch (error) {
    if (!(error instanceof PortcullisError)) throw new Error(`untyped error: ${String((error as Error)?.stack ?? error)}`);
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message.startsWith(FILE)).toBe(true);
    return error;
  }
}

/** The plain value of a located tree, keys set as own properties (as JSON.parse does, `__proto__` included). */
function plain(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) Object.defineProperty(out, e.key, { value: plain(e.value), enumerable: true, writable: true, configurable: true });
      return out;
    }
    case 'array':
      return node.items.map(plain);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'polluted', 'scripts', 'allow', 'signatures', 'registries', 'keys', '$schema', 'toString', 'hasOwnProperty', 'provenance', 'require', 'publishers', 'repository', 'workflow', 'repositoryId', 'noDowngrade', 'trustedRoot'];
const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 }));
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -0, 1e308, 'npm', 'registry', 'off', 'esbuild', 'sharp@^0.34.0', '__proto__', '../x', 'x@npm:y@1', 'a@^^1', '@s/x@1', '@s/*', '@s/*@1', 'github.com/a/b', '../w.yml'),
    fc.string({ maxLength: 20 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('parseJsonWithLocations (hostile input)', () => {
  it('agrees with JSON.parse on every valid JSON text', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 8 }), (text) => {
        expect(plain(parseJsonWithLocations(text))).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a string exactly when JSON.parse does; otherwise a JsonSyntaxError with a position', () => {
    const jsonish = fc.stringMatching(/^[\s{}[\]:,"\\a-z0-9.eE+\-_]{0,30}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), jsonish, fc.string({ unit: 'binary', maxLength: 20 })), (text) => {
        let expected: unknown;
        let valid = true;
        try {
          expected = JSON.parse(text);
        } catch {
          valid = false;
        }
        try {
          const tree = parseJsonWithLocations(text);
          expect(valid, `accepted what JSON.parse rejects: ${JSON.stringify(text)}`).toBe(true);
          expect(plain(tree)).toStrictEqual(expected);
        } catch (error) {
          if (!(error instanceof JsonSyntaxError)) throw error;
          expect(valid, `rejected what JSON.parse accepts: ${JSON.stringify(text)}`).toBe(false);
          expect(error.location.line).toBeGreaterThanOrEqual(1);
          expect(error.location.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps __proto__ and constructor keys as plain entries', () => {
    const tree = parseJsonWithLocations('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}');
    expect(tree.kind === 'object' && tree.entries.map((e) => e.key)).toEqual(['__proto__', 'constructor']);
  });

  it('is bounded: deep nesting, a million entries, a 10 MB string, long numbers', () => {
    const started = performance.now();
    expect(() => parseJsonWithLocations('['.repeat(1_000_000))).toThrow(JsonSyntaxError);
    expect(() => parseJsonWithLocations('{"a":'.repeat(100_000))).toThrow(/nesting deeper/);
    const million = `[${Array.from({ length: 1_000_000 }, () => '1').join(',')}]`;
    const tree = parseJsonWithLocations(million);
    expect(tree.kind === 'array' && tree.items.length).toBe(1_000_000);
    expect(parseJsonWithLocations(`"${'a'.repeat(10_000_000)}"`).kind).toBe('string');
    expect(() => parseJsonWithLocations(`"${'a'.repeat(10_000_000)}`)).toThrow(/unterminated/);
    expect(() => parseJsonWithLocations('1'.repeat(1_000_000))).toThrow(JsonSyntaxError);
    expect(performance.now() - started).toBeLessThan(15_000);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

const SEGMENT = /^[a-z0-9][a-z0-9._-]{0,10}$/;
const validName = fc
  .tuple(fc.option(fc.stringMatching(SEGMENT), { nil: undefined }), fc.stringMatching(SEGMENT))
  .map(([scope, name]) => (scope === undefined ? name : `@${scope}/${name}`))
  .filter(isValidPackageName);
const range = fc.constantFrom('^1.0.0', '~0.34.1', '1.2.3', '>=1 <3', '1.x', '*', '^0.0.1-rc.1', '1.2.3 - 2.0.0', '<2 || >=4');
const spec = fc.oneof(
  fc.tuple(validName, fc.option(range, { nil: undefined })).map(([name, r]) => (r === undefined ? name : `${name}@${r}`)),
  fc.stringMatching(SEGMENT).filter((scope) => isValidPackageName(`@${scope}/x`)).map((scope) => `@${scope}/*`),
);
const pin = fc.record(
  { repository: fc.constantFrom('github.com/sigstore/sigstore-js', 'GitHub.com/A/B', 'gitlab.com/g/sub/r'), workflow: fc.constantFrom('.github/workflows/publish.yml', 'release.yml'), repositoryId: fc.stringMatching(/^[0-9]{1,12}$/), ownerId: fc.stringMatching(/^[0-9]{1,12}$/) },
  { requiredKeys: ['repository', 'workflow'] },
);
const policyInput = fc.record(
  {
    scripts: fc.record({ allow: fc.uniqueArray(spec, { maxLength: 8 }) }, { requiredKeys: [] }),
    signatures: fc.record({ require: fc.constantFrom('registry', 'off'), allowUnsigned: fc.uniqueArray(spec, { maxLength: 5 }) }, { requiredKeys: [] }),
    registries: fc.dictionary(fc.constantFrom('https://npm.example.corp/', 'http://127.0.0.1:4873/', 'https://r.example/api/npm/'), fc.constant({ keys: 'npm' as const }), { maxKeys: 3 }),
    provenance: fc.record(
      { require: fc.uniqueArray(spec, { maxLength: 5 }), publishers: fc.dictionary(spec, pin, { maxKeys: 3 }), noDowngrade: fc.boolean(), allowDowngrade: fc.uniqueArray(spec, { maxLength: 3 }), trustedRoot: fc.constantFrom('root.json', './a/root.json', '/abs/root.json') },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

describe('parsePolicy (hostile input)', () => {
  it('round-trips generated valid policies: the specs, require and registries written are the ones read', () => {
    fc.assert(
      fc.property(policyInput, fc.constantFrom(0, 2, '\t'), (input, indent) => {
        const policy = policyOrError(JSON.stringify(input, null, indent));
        expect(policy).not.toBeInstanceOf(PortcullisError);
        const p = policy as Policy;
        const asRaw = (list: Policy['scripts']['allow']) => list.map((s) => ({ raw: s.raw, name: s.name, range: s.range }));
        const expectSpecs = (written: string[] | undefined) =>
          (written ?? []).map((raw) => {
            const at = raw.indexOf('@', 1);
            return { raw, name: at === -1 ? raw : raw.slice(0, at), range: at === -1 ? null : raw.slice(at + 1) };
          });
        expect(asRaw(p.scripts.allow)).toEqual(expectSpecs(input.scripts?.allow));
        expect(asRaw(p.signatures.allowUnsigned)).toEqual(expectSpecs(input.signatures?.allowUnsigned));
        expect(p.signatures.require).toBe(input.signatures?.require ?? 'registry');
        for (const url of Object.keys(input.registries ?? {})) expect(p.registries[url]).toEqual({ keys: 'npm' });
        expect(p.registries['https://registry.npmjs.org/']).toEqual({ keys: 'npm' });
        expect(asRaw(p.provenance.require)).toEqual(expectSpecs(input.provenance?.require));
        expect(asRaw(p.provenance.allowDowngrade)).toEqual(expectSpecs(input.provenance?.allowDowngrade));
        expect(p.provenance.publishers.map((r) => [r.spec.raw, r.publisher])).toEqual(Object.entries(input.provenance?.publishers ?? {}));
        expect(p.provenance.noDowngrade).toBe(input.provenance?.noDowngrade ?? true);
        expect(p.provenance.trustedRoot).toBe(input.provenance?.trustedRoot === undefined ? null : resolve('/repo', input.provenance.trustedRoot));
      }),
      { numRuns: 300 },
    );
  });

  it('any JSON value, with hostile keys at any level, gives a Policy or POLICY_INVALID', () => {
    fc.assert(
      fc.property(hostileJson, (value) => void policyOrError(JSON.stringify(value))),
      { numRuns: 1000 },
    );
  });

  it('policy-shaped JSON with hostile keys and values anywhere gives a Policy or POLICY_INVALID', () => {
    const shaped = fc.record({ scripts: fc.dictionary(hostileKey, hostileJson, { maxKeys: 2 }), signatures: fc.dictionary(hostileKey, hostileJson, { maxKeys: 2 }), registries: fc.dictionary(fc.oneof(hostileKey, fc.webUrl()), hostileJson, { maxKeys: 2 }), provenance: fc.dictionary(hostileKey, hostileJson, { maxKeys: 3 }) }, { requiredKeys: [] });
    const publishers = fc.record({ provenance: fc.record({ publishers: fc.dictionary(fc.oneof(hostileKey, spec), fc.dictionary(hostileKey, hostileJson, { maxKeys: 4 }), { maxKeys: 2 }) }) });
    fc.assert(fc.property(publishers, (value) => void policyOrError(JSON.stringify(value))), { numRuns: 500 });
    fc.assert(fc.property(shaped, (value) => void policyOrError(JSON.stringify(value))), { numRuns: 500 });
  });

  it('__proto__, constructor and prototype keys at every level are refused as unknown keys, not merged', () => {
    for (const text of [
      '{"__proto__": {"polluted": true}}',
      '{"scripts": {"__proto__": {"polluted": true}, "allow": []}}',
      '{"signatures": {"constructor": {"prototype": {"polluted": true}}}}',
      '{"registries": {"__proto__": {"keys": "npm"}}}',
      '{"registries": {"https://r.example/": {"keys": [{"__proto__": {"polluted": true}}]}}}',
      '{"registries": {"https://r.example/": {"keys": "npm", "constructor": {}}}}',
    ]) {
      expect(policyOrError(text), text).toBeInstanceOf(PortcullisError);
    }
  });

  it('a duplicate field inside a registry key is refused, not silently overridden', () => {
    const key = { keyid: `SHA256:${'A'.repeat(43)}`, keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'AAAA', expires: null };
    const text = JSON.stringify({ registries: { 'https://r.example/': { keys: [key] } } }).replace('"expires":null', '"expires":null,"expires":"2020-01-01T00:00:00.000Z"');
    const error = policyOrError(text);
    expect(error).toBeInstanceOf(PortcullisError);
    expect((error as PortcullisError).message).toContain('duplicate key "expires"');
  });

  it('spec strings that smuggle paths, aliases or bad ranges are refused', () => {
    for (const entry of ['../x', '/abs', 'a\\b', 'x\u0000', '@s/../x', '.hidden', '_x', 'x@npm:y@1', 'x@', 'x@^^1', 'X'.repeat(215), `x@${'>'.repeat(10_000)}1`, '__proto__']) {
      expect(policyOrError(JSON.stringify({ scripts: { allow: [entry] } })), entry).toBeInstanceOf(PortcullisError);
    }
    // Odd but legal: a real npm name, and a long intersection of ranges (parsed in bounded time).
    for (const entry of ['constructor@1', `x@${'1 '.repeat(5000)}`]) {
      expect(policyOrError(JSON.stringify({ scripts: { allow: [entry] } })), entry).not.toBeInstanceOf(PortcullisError);
    }
  });

  it('is bounded: 200,000 allow entries, long ranges, a duplicate at the end', () => {
    const started = performance.now();
    const names = Array.from({ length: 200_000 }, (_, i) => `pkg-${i}`);
    const big = policyOrError(JSON.stringify({ scripts: { allow: names } }));
    expect((big as Policy).scripts.allow).toHaveLength(200_000);
    expect(policyOrError(JSON.stringify({ scripts: { allow: [...names, 'pkg-7'] } }))).toBeInstanceOf(PortcullisError);
    const ranges = Array.from({ length: 5_000 }, (_, i) => `p${i}@>=1.0.${i} <2.0.0 || ^3.${i}.0`);
    expect((policyOrError(JSON.stringify({ signatures: { allowUnsigned: ranges } })) as Policy).signatures.allowUnsigned).toHaveLength(5_000);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
