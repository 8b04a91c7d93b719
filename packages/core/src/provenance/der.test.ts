import { ASN1Obj, EXTENSION_OID_SCT, X509Certificate } from '@sigstore/core';
import { describe, expect, it } from 'vitest';
import { encodeDer, encodeWithOneBuffer } from './der.js';
import { fixedCertificateClass } from './fixed-certificate.js';
import { attestationVectors, leafCertificate, trustedRootJson } from './vectors.fixture.js';

const FixedCertificate = fixedCertificateClass();

/** Every certificate of the real root and the real leaves (npm's bundles), as DER. */
function realCertificates(): Buffer[] {
  const root = trustedRootJson();
  const cas = root.certificateAuthorities.flatMap((ca: any) => ca.certChain.certificates.map((c: any) => Buffer.from(c.rawBytes, 'base64')));
  return [...cas, ...attestationVectors().map(leafCertificate)];
}

/** Every node of a tree. */
function nodesOf(root: ASN1Obj): ASN1Obj[] {
  const all = [root];
  for (let i = 0; i < all.length; i++) all.push(...all[i]!.subs);
  return all;
}

/** A DER element by hand: tag byte, minimal length, contents. */
function element(tag: number, contents: Buffer): Buffer {
  const n = contents.length;
  const length = n < 128 ? [n] : [0x80 | Math.ceil(n.toString(16).length / 2), ...Buffer.from(n.toString(16).padStart(Math.ceil(n.toString(16).length / 2) * 2, '0'), 'hex')];
  return Buffer.concat([Buffer.from([tag, ...length]), contents]);
}

/** sigstore-js's own encoder for a node, whatever toDER the node carries. */
const theirs = (node: ASN1Obj): Buffer => Buffer.from(ASN1Obj.prototype.toDER.call(node));

describe('encodeDer writes the bytes sigstore-js writes', () => {
  it('for every node of every real certificate', () => {
    let nodes = 0;
    for (const der of realCertificates()) {
      const cert = X509Certificate.parse(Buffer.from(der));
      for (const node of nodesOf(cert.root)) {
        expect(encodeDer(node).equals(theirs(node))).toBe(true);
        nodes++;
      }
      expect(encodeDer(cert.root).equals(der)).toBe(true);
    }
    expect(nodes).toBeGreaterThan(500);
  });

  it('for lengths in every form: short, one, two and three length bytes, empty contents, nested', () => {
    const sizes = [0, 1, 127, 128, 200, 255, 256, 300, 65535, 65536, 70_000];
    const strings = sizes.map((n) => element(0x04, Buffer.alloc(n, 0x41)));
    const sequence = element(0x30, Buffer.concat([...strings, element(0x30, Buffer.alloc(0)), element(0x30, Buffer.concat(strings.slice(0, 4)))]));
    const tree = ASN1Obj.parseBuffer(sequence as Buffer<ArrayBuffer>);
    for (const node of nodesOf(tree)) expect(encodeDer(node).equals(theirs(node))).toBe(true);
    expect(encodeDer(tree).equals(sequence)).toBe(true);
  });

  it('for a tree changed after parsing (sigstore-js removes the SCT extension before encoding the signed part)', () => {
    for (const der of attestationVectors().map(leafCertificate)) {
      const plain = X509Certificate.parse(Buffer.from(der));
      const ours = X509Certificate.parse(Buffer.from(der));
      encodeWithOneBuffer(ours.root);
      for (const cert of [plain, ours]) {
        const at = cert.extensions.findIndex((ext) => ext.subs[0]!.toOID() === EXTENSION_OID_SCT);
        expect(at).toBeGreaterThanOrEqual(0);
        cert.extensions.splice(at, 1);
      }
      expect(ours.tbsCertificate.toDER().equals(theirs(plain.tbsCertificate))).toBe(true);
      expect(ours.tbsCertificate.toDER().length).toBeLessThan(theirs(X509Certificate.parse(Buffer.from(der)).tbsCertificate).length);
    }
  });

  it("gives the nodes sigstore-js encodes (certificate, signed part, key) this encoder, not the class", () => {
    const der = realCertificates()[0]!;
    const ours = X509Certificate.parse(Buffer.from(der));
    const plain = X509Certificate.parse(Buffer.from(der));
    encodeWithOneBuffer(ours.root);
    expect(Object.hasOwn(ours.tbsCertificate, 'toDER')).toBe(true);
    expect(Object.hasOwn(ours.root, 'toDER')).toBe(true);
    expect(Object.hasOwn(ours.tbsCertificate.subs[6]!, 'toDER')).toBe(true); // subjectPublicKeyInfo
    expect(Object.hasOwn(plain.tbsCertificate, 'toDER')).toBe(false);
    expect(ours.publicKey.equals(plain.publicKey)).toBe(true);
    expect(ours.tbsCertificate.toDER().equals(plain.tbsCertificate.toDER())).toBe(true);
  });
});

describe('FixedCertificate with the one-buffer encoder', () => {
  it('its signed part, key, bytes and copies are the bytes of a plain certificate', () => {
    for (const der of realCertificates()) {
      const plain = X509Certificate.parse(Buffer.from(der));
      const fixed = new FixedCertificate(X509Certificate.parse(Buffer.from(der)));
      expect(fixed.tbsCertificate.toDER().equals(plain.tbsCertificate.toDER())).toBe(true);
      expect(fixed.publicKey.equals(plain.publicKey)).toBe(true);
      expect(fixed.der.equals(der)).toBe(true);
      const copy = fixed.clone();
      expect(Object.hasOwn(copy.root, 'toDER')).toBe(true);
      expect(copy.root.toDER().equals(der)).toBe(true);
      // A copy is its own tree: changing it leaves the certificate as it was.
      copy.extensions.splice(0, 1);
      expect(fixed.root.toDER().equals(der)).toBe(true);
    }
  });
});
