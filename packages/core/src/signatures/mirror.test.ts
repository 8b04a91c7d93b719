import { describe, expect, it } from 'vitest';
import { describeSignatureStripping, detectSignatureStripping } from './mirror.js';

const MIRROR = 'https://mirror.example/';
const unsigned = { status: 'unsigned' };
const verified = { status: 'verified', keyid: 'k' };

describe('detectSignatureStripping', () => {
  it('finds a registry that served no signatures for any of its packages', () => {
    const results = [
      { registry: MIRROR, evidence: unsigned, package: 'a@1.0.0' },
      { registry: 'HTTPS://MIRROR.example:443', evidence: unsigned, package: 'b@2.0.0' },
      { registry: 'https://registry.npmjs.org/', evidence: verified },
      { registry: 'https://registry.npmjs.org/', evidence: unsigned },
    ];
    expect(detectSignatureStripping(results)).toEqual([{ registry: MIRROR, count: 2, packages: ['a@1.0.0', 'b@2.0.0'] }]);
  });

  it('needs two packages, or one when the registry has no keys endpoint', () => {
    const one = [{ registry: MIRROR, evidence: unsigned }];
    expect(detectSignatureStripping(one)).toEqual([]);
    expect(detectSignatureStripping(one, { withoutKeysEndpoint: ['https://mirror.example'] })).toEqual([{ registry: MIRROR, count: 1, packages: [] }]);
  });

  it('is not fooled by one signed package, and ignores unavailable metadata', () => {
    const mixed = [
      { registry: MIRROR, evidence: unsigned },
      { registry: MIRROR, evidence: unsigned },
      { registry: MIRROR, evidence: { status: 'unavailable' } },
    ];
    expect(detectSignatureStripping(mixed)).toHaveLength(1);
    expect(detectSignatureStripping([...mixed, { registry: MIRROR, evidence: verified }])).toEqual([]);
    expect(detectSignatureStripping([...mixed, { registry: MIRROR, evidence: { status: 'bad-signature' } }])).toEqual([]);
  });

  it('reports each stripping registry once, in a stable order', () => {
    const results = ['https://b.example/', 'https://a.example/'].flatMap((registry) => [
      { registry, evidence: unsigned },
      { registry, evidence: unsigned },
      { registry, evidence: unsigned },
    ]);
    expect(detectSignatureStripping(results).map((s) => [s.registry, s.count])).toEqual([
      ['https://a.example/', 3],
      ['https://b.example/', 3],
    ]);
  });
});

describe('describeSignatureStripping', () => {
  it('says it plainly, once, with the policy line that fixes it', () => {
    const { message, fix } = describeSignatureStripping({ registry: MIRROR, count: 37, packages: [] });
    expect(message).toMatch(/^https:\/\/mirror\.example\/ served no signatures for any of the 37 packages — it looks like a mirror that strips them/);
    expect(message).toContain('"keys": "npm"');
    expect(fix).toBe('"signatures": { "require": "off" }');
  });

  it('lists a few packages in allowUnsigned instead of turning the check off', () => {
    const { message, fix } = describeSignatureStripping({ registry: MIRROR, count: 2, packages: ['a@1.0.0', 'b@2.0.0'] });
    expect(message).toContain('any of the 2 packages');
    expect(fix).toBe('"signatures": { "allowUnsigned": ["a@1.0.0", "b@2.0.0"] }');
    expect(describeSignatureStripping({ registry: MIRROR, count: 1, packages: ['a@1.0.0'] }).message).toContain('the 1 package —');
  });
});
