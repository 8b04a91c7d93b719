// Certificates handed to sigstore-js's verifier, encoded once.
//
// sigstore-js 3.x compares certificates by re-encoding each one's whole ASN.1 tree to DER on every comparison, and
// for every bundle it checks the trusted CA chain's own signatures again (the intermediate's and the root's, P-384).
// Profiled on npm's real bundles (test-vectors/), that was over half of the time a bundle takes to verify. A
// certificate here is never changed once parsed (sigstore-js changes only its own clone, for the SCT check), so:
//  - its DER is encoded once, at construction (the bytes the base class's encoder writes);
//  - a signature check's answer is kept per issuer object: the answer is a function of this certificate's bytes and
//    the issuer's key, and neither changes.
//  - its tree, and the tree of every copy it makes, is encoded by `encodeDer` (der.ts: the same bytes, one buffer);
//  - the key of a certificate that issues others (the trust root's) is made into a key object once.
// Every answer is the base class's answer for the same objects; nothing is skipped, only not recomputed.
//
// The class is made on first use (fixedCertificateClass): extending sigstore-js's X509Certificate where the module is
// evaluated loaded @sigstore/core with every engine, which the shipped bundles otherwise load only when a provenance
// bundle or trusted root is read (core's cache/lazy-modules.ts).
import { crypto, X509Certificate } from '@sigstore/core';
import type { KeyObject } from 'node:crypto';
import { encodeWithOneBuffer } from './der.js';

/** A certificate encoded once (see above): sigstore-js's X509Certificate with the same answers. */
export interface FixedCertificate extends X509Certificate {
  /** The DER encoding, as `root.toDER()` gave it at construction. */
  readonly der: Buffer;
}

/** FixedCertificate's class: `new` takes over a parsed certificate's tree (the caller drops that certificate). */
export type FixedCertificateClass = new (certificate: X509Certificate) => FixedCertificate;

let defined: FixedCertificateClass | undefined;

/** The class of FixedCertificate, defined once, on the first call. */
export function fixedCertificateClass(): FixedCertificateClass {
  return (defined ??= defineFixedCertificate());
}

/** `certificate`, taking over its parsed tree (the caller drops `certificate`), as a FixedCertificate. */
export const fixCertificate = (certificate: X509Certificate): FixedCertificate => new (fixedCertificateClass())(certificate);

function defineFixedCertificate(): FixedCertificateClass {
  return class FixedCertificate extends X509Certificate {
    readonly #der: Buffer;
    readonly #verified = new WeakMap<X509Certificate, boolean>();
    #key: KeyObject | undefined;

    /**
     * `certificate`, taking over its parsed tree (not parsed again: parsing is a third of what is left per bundle). The
     * caller drops `certificate`: trustFromRoot replaces the trust material's certificates, verifyBundle the leaf.
     */
    constructor(certificate: X509Certificate) {
      super(certificate.root);
      encodeWithOneBuffer(this.root);
      this.#der = this.root.toDER();
    }

    /** The DER encoding, as `root.toDER()` gave it at construction. */
    get der(): Buffer {
      return this.#der;
    }

    override equals(other: X509Certificate): boolean {
      return this.#der.equals(other instanceof FixedCertificate ? other.#der : other.root.toDER());
    }

    override verify(issuerCertificate?: X509Certificate): boolean {
      const issuer = issuerCertificate ?? this;
      let verified = this.#verified.get(issuer);
      if (verified === undefined) {
        // The base class's check: the issuer's key (made once when the issuer is one of these), this certificate's
        // signed part, its signature and algorithm, through sigstore-js's own crypto functions.
        const key = issuer instanceof FixedCertificate ? (issuer.#key ??= crypto.createPublicKey(issuer.publicKey)) : crypto.createPublicKey(issuer.publicKey);
        verified = crypto.verify(this.tbsCertificate.toDER(), key, this.signatureValue, this.signatureAlgorithm);
        this.#verified.set(issuer, verified);
      }
      return verified;
    }

    override clone(): X509Certificate {
      // As the base class: a plain certificate parsed from a copy of the DER, which its caller may change (sigstore-js
      // takes out the SCT extension and encodes the rest).
      const copy = X509Certificate.parse(Buffer.from(this.#der));
      encodeWithOneBuffer(copy.root);
      return copy;
    }
  };
}
