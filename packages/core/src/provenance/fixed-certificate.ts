// Certificates handed to sigstore-js's verifier, encoded once.
//
// sigstore-js 3.x compares certificates by re-encoding each one's whole ASN.1 tree to DER on every comparison, and
// for every bundle it checks the trusted CA chain's own signatures again (the intermediate's and the root's, P-384).
// Profiled on npm's real bundles (test-vectors/), that was over half of the time a bundle takes to verify. A
// certificate here is never changed once parsed (sigstore-js changes only its own clone, for the SCT check), so:
//  - its DER is encoded once, at construction, by the same encoder the base class uses;
//  - a signature check's answer is kept per issuer object: the answer is a function of this certificate's bytes and
//    the issuer's key, and neither changes.
// Every answer is the base class's answer for the same objects; nothing is skipped, only not recomputed.
import { X509Certificate } from '@sigstore/core';

export class FixedCertificate extends X509Certificate {
  readonly #der: Buffer;
  readonly #verified = new WeakMap<X509Certificate, boolean>();

  /**
   * `certificate`, taking over its parsed tree (not parsed again: parsing is a third of what is left per bundle). The
   * caller drops `certificate`: trustFromRoot replaces the trust material's certificates, verifyBundle the leaf.
   */
  constructor(certificate: X509Certificate) {
    super(certificate.root);
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
      verified = super.verify(issuerCertificate);
      this.#verified.set(issuer, verified);
    }
    return verified;
  }

  override clone(): X509Certificate {
    // As the base class: a plain certificate parsed from a copy of the DER, which its caller may change.
    return X509Certificate.parse(Buffer.from(this.#der));
  }
}
