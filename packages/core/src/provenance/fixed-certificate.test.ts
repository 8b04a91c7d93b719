import { X509Certificate } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import { fixedCertificateClass } from './fixed-certificate.js';
import { trustFromRoot } from './trusted-root.js';
import { verifyProvenance } from './verify.js';
import { attestationVector, attestationVectors, leafCertificate, trustedRootJson, type AttestationVector } from './vectors.fixture.js';

const FixedCertificate = fixedCertificateClass();

/** Every certificate of the real root (CAs and CT-log-free chains) and the four real leaves, as DER. */
function realCertificates(): Buffer[] {
  const root = trustedRootJson();
  const cas = root.certificateAuthorities.flatMap((ca: any) => ca.certChain.certificates.map((c: any) => Buffer.from(c.rawBytes, 'base64')));
  return [...cas, ...attestationVectors().map(leafCertificate)];
}

/** The DER with one bit flipped inside its signature (the last bytes of a certificate). */
const withBadSignature = (der: Buffer): Buffer => {
  const copy = Buffer.from(der);
  copy[copy.length - 5] = copy[copy.length - 5]! ^ 0x01;
  return copy;
};

/** A plain sigstore-js certificate of these bytes. */
const parse = (der: Buffer) => X509Certificate.parse(Buffer.from(der));

const run = (vector: AttestationVector, trust: ReturnType<typeof trustFromRoot>) =>
  verifyProvenance({ document: vector.document, name: vector.name, version: vector.version, integrity: vector.integrity, trust });

describe('FixedCertificate answers as sigstore-js does', () => {
  it('equals, verify and clone give the base class answers for every pair of real certificates', () => {
    const ders = [...realCertificates(), withBadSignature(realCertificates()[2]!)];
    const plain = ders.map((d) => X509Certificate.parse(Buffer.from(d)));
    const fixed = ders.map((d) => new FixedCertificate(parse(d)));
    let verified = 0;
    for (let i = 0; i < ders.length; i++) {
      expect(fixed[i]!.der.equals(plain[i]!.root.toDER())).toBe(true);
      expect(fixed[i]!.clone().root.toDER().equals(plain[i]!.clone().root.toDER())).toBe(true);
      expect(fixed[i]!.clone()).not.toBeInstanceOf(FixedCertificate); // a copy its caller may change
      expect(fixed[i]!.verify()).toBe(plain[i]!.verify());
      for (let j = 0; j < ders.length; j++) {
        expect(fixed[i]!.equals(fixed[j]!), `${i} = ${j}`).toBe(plain[i]!.equals(plain[j]!));
        expect(fixed[i]!.equals(plain[j]!), `${i} = plain ${j}`).toBe(plain[i]!.equals(plain[j]!));
        // Asked twice: the kept answer is the first one.
        for (let k = 0; k < 2; k++) expect(fixed[i]!.verify(fixed[j]!), `${i} signed by ${j}`).toBe(plain[i]!.verify(plain[j]!));
        if (plain[i]!.verify(plain[j]!)) verified += 1;
      }
    }
    // The pairs that verify exist (roots by themselves, intermediates by roots, leaves by their intermediate).
    expect(verified).toBeGreaterThanOrEqual(6);
  });

  it('keeps an answer per issuer object: another certificate asked later is checked, not assumed', () => {
    const [, intermediate, root] = realCertificates().map((d) => new FixedCertificate(parse(d)));
    expect(intermediate!.verify(root)).toBe(true);
    expect(intermediate!.verify(new FixedCertificate(parse(withBadSignature(realCertificates()[2]!))))).toBe(true); // the same key: the signature is the intermediate's
    const forgedIntermediate = new FixedCertificate(parse(withBadSignature(realCertificates()[1]!)));
    expect(forgedIntermediate.verify(root)).toBe(false);
    expect(intermediate!.verify(intermediate)).toBe(false);
  });
});

describe('verifyProvenance with fixed certificates', () => {
  it('a trusted root whose intermediate or root signature was altered verifies nothing, though it names the issuer', () => {
    for (const at of [0, 1] as const) {
      const json = trustedRootJson();
      const chain = json.certificateAuthorities[1].certChain.certificates;
      chain[at].rawBytes = withBadSignature(Buffer.from(chain[at].rawBytes, 'base64')).toString('base64');
      const trust = trustFromRoot(json, 'altered root');
      const result = run(attestationVector('@playwright/cli', '0.1.1'), trust);
      expect(result, `certificate ${at}`).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
    }
  });

  it('after a bundle verified, a forged leaf with the same trust is still refused, and the real one still verifies', () => {
    const trust = trustFromRoot(trustedRootJson(), 'test root');
    const playwright = attestationVector('@playwright/cli', '0.1.1');
    expect(run(playwright, trust).status).toBe('verified');
    const forged = structuredClone(playwright);
    const material = forged.document.attestations.find((a) => a.predicateType.startsWith('https://slsa.dev/provenance/'))!.bundle.verificationMaterial;
    material.certificate.rawBytes = withBadSignature(Buffer.from(material.certificate.rawBytes, 'base64')).toString('base64');
    expect(run(forged, trust)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('does not verify') });
    expect(run(playwright, trust).status).toBe('verified');
  });
});
