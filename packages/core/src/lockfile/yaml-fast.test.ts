import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Document, isCollection, isPair, isScalar, visit } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { parseLockfileYamlFast } from './yaml-fast.js';
import { parseYamlLockfileFully } from './yaml.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
const repoLockfile = readFileSync(fileURLToPath(new URL('../../../../pnpm-lock.yaml', import.meta.url)), 'utf8');

type Schema = 'core' | 'failsafe';

/** What the full parser makes of `text`: data and key positions (top level, then each top-level key's), or 'error'. */
function full(text: string, schema: Schema, sections: string[]) {
  try {
    const parsed = parseYamlLockfileFully(text, 'x.yaml', schema);
    return { data: parsed.data, top: [...parsed.keyLocations()], sections: sections.map((s) => [...parsed.keyLocations(s)]) };
  } catch (error) {
    if (error instanceof PortcullisError) return 'error' as const;
    throw error;
  }
}

/** The fast reader must either decline or agree with the full parser exactly: data and positions. */
function expectAgreement(text: string, schema: Schema): boolean {
  const fast = parseLockfileYamlFast(text, schema);
  if (fast === undefined) return false;
  const sections = Object.keys(fast.data);
  const slow = full(text, schema, sections);
  expect(slow, `the full parser rejects a document the fast reader accepted:\n${text.slice(0, 500)}`).not.toBe('error');
  if (slow === 'error') return true;
  // Same values and the same key order (toStrictEqual would compare an own `constructor` key as the class).
  expect(fast.data).toEqual(slow.data);
  expect(JSON.stringify(fast.data)).toBe(JSON.stringify(slow.data));
  expect([...fast.topLocations]).toEqual(slow.top);
  expect(sections.map((s) => [...(fast.locations.get(s) ?? [])])).toEqual(slow.sections);
  return true;
}

describe('parseLockfileYamlFast', () => {
  it('reads real lockfiles written by pnpm 10, pnpm 12 and Yarn 4 (and this repository\'s) exactly as the full parser does', () => {
    expect(expectAgreement(fixture('pnpm10.pnpm-lock.yaml'), 'core')).toBe(true);
    expect(expectAgreement(repoLockfile, 'core')).toBe(true);
    expect(expectAgreement(fixture('yarn4.yarn.lock'), 'failsafe')).toBe(true);
    // pnpm 11+ with config dependencies writes two YAML documents: the full parser's business.
    expect(parseLockfileYamlFast(fixture('pnpm12-config-dependencies.pnpm-lock.yaml'), 'core')).toBeUndefined();
  });

  it('keeps the Unicode spaces a YAML parser keeps in a scalar, and declines where that parser fails', () => {
    // YAML's white space is the space and the tab: U+00A0, U+3000 or U+FEFF at a scalar's end belong to it, and after a
    // quoted scalar or a flow collection they are an error. JavaScript's trim drops them all.
    for (const text of ['a: b\u00a0\n', 'a: b\u3000\n', 'a: b\ufeff\n', 'a:  \u00a0b  \n', 'l:\n  - x\u00a0\n', 'a: {b: c\u00a0}\n', "a: 'q'\u00a0\n", 'a: "q"\u3000\n', 'a: {b: c}\u00a0\n', 'a: [x]\ufeff\n']) {
      const fast = parseLockfileYamlFast(text, 'core');
      if (full(text, 'core', []) === 'error') expect(fast, JSON.stringify(text)).toBeUndefined();
      else expectAgreement(text, 'core'); // agrees, or declines (the full parser reads it then)
    }
  });

  it('declines what is outside its subset', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      'a: |\n  text\n',
      'a:\n  b: 1\n\tc: 2\n',
      'a: 1\r\n',
      'a: 1 # comment\n',
      'a:\n- 1\n',
      'a:\n',
      'a: 1\na: 2\n',
      '__proto__: 1\n',
      '1: x\n',
      'a: {b: {c: 1}}\n',
      'a: plain\n  continued\n',
      '---\na: 1\n',
      'a: 0x1F\n',
      'a: "\\x41"\n',
    ]) {
      expect(parseLockfileYamlFast(text, 'core'), JSON.stringify(text)).toBeUndefined();
    }
  });

  const key = fc.oneof(
    fc.constantFrom('a', 'packages', 'snapshots', '@scope/name@1.0.0', 'name@npm:1.0.0, name@npm:^1.0.0', 'resolution', 'integrity', 'x y', 'true', '1', '1.0', '-x', 'a:b', 'a: b', '#x', "it's", 'q"uote', 'constructor', ''),
    fc.string({ maxLength: 12 }),
  );
  const scalar = fc.oneof(
    fc.constantFrom('1.0.0', 'sha512-AAAA==', 'https://r.example/a/-/a-1.0.0.tgz', 'true', 'false', 'null', '~', '1', '-2', '1.10', '.5', '1e3', '0o7', '0x1F', '.inf', 'yes', "it's", 'a: b', 'a #b', '#x', '', ' ', '@x', '[x]', '{x}', 'a,b', '>=18', '1.0.0(react@18.0.0)', '\\', '"q"', 'multi\nline', '\u00e9', 'x\u00a0', '\u00a0x', '\u00a0', 'x\u3000', 'x\ufeff'),
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  const leaf = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(key, scalar, { maxKeys: 3 }));
  const doc = fc.dictionary(key, fc.oneof(leaf, fc.dictionary(key, fc.oneof(leaf, fc.dictionary(key, leaf, { maxKeys: 3 })), { maxKeys: 4 })), { maxKeys: 5 });

  it('agrees with the full parser on generated documents, as the yaml library writes them in block and flow styles', () => {
    let accepted = 0;
    fc.assert(
      fc.property(doc, fc.constantFrom('core', 'failsafe') as fc.Arbitrary<Schema>, fc.boolean(), (value, schema, flowLeaves) => {
        const written = new Document(value);
        // pnpm writes collections of scalars in flow style (`resolution: {integrity: …}`, `cpu: [x64]`).
        if (flowLeaves) {
          visit(written, {
            Collection(_, node) {
              if (node.items.every((item) => isScalar(item) || (!isCollection(item) && isPair(item) && (isScalar(item.value) || item.value === null)))) node.flow = true;
            },
          });
        }
        const text = written.toString({ indent: 2, flowCollectionPadding: false });
        if (expectAgreement(text, schema)) accepted++;
      }),
      { numRuns: 400 },
    );
    // The property means something only if the fast reader takes a good share of the documents.
    expect(accepted).toBeGreaterThan(50); // measured: about 100 of 400 (random strings often need what only the full parser reads)
  });

  it('agrees with the full parser on lockfiles damaged at random (or declines them)', () => {
    const base = fixture('pnpm10.pnpm-lock.yaml');
    const yarn = fixture('yarn4.yarn.lock');
    const damage = fc.record({
      at: fc.nat(),
      cut: fc.nat({ max: 20 }),
      insert: fc.oneof(fc.constantFrom(' ', '  ', '\n', ':', ': ', '- ', "'", '"', '{', '}', '[', ']', ',', '#', ' #', '&a ', '*a', '!', '|', '>', '\\', '__proto__: 1\n', 'true', '1', 'a'), fc.string({ maxLength: 6 })),
    });
    fc.assert(
      fc.property(fc.constantFrom(['core', base] as const, ['failsafe', yarn] as const), fc.array(damage, { minLength: 1, maxLength: 4 }), ([schema, text], damages) => {
        let damaged = text;
        for (const d of damages) {
          const at = d.at % (damaged.length + 1);
          damaged = damaged.slice(0, at) + d.insert + damaged.slice(at + d.cut);
        }
        expectAgreement(damaged, schema);
      }),
      { numRuns: 500 },
    );
  });
});
