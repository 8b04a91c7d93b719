import { describe, expect, it } from 'vitest';
import { MAX_ATTESTATIONS, MAX_ATTESTATIONS_BYTES, slsaBundlesOf } from './attestations.js';
import { attestationVector, attestationVectors } from './vectors.fixture.js';

const SLSA = 'https://slsa.dev/provenance/v1';
const errorOf = (document: unknown) => {
  const result = slsaBundlesOf(document);
  if (!('error' in result)) throw new Error(`accepted: ${JSON.stringify(result).slice(0, 80)}`);
  return result.error;
};

describe('slsaBundlesOf', () => {
  it('finds the one SLSA provenance bundle of each real document (v0.2 and v1), not the publish attestation', () => {
    for (const vector of attestationVectors()) {
      const result = slsaBundlesOf(vector.document);
      expect('bundles' in result && result.bundles.map((b) => b.predicateType), vector.file).toEqual([
        vector.name === '@playwright/cli' ? 'https://slsa.dev/provenance/v1' : 'https://slsa.dev/provenance/v0.2',
      ]);
    }
  });

  it('gives an empty list when nothing is SLSA provenance (missing, not an error)', () => {
    expect(slsaBundlesOf({ attestations: [] })).toEqual({ bundles: [] });
    expect(slsaBundlesOf({ attestations: [{ predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1', bundle: {} }] })).toEqual({ bundles: [] });
    // Exact predicate types only: a look-alike is not provenance.
    expect(slsaBundlesOf({ attestations: [{ predicateType: 'https://slsa.dev/provenance/v1.evil', bundle: {} }] })).toEqual({ bundles: [] });
  });

  it('refuses documents of the wrong shape', () => {
    for (const document of [null, 'x', 42, [], { attestations: 'x' }, { attestations: {} }, { attestations: { length: 1, 0: { predicateType: SLSA, bundle: {} } } }]) {
      expect(errorOf(document), JSON.stringify(document)).toMatch(/not a JSON object|no attestations list/);
    }
    expect(errorOf({ attestations: [42] })).toContain('not a JSON object');
    expect(errorOf({ attestations: [{ bundle: {} }] })).toContain('no predicateType');
    expect(errorOf({ attestations: [{ predicateType: SLSA, bundle: [] }] })).toContain('no bundle object');
    expect(errorOf({ attestations: [{ predicateType: SLSA }] })).toContain('no bundle object');
  });

  it('reads own properties only: __proto__ and inherited fields are not attestations', () => {
    const real = attestationVector('sigstore', '1.0.0').document;
    expect(errorOf(JSON.parse(`{"__proto__": ${JSON.stringify(real)}}`))).toContain('no attestations list');
    expect(errorOf(Object.create(real))).toContain('no attestations list');
    const entry = Object.create({ predicateType: SLSA, bundle: {} });
    expect(errorOf({ attestations: [entry] })).toContain('no predicateType');
    // A bundle's inherited fields do not survive into what is verified.
    const bundle = Object.assign(Object.create({ mediaType: 'inherited' }), { own: 1 });
    const result = slsaBundlesOf({ attestations: [{ predicateType: SLSA, bundle }] });
    const copy = 'bundles' in result ? (result.bundles[0]!.bundle as Record<string, unknown>) : {};
    expect(copy).toEqual({ own: 1 });
    expect('mediaType' in copy).toBe(false);
    expect(({} as Record<string, unknown>).attestations).toBeUndefined();
  });

  it('bounds counts and sizes', () => {
    const many = { attestations: Array.from({ length: 5000 }, () => ({ predicateType: 'x', bundle: {} })) };
    expect(errorOf(many)).toContain(`5000 attestations (at most ${MAX_ATTESTATIONS})`);
    expect(errorOf({ attestations: Array.from({ length: 5 }, () => ({ predicateType: SLSA, bundle: {} })) })).toContain('more than 4 SLSA provenance');
    const huge = { attestations: [{ predicateType: SLSA, bundle: { payload: 'x'.repeat(MAX_ATTESTATIONS_BYTES) } }] };
    expect(errorOf(huge)).toContain('larger than');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorOf({ attestations: [{ predicateType: SLSA, bundle: cyclic }] })).toContain('not plain JSON data');
  });
});
