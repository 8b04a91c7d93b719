import { describe, expect, it } from 'vitest';
import type { ProvenanceEvidence } from '../evaluation/evidence.js';
import { defaultTrust, trustFromRoot } from './trusted-root.js';
import { claimedBuilders, packageUrl, verifyProvenance } from './verify.js';
import { attestationVector, attestationVectors, slsaBundle, trustedRootJson, type AttestationVector } from './vectors.fixture.js';

const run = (vector: AttestationVector, change: Partial<Parameters<typeof verifyProvenance>[0]> = {}): ProvenanceEvidence =>
  verifyProvenance({ document: vector.document, name: vector.name, version: vector.version, integrity: vector.integrity, trust: defaultTrust(), ...change });

/** A copy of the vector whose SLSA bundle was changed by `edit`. */
function tampered(vector: AttestationVector, edit: (bundle: Record<string, any>) => void): AttestationVector {
  const copy = structuredClone(vector);
  edit(slsaBundle(copy));
  return copy;
}

const flip = (base64: string, at = 20) => {
  const bytes = Buffer.from(base64, 'base64');
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('base64');
};

describe('packageUrl', () => {
  it('writes the package URL exactly as npm does (a scope\'s @ as %40)', () => {
    expect(packageUrl('@playwright/cli', '0.1.1')).toBe('pkg:npm/%40playwright/cli@0.1.1');
    expect(packageUrl('sigstore', '1.0.0')).toBe('pkg:npm/sigstore@1.0.0');
  });
});

describe('verifyProvenance on the real bundles', () => {
  it('verifies each of the four and yields its real identity, from the certificate', () => {
    const seen = Object.fromEntries(attestationVectors().map((v) => [`${v.name}@${v.version}`, run(v)]));
    expect(seen['@playwright/cli@0.1.1']).toEqual({
      status: 'verified',
      identity: {
        issuer: 'https://token.actions.githubusercontent.com',
        repository: 'github.com/microsoft/playwright-cli',
        repositoryUri: 'https://github.com/microsoft/playwright-cli',
        repositoryId: '273562379',
        ownerId: '6154722',
        workflow: '.github/workflows/publish.yml',
        ref: 'refs/tags/v0.1.1',
        trigger: 'release',
        runnerEnvironment: 'github-hosted',
        commit: 'd1c6d1113932ddcee243e8b111b6d4aea553df20',
      },
    });
    // Certificates from before Fulcio's v2 extensions carry no numeric ids: none are invented from the statement.
    const legacy = (repository: string, ref: string, commit: string) => ({
      status: 'verified',
      identity: {
        issuer: 'https://token.actions.githubusercontent.com',
        repository: `github.com/${repository}`,
        repositoryUri: `https://github.com/${repository}`,
        workflow: '.github/workflows/publish.yml',
        ref,
        trigger: 'release',
        commit,
      },
    });
    expect(seen['sigstore@1.0.0']).toEqual(legacy('sigstore/sigstore-js', 'refs/tags/v1.0.0', '06528997c3c8ab9f864fad9a3658446aca7fd86d'));
    expect(seen['sigstore@0.4.0']).toEqual(legacy('sigstore/sigstore-js', 'refs/tags/v0.4.0', '8a2ee2fd20dda58ffa4a8d808a65cb1e04711c03'));
    expect(seen['tuf-js@1.0.0']).toEqual(legacy('theupdateframework/tuf-js', 'refs/tags/v1.0.0', '99624cc7ce39872e6bd08a0df59229a48562dbca'));
  });

  it('prints how many bundles it verifies per second (information, not an assertion)', () => {
    const vectors = attestationVectors();
    const trust = defaultTrust();
    const rounds = 10;
    const start = performance.now();
    for (let i = 0; i < rounds; i++) for (const v of vectors) expect(run(v, { trust }).status).toBe('verified');
    const seconds = (performance.now() - start) / 1000;
    console.log(`provenance: ${Math.round((rounds * vectors.length) / seconds)} bundles verified per second (${rounds * vectors.length} in ${seconds.toFixed(2)} s)`);
  });
});

describe('verifyProvenance: nothing to verify is missing', () => {
  const vector = attestationVector('sigstore', '1.0.0');
  it('null document (the endpoint said 404) → missing', () => {
    expect(run(vector, { document: null })).toEqual({ status: 'missing' });
  });
  it('only npm publish attestations, or none → missing', () => {
    const publishOnly = { attestations: vector.document.attestations.filter((a) => !a.predicateType.startsWith('https://slsa.dev/')) };
    expect(publishOnly.attestations).toHaveLength(1);
    expect(run(vector, { document: publishOnly })).toEqual({ status: 'missing' });
    expect(run(vector, { document: { attestations: [] } })).toEqual({ status: 'missing' });
  });
  it('a document that is not an attestations document → invalid, not missing', () => {
    expect(run(vector, { document: 'nope' })).toMatchObject({ status: 'invalid' });
    expect(run(vector, { document: { attestations: {} } })).toMatchObject({ status: 'invalid' });
  });
});

describe('verifyProvenance: tampering is invalid for the right reason', () => {
  const playwright = attestationVector('@playwright/cli', '0.1.1');
  const sigstore = attestationVector('sigstore', '1.0.0');

  it('another tarball (wrong integrity) → invalid: the digest', () => {
    const other = attestationVector('tuf-js', '1.0.0').integrity;
    const result = run(sigstore, { integrity: other });
    expect(result.status).toBe('invalid');
    expect((result as { reason: string }).reason).toMatch(/sha512 for pkg:npm\/sigstore@1\.0\.0 is 7bea9f6e.*tarball is not the one/);
  });

  it('an integrity without sha512 cannot match → invalid, saying so', () => {
    const result = run(sigstore, { integrity: 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=' });
    expect(result).toMatchObject({ status: 'invalid' });
    expect((result as { reason: string }).reason).toContain('has no sha512');
  });

  it("another package's bundle → invalid: the subject", () => {
    for (const [name, version] of [['tuf-js', '1.0.0'], ['sigstore', '1.0.1'], ['@sigstore/cli', '1.0.0']] as const) {
      const result = run(sigstore, { name, version });
      expect(result.status, `${name}@${version}`).toBe('invalid');
      expect((result as { reason: string }).reason).toContain('"pkg:npm/sigstore@1.0.0", not ' + packageUrl(name, version));
    }
    // The scoped package's bundle does not pass for its unscoped namesake.
    expect((run(playwright, { name: 'playwright/cli' }) as { reason: string }).reason).toContain('not pkg:npm/playwright/cli@0.1.1');
  });

  it('an altered DSSE signature → invalid', () => {
    for (const vector of [playwright, sigstore]) {
      const result = run(tampered(vector, (b) => (b.dsseEnvelope.signatures[0].sig = flip(b.dsseEnvelope.signatures[0].sig, 30))));
      expect(result.status, vector.file).toBe('invalid');
      expect((result as { reason: string }).reason).toContain('does not verify');
    }
  });

  it('an altered payload → invalid', () => {
    const result = run(tampered(sigstore, (b) => (b.dsseEnvelope.payload = flip(b.dsseEnvelope.payload, 200))));
    expect(result).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
  });

  it('an altered signed entry timestamp or inclusion proof → invalid', () => {
    const set = run(tampered(sigstore, (b) => (b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp = flip(b.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp))));
    expect(set).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
    const proof = run(tampered(playwright, (b) => {
      delete b.verificationMaterial.tlogEntries[0].inclusionPromise;
      b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0] = flip(b.verificationMaterial.tlogEntries[0].inclusionProof.hashes[0], 3);
    }));
    expect(proof).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
  });

  it('a certificate whose signature was altered → invalid, not root-stale', () => {
    const cert = (b: Record<string, any>) => b.verificationMaterial.certificate;
    const result = run(tampered(playwright, (b) => {
      const bytes = Buffer.from(cert(b).rawBytes, 'base64');
      bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01; // inside the CA's signature over the leaf
      cert(b).rawBytes = bytes.toString('base64');
    }));
    expect(result).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
  });

  it('a document that lists the bundle under another predicate type than it signs → invalid', () => {
    const document = structuredClone(sigstore.document);
    document.attestations[0]!.predicateType = 'https://slsa.dev/provenance/v1';
    expect(run(sigstore, { document })).toMatchObject({ status: 'invalid', reason: expect.stringContaining('not the https://slsa.dev/provenance/v1 the registry listed') });
  });

  it('a log entry without a log id is invalid, not root-stale', () => {
    const result = run(tampered(sigstore, (b) => delete b.verificationMaterial.tlogEntries[0].logId));
    expect(result.status).toBe('invalid');
  });

  it('leaves Error.stackTraceLimit as it was, after a verified, a forged and a garbage bundle', () => {
    const before = Error.stackTraceLimit;
    expect(run(sigstore).status).toBe('verified');
    expect(run(tampered(sigstore, (b) => (b.dsseEnvelope.payload = flip(b.dsseEnvelope.payload, 200)))).status).toBe('invalid');
    expect(run(tampered(sigstore, (b) => (b.verificationMaterial = 42))).status).toBe('invalid');
    expect(Error.stackTraceLimit).toBe(before);
  });

  it('garbage in every field is invalid, never an exception', () => {
    const garbage = [{}, { mediaType: 42 }, { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { certificate: { rawBytes: 'AAAA' }, tlogEntries: [] }, dsseEnvelope: { payload: 'e30=', payloadType: 'x', signatures: [{ sig: 'AAAA' }] } }];
    for (const bundle of garbage) {
      const result = run(sigstore, { document: { attestations: [{ predicateType: 'https://slsa.dev/provenance/v0.2', bundle }] } });
      expect(result.status, JSON.stringify(bundle)).toBe('invalid');
    }
    const noCert = tampered(sigstore, (b) => (b.verificationMaterial = { publicKey: { hint: 'x' }, tlogEntries: b.verificationMaterial.tlogEntries }));
    expect(run(noCert)).toMatchObject({ status: 'invalid', reason: 'its Sigstore bundle is not signed with a Fulcio certificate' });
  });

  it('a statement that is not in-toto (payloadType) → invalid', () => {
    const result = run(tampered(sigstore, (b) => (b.dsseEnvelope.payloadType = 'application/json')));
    expect(result.status).toBe('invalid');
  });
});

describe('verifyProvenance: a root that does not know the bundle is root-stale, never invalid', () => {
  const vectors = attestationVectors();
  const trustWithout = (edit: (root: Record<string, any>) => void) => {
    const root = trustedRootJson();
    edit(root);
    return trustFromRoot(root, 'test root');
  };

  it('without the transparency log → root-stale naming the log', () => {
    const trust = trustWithout((r) => (r.tlogs = r.tlogs.filter((t: any) => t.logId.keyId !== 'wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=')));
    for (const v of vectors) {
      const result = run(v, { trust });
      expect(result, v.file).toEqual({ status: 'root-stale', reason: 'the transparency log wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0= of its log entry is not in test root' });
    }
  });

  it('with the log key valid only later → root-stale naming the window', () => {
    const trust = trustWithout((r) => (r.tlogs[0].publicKey.validFor = { start: '2026-06-01T00:00:00Z' }));
    expect(run(attestationVector('sigstore', '1.0.0'), { trust })).toMatchObject({ status: 'root-stale', reason: expect.stringContaining('is not valid at the entry\'s time 2023-02-09') });
  });

  it('without the issuing CA → root-stale naming the certificate authority', () => {
    const trust = trustWithout((r) => (r.certificateAuthorities = r.certificateAuthorities.slice(0, 1)));
    for (const v of vectors) {
      const result = run(v, { trust });
      expect(result, v.file).toEqual({ status: 'root-stale', reason: 'the certificate authority that issued its signing certificate is not in test root' });
    }
  });

  it('with the CA valid only later → root-stale naming the signing time', () => {
    const trust = trustWithout((r) => (r.certificateAuthorities[1].validFor = { start: '2024-01-01T00:00:00Z' }));
    expect(run(attestationVector('tuf-js', '1.0.0'), { trust })).toMatchObject({ status: 'root-stale', reason: expect.stringContaining('not valid at the signing time 2023-02-09') });
    expect(run(attestationVector('@playwright/cli', '0.1.1'), { trust }).status).toBe('verified');
  });

  it('without the CT log → root-stale naming the CT log', () => {
    const trust = trustWithout((r) => (r.ctlogs = r.ctlogs.filter((c: any) => c.logId.keyId !== '3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=')));
    for (const v of vectors) {
      expect(run(v, { trust }), v.file).toEqual({ status: 'root-stale', reason: 'the certificate-transparency log 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= of its SCT is not in test root' });
    }
  });

  it('a forged bundle alongside a stale one is invalid', () => {
    const sigstore = attestationVector('sigstore', '1.0.0');
    const slsa = sigstore.document.attestations[0]!;
    const forged = structuredClone(slsa);
    forged.bundle.dsseEnvelope.signatures[0].sig = flip(forged.bundle.dsseEnvelope.signatures[0].sig, 30);
    const document = { attestations: [slsa, forged] };
    expect(run(sigstore, { document }).status).toBe('invalid');
    expect(run(sigstore, { document: { attestations: [slsa, slsa] } }).status).toBe('verified');
  });
});

describe('claimedBuilders: who the bundles say built it, verifying nothing', () => {
  it('reads the identity verifyProvenance verifies, from each real bundle', () => {
    for (const vector of attestationVectors()) {
      const verified = run(vector);
      expect(verified.status).toBe('verified');
      expect(claimedBuilders(vector.document)).toEqual([(verified as { identity: unknown }).identity]);
    }
  });

  it('says the same of a forged bundle (it verifies nothing): the caller verifies what would change its answer', () => {
    const vector = attestationVectors()[0]!;
    const forged = tampered(vector, (bundle) => {
      bundle.dsseEnvelope.signatures[0].sig = flip(bundle.dsseEnvelope.signatures[0].sig);
    });
    expect(run(forged).status).toBe('invalid');
    expect(claimedBuilders(forged.document)).toEqual(claimedBuilders(vector.document));
  });

  it('undefined for no document, no SLSA bundle, or one that cannot be read', () => {
    const vector = attestationVectors()[0]!;
    expect(claimedBuilders(null)).toBeUndefined();
    expect(claimedBuilders({ attestations: [] })).toBeUndefined();
    expect(claimedBuilders('not a document')).toBeUndefined();
    expect(claimedBuilders(tampered(vector, (bundle) => (bundle.verificationMaterial = { x509CertificateChain: { certificates: [] } })).document)).toBeUndefined();
    expect(claimedBuilders(tampered(vector, (bundle) => (bundle.verificationMaterial.certificate = { rawBytes: Buffer.from('not a certificate').toString('base64') })).document)).toBeUndefined();
  });
});
