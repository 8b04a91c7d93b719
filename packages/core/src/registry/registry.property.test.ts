/**
 * Hostile registry responses and configuration: packuments, keys documents, `.npmrc` and `.yarnrc.yml`.
 * Whatever arrives, the parsers return validated data or a typed PortcullisError — never another crash,
 * never a polluted prototype, always in bounded time.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as yamlStringify } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { parseKeys } from './keys.js';
import { parseNpmrc, registryConfigFromNpmrc } from './npmrc.js';
import { packumentFromJson, packumentToJson, parsePackument, type Packument } from './packument.js';
import { loadYarnConfig } from './yarnrc.js';

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
function expectPrototypeIntact(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
}
afterEach(expectPrototypeIntact);

/** Runs `fn`; anything thrown must be a PortcullisError with one of `codes`. */
function typed<T>(fn: () => T, codes: readonly string[]): T | PortcullisError {
  try {
    const value = fn();
    expectPrototypeIntact();
    return value;
  } catch (error) {
    if (!(error instanceof PortcullisError)) throw new Error(`untyped error: ${String((error as Error)?.stack ?? error)}`);
    expect(codes).toContain(error.code);
    return error;
  }
}

const HOSTILE = ['__proto__', 'constructor', 'prototype', 'polluted', 'versions', 'dist', 'signatures', 'scripts', 'time', 'name', '1.0.0', 'toString'];
const hostileKey = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 10 }));
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, 1.5, 'pkg', '1.0.0', 'sha512-AAAA', '__proto__'),
    fc.string({ maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const semver = fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map(([a, b, c]) => `${a}.${b}.${c}`);
const base64 = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));
const versionEntry = (name: string, version: string) =>
  fc.record(
    {
      name: fc.constant(name),
      version: fc.constant(version),
      dist: fc.record({ integrity: base64(64, 64).map((b) => `sha512-${b}`), tarball: fc.constant(`https://r.test/${name}/-/${name}-${version}.tgz`), signatures: fc.array(fc.record({ keyid: fc.constant('SHA256:abc'), sig: base64(70, 72) }), { maxLength: 2 }) }),
      hasInstallScript: fc.boolean(),
      gypfile: fc.boolean(),
      scripts: fc.dictionary(fc.constantFrom('preinstall', 'install', 'postinstall', 'test', '__proto__', 'constructor'), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
    },
    { requiredKeys: ['name', 'version', 'dist'] },
  );
const packumentDoc = fc
  .uniqueArray(semver, { minLength: 1, maxLength: 6 })
  .chain((versions) => fc.tuple(fc.constant(versions), fc.tuple(...versions.map((v) => versionEntry('pkg', v)))))
  .map(([versions, entries]) => ({
    name: 'pkg',
    versions: Object.fromEntries(versions.map((v, i) => [v, entries[i]])),
    time: Object.fromEntries(versions.map((v) => [v, '2026-01-01T00:00:00.000Z'])),
  }));

/** Replaces one value somewhere in a JSON-shaped document (own properties only, `__proto__` included). */
function mutateAt(doc: unknown, pick: number, replacement: unknown, key: string): unknown {
  const copy = structuredClone(doc);
  const slots: Array<[Record<string, unknown>, string]> = [];
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    for (const k of Object.keys(node)) {
      slots.push([node as Record<string, unknown>, k]);
      walk((node as Record<string, unknown>)[k]);
    }
  };
  walk(copy);
  const [parent, k] = slots[pick % slots.length]!;
  // A named key on an array is not JSON (JSON.stringify drops it, and `length` cannot be redefined): replace the element instead.
  const name = pick % 2 === 0 || Array.isArray(parent) ? k : key;
  Object.defineProperty(parent, name, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

describe('parsePackument (hostile input)', () => {
  const codes = ['METADATA_UNAVAILABLE', 'INPUT_TOO_LARGE'];

  it('round-trips generated packuments through the cache projection', () => {
    fc.assert(
      fc.property(packumentDoc, fc.constantFrom('abbreviated', 'full') as fc.Arbitrary<'abbreviated' | 'full'>, (doc, kind) => {
        const parsed = typed(() => parsePackument(JSON.stringify(doc), { name: 'pkg', kind }), codes) as Packument;
        expect(parsed).not.toBeInstanceOf(PortcullisError);
        expect([...parsed.versions.keys()].sort()).toEqual(Object.keys(doc.versions).sort());
        for (const [version, entry] of parsed.versions) {
          const written = doc.versions[version]!;
          expect(entry.dist.integrity).toBe(written.dist.integrity);
          expect(entry.dist.signatures).toEqual(written.dist.signatures);
          if (kind === 'full' && written.scripts) expect({ ...entry.scripts }).toEqual({ ...written.scripts });
          if (entry.scripts) expect(Object.getPrototypeOf(entry.scripts)).toBeNull();
        }
        // What the cache stores parses back to the same packument.
        const again = packumentFromJson(JSON.parse(JSON.stringify(packumentToJson(parsed))), { name: 'pkg', kind });
        expect(again).toEqual(parsed);
      }),
      { numRuns: 200 },
    );
  });

  it('mutated packuments (hostile keys and values anywhere) parse safely or fail typed', () => {
    fc.assert(
      fc.property(packumentDoc, fc.nat(), hostileJson, hostileKey, fc.constantFrom('abbreviated', 'full') as fc.Arbitrary<'abbreviated' | 'full'>, (doc, pick, value, key, kind) => {
        const parsed = typed(() => parsePackument(JSON.stringify(mutateAt(doc, pick, value, key)), { name: 'pkg', kind }), codes);
        if (parsed instanceof PortcullisError) return;
        for (const [version, entry] of parsed.versions) {
          expect(entry.version).toBe(version);
          expect(typeof entry.dist).toBe('object');
          for (const s of entry.dist.signatures) expect([typeof s.keyid, typeof s.sig]).toEqual(['string', 'string']);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any bytes or JSON value fail typed', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), hostileJson.map((v) => JSON.stringify(v) ?? '')), (input) => {
        typed(() => parsePackument(input, { name: 'pkg', kind: 'full' }), codes);
      }),
      { numRuns: 500 },
    );
  });

  it('a missing "versions", a missing version and a packument of another name are refused or reported', () => {
    expect(typed(() => parsePackument('{"name":"pkg"}', { name: 'pkg', kind: 'abbreviated' }), codes)).toBeInstanceOf(PortcullisError);
    expect(typed(() => parsePackument('{"name":"pkg","versions":null}', { name: 'pkg', kind: 'abbreviated' }), codes)).toBeInstanceOf(PortcullisError);
    expect(typed(() => parsePackument('{"name":"evil","versions":{}}', { name: 'pkg', kind: 'abbreviated' }), codes)).toBeInstanceOf(PortcullisError);
    const p = parsePackument('{"name":"pkg","versions":{"__proto__":{"polluted":1},"1.0.0":{"version":"1.0.0","dist":"x"}}}', { name: 'pkg', kind: 'full' });
    expect(p.versions.size).toBe(0);
    expect(p.invalidVersions.get('1.0.0')).toContain('dist');
  });

  it('is bounded: over-limit bytes, deep nesting, 200,000 versions, long strings', () => {
    const started = performance.now();
    expect((typed(() => parsePackument(new Uint8Array(64 * 1024 * 1024 + 1), { name: 'pkg', kind: 'full' }), codes) as PortcullisError).code).toBe('INPUT_TOO_LARGE');
    expect(typed(() => parsePackument(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, { name: 'pkg', kind: 'full' }), codes)).toBeInstanceOf(PortcullisError);
    expect(typed(() => parsePackument(`{"name":"pkg","versions":{"1.0.0":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}`, { name: 'pkg', kind: 'full' }), codes)).not.toBeInstanceOf(PortcullisError);
    const versions: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) versions[`1.0.${i}`] = { version: `1.0.${i}`, dist: { integrity: 'sha512-AA==', signatures: [{ keyid: 'k', sig: 's' }] } };
    expect((parsePackument(JSON.stringify({ name: 'pkg', versions }), { name: 'pkg', kind: 'abbreviated' })).versions.size).toBe(200_000);
    const long = parsePackument(JSON.stringify({ name: 'pkg', versions: { [`1.0.0-${'a'.repeat(5_000_000)}`]: {} } }), { name: 'pkg', kind: 'full' });
    expect(long.invalidVersions.size).toBe(1);
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 60_000);
});

describe('parseKeys (the one validator of /-/npm/v1/keys)', () => {
  it('any bytes or JSON value give keys or a typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), hostileJson.map((v) => JSON.stringify(v) ?? ''), hostileJson.map((v) => JSON.stringify({ keys: [v] }))), (input) => {
        const keys = typed(() => parseKeys(input), ['METADATA_UNAVAILABLE', 'INPUT_TOO_LARGE']);
        if (!(keys instanceof PortcullisError)) for (const k of keys) expect(typeof k.keyid).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('is bounded on an over-limit document', () => {
    expect((typed(() => parseKeys(new Uint8Array(1024 * 1024 + 1)), ['INPUT_TOO_LARGE']) as PortcullisError).code).toBe('INPUT_TOO_LARGE');
  });
});

// ---------------------------------------------------------------------------------------------

describe('parseNpmrc (hostile input)', () => {
  const line = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.tuple(fc.constantFrom('registry', '@s:registry', '//r.example/:_authToken', '__proto__', 'constructor', 'prototype', '${HOME}', 'key[]', '[section]', ';c', '#c'), fc.string({ maxLength: 20 })).map(([k, v]) => `${k}=${v}`),
  );

  it('never throws, never pollutes, and hands back only string keys and values', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), fc.constantFrom('\n', '\r\n', '\r'), (lines, eol) => {
        const values = parseNpmrc(lines.join(eol), { HOME: '/home/u', __proto__: 'x' } as Record<string, string>);
        expectPrototypeIntact();
        for (const [k, v] of values) expect([typeof k, typeof v]).toEqual(['string', 'string']);
        // Building a registry configuration from it fails typed (a bad URL) or succeeds.
        typed(() => registryConfigFromNpmrc(values), ['USAGE']);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips generated key = value lines', () => {
    const key = fc.stringMatching(/^[a-z@/:_-][a-z0-9@/:._-]{0,15}$/).filter((k) => !k.endsWith('[]'));
    const value = fc.stringMatching(/^[A-Za-z0-9/:._@-]{0,20}$/);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 8 }), (pairs) => {
        const values = parseNpmrc(pairs.map(([k, v]) => `${k} = ${v}`).join('\n'));
        expect([...values]).toEqual(pairs);
      }),
      { numRuns: 200 },
    );
  });

  it('is bounded on a megabyte of escapes, expansions and one long line', () => {
    const started = performance.now();
    parseNpmrc(`x=${'\\'.repeat(1_000_000)}`);
    parseNpmrc(`x=${'${'.repeat(300_000)}`);
    parseNpmrc(`x=${'${A}'.repeat(200_000)}`, { A: 'a'.repeat(10) });
    parseNpmrc('a=b\n'.repeat(250_000));
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 60_000);
});

describe('loadYarnConfig (hostile .yarnrc.yml)', () => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-yarnrc-'));
  const home = join(root, 'home');
  mkdirSync(home);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const load = (text: string, env: Record<string, string> = {}) => {
    const dir = join(root, `p${n++}`);
    mkdirSync(dir);
    writeFileSync(join(dir, '.yarnrc.yml'), text);
    return typed(() => loadYarnConfig({ projectDir: dir, homeDir: home, env }), ['USAGE']);
  };

  const settings = fc.record(
    {
      npmRegistryServer: fc.oneof(fc.webUrl(), hostileJson),
      npmAuthToken: fc.oneof(fc.string({ maxLength: 10 }), hostileJson),
      npmScopes: fc.dictionary(hostileKey, fc.record({ npmRegistryServer: fc.oneof(fc.webUrl(), hostileJson), npmAuthToken: fc.string({ maxLength: 8 }) }, { requiredKeys: [] }), { maxKeys: 3 }),
      npmRegistries: fc.dictionary(fc.oneof(hostileKey, fc.webUrl(), fc.constant('//r.example/')), fc.record({ npmAuthToken: fc.string({ maxLength: 8 }), npmAuthIdent: fc.string({ maxLength: 8 }) }, { requiredKeys: [] }), { maxKeys: 3 }),
      __proto__: hostileJson,
      constructor: hostileJson,
    },
    { requiredKeys: [] },
  );

  it('any settings, hostile keys included, give a RegistryConfig or a USAGE error', () => {
    fc.assert(
      fc.property(settings, (value) => {
        let text: string;
        try {
          text = yamlStringify(value);
        } catch {
          return;
        }
        const config = load(text);
        if (config instanceof PortcullisError) return;
        expect(Object.getPrototypeOf(config.scopes)).toBeNull();
        expect(Object.getPrototypeOf(config.auth)).toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it('arbitrary text, merge keys and alias bombs give a config or a USAGE error, in bounded time', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (text) => void load(text)), { numRuns: 100 });
    const started = performance.now();
    expect(load('<<: {__proto__: {polluted: 1}}\nnpmScopes:\n  __proto__: {npmRegistryServer: "https://evil.example/"}\n')).not.toBeInstanceOf(PortcullisError);
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x,x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`)].join('\n');
    expect(load(bomb)).toBeInstanceOf(PortcullisError);
    expect(load(`npmRegistryServer: ${'['.repeat(10_000)}`)).toBeInstanceOf(PortcullisError);
    expect(load(`npmRegistryServer: "${'a'.repeat(1_100_000)}"`)).toBeInstanceOf(PortcullisError);
    expect(load('npmRegistryServer: "file:///etc/passwd"')).toBeInstanceOf(PortcullisError);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 60_000);
});
