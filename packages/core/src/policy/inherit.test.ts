/** The `extends` and `delegate` keys, and the merge rules one by one (the generated cases are in inherit.property.test.ts). */
import { describe, expect, it } from 'vitest';
import { inheritPolicy } from './inherit.js';
import { parsePolicy } from './load.js';

const ORG = '@acme/portcullis-policy@1.0.0/portcullis.json';
const REPO = '/repo/portcullis.json';
const INTEGRITY = `sha512-${'A'.repeat(86)}==`;
const org = (doc: object) => parsePolicy(JSON.stringify(doc), ORG, { role: 'organisation', baseDir: '/repo' });
const repo = (doc: object) => parsePolicy(JSON.stringify(doc), REPO);
const loosening = (o: object, r: object) => {
  try {
    inheritPolicy(org(o), repo(r));
  } catch (error) {
    return (error as Error).message;
  }
  return 'merged';
};

describe('extends', () => {
  it('pins a package by exact version and sha512 integrity; anything looser is POLICY_INVALID with its position', () => {
    expect(repo({ extends: { package: '@acme/p', version: '1.2.3', integrity: INTEGRITY } }).extends).toMatchObject({ package: '@acme/p', version: '1.2.3', integrity: INTEGRITY });
    expect(() => repo({ extends: { package: '@acme/p', version: '^1.2.3', integrity: INTEGRITY } })).toThrow(/"extends.version" must be an exact version/);
    expect(() => repo({ extends: { package: '@acme/p', version: '1.2.3', integrity: 'sha1-abc' } })).toThrow(/"extends.integrity" must be the sha512 integrity/);
    expect(() => repo({ extends: { package: '@acme/*', version: '1.2.3', integrity: INTEGRITY } })).toThrow(/"extends.package" must be a package name/);
    expect(() => repo({ extends: { package: '@acme/p', version: '1.2.3' } })).toThrow(/"extends" is missing "integrity"/);
    expect(() => repo({ delegate: { 'scripts.allow': true } })).toThrow(/unknown key "delegate"/);
    expect(() => org({ extends: { package: '@acme/p', version: '1.2.3', integrity: INTEGRITY } })).toThrow(/unknown key "extends"/);
    expect(() => org({ delegate: { 'signatures.require': true } })).toThrow(/unknown key "signatures.require" in "delegate"/);
    expect(() => org({ provenance: { trustedRoot: './root.json' } })).toThrow(/cannot be set by an organisation policy/);
  });
});

describe('inheritPolicy', () => {
  it('refuses each loosening, naming both files and the key', () => {
    expect(loosening({}, { signatures: { require: 'off' } })).toMatch(/"signatures.require" is "off" where the organisation requires "registry"/);
    expect(loosening({}, { provenance: { noDowngrade: false } })).toMatch(/"provenance.noDowngrade" is false/);
    expect(loosening({ provenance: { publishers: { sigstore: { repository: 'github.com/sigstore/sigstore-js', workflow: '.github/workflows/publish.yml' } } } }, { provenance: { publishers: { sigstore: { repository: 'github.com/evil/sigstore-js', workflow: '.github/workflows/publish.yml' } } } })).toMatch(/"provenance.publishers" pins "sigstore" to github.com\/evil/);
    expect(loosening({}, { registries: { 'http://127.0.0.1:4873/': { keys: 'npm' } } })).toMatch(/"registries" trusts keys for http:\/\/127.0.0.1:4873\//);
    expect(loosening({}, { cooldown: { exceptions: { 'left-pad@1.0.0': '2026-12-09T00:00:00Z' } } })).toMatch(/"cooldown.exceptions" adds "left-pad@1.0.0"/);
    expect(loosening({}, { provenance: { trustedRoot: './root.json' } })).toMatch(/"provenance.trustedRoot"/);
    for (const message of [loosening({}, { signatures: { allowUnsigned: ['x'] } }), loosening({ delegate: { 'cooldown.exclude': ['@acme/*'] } }, { cooldown: { exclude: ['@evil/x'] } })]) {
      expect(message).toContain(REPO);
      expect(message).toContain(ORG);
    }
  });

  it('accepts tightening, delegated allowances and entries within the organisation’s own', () => {
    expect(loosening({ signatures: { require: 'off' } }, { signatures: { require: 'registry' } })).toBe('merged');
    expect(loosening({ delegate: { registries: ['http://127.0.0.1:4873/'] } }, { registries: { 'http://127.0.0.1:4873/': { keys: 'npm' } } })).toBe('merged');
    expect(loosening({ delegate: { 'cooldown.exclude': ['@acme/*'] } }, { cooldown: { exclude: ['@acme/x@^1'] } })).toBe('merged');
    expect(loosening({ delegate: { 'scripts.allow': ['sharp@^0.34'] } }, { scripts: { allow: ['sharp@0.34.1'] } })).toBe('merged');
    expect(loosening({ delegate: { 'scripts.allow': ['sharp@^0.34'] } }, { scripts: { allow: ['sharp'] } })).not.toBe('merged');
    // Build metadata counts (twelfth wave V4): `0.34.1+x` is another registry entry than the delegated `0.34.1`.
    expect(loosening({ delegate: { 'scripts.allow': ['sharp@0.34.1'] } }, { scripts: { allow: ['sharp@0.34.1+x'] } })).toMatch(/"scripts.allow" adds "sharp@0.34.1\+x"/);
    expect(loosening({ delegate: { 'scripts.allow': ['sharp@^0.34'] } }, { scripts: { allow: ['sharp@0.34.1+x'] } })).not.toBe('merged');
    expect(loosening({ delegate: { 'scripts.allow': ['sharp@0.34.1+x'] } }, { scripts: { allow: ['sharp@0.34.1'] } })).not.toBe('merged');
    expect(loosening({ delegate: { 'scripts.allow': ['sharp@0.34.1+x'] } }, { scripts: { allow: ['sharp@0.34.1+x'] } })).toBe('merged');
    expect(loosening({ delegate: { 'scripts.allow': ['sharp'] } }, { scripts: { allow: ['sharp@0.34.1+x'] } })).toBe('merged');
    expect(loosening({ scripts: { allow: ['esbuild'] } }, { scripts: { allow: ['esbuild@^0.25'] } })).toBe('merged');
    const merged = inheritPolicy(org({ signatures: { require: 'off' }, advisories: { osv: ['./security/osv'] } }), repo({ signatures: { require: 'registry' } }));
    expect(merged.signatures.require).toBe('registry');
    expect(merged.origins['signatures.require']?.source).toBe(REPO);
    // The organisation's advisory paths name files of the repository that extends it.
    expect(merged.advisories.osv).toEqual(['/repo/security/osv']);
  });

  it('scripts.fingerprints: both files count, but for a name the organisation records only its records do', () => {
    const merged = inheritPolicy(
      org({ scripts: { allow: ['esbuild@^0.25'], fingerprints: { 'esbuild@0.25.0': { postinstall: 'node install.js' } } } }),
      repo({ scripts: { fingerprints: { 'esbuild@0.25.1': { postinstall: 'node evil.js' }, 'sharp@0.34.1': { install: 'node check.js' } } } }),
    );
    expect(merged.scripts.fingerprints.map((f) => `${f.name}@${f.version}`)).toEqual(['esbuild@0.25.0', 'sharp@0.34.1']);
  });
});
