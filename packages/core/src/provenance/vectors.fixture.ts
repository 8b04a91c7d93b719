// Test-only: the real attestations documents and trusted root of test-vectors/, and ways to take them apart.
import { readVectors } from '../signatures/vectors.fixture.js';

/** One real attestations document with the package it belongs to. */
export interface AttestationVector {
  file: string;
  name: string;
  version: string;
  integrity: string;
  document: { attestations: { predicateType: string; bundle: Record<string, any> }[] };
}

/** The four real attestations documents (test-vectors/attestations-index.json). */
export function attestationVectors(): AttestationVector[] {
  const index = readVectors<Omit<AttestationVector, 'document'>[]>('attestations-index.json');
  return index.map((v) => ({ file: v.file, name: v.name, version: v.version, integrity: v.integrity, document: readVectors(v.file) }));
}

/** The vector of one package version. */
export function attestationVector(name: string, version: string): AttestationVector {
  const found = attestationVectors().find((v) => v.name === name && v.version === version);
  if (found === undefined) throw new Error(`no attestation vector for ${name}@${version}`);
  return found;
}

/** A deep copy of the real public-good trusted root. */
export function trustedRootJson(): Record<string, any> {
  return readVectors<Record<string, any>>('sigstore-trusted_root.json');
}

/** The SLSA provenance bundle of a document (the first one). */
export function slsaBundle(vector: AttestationVector): Record<string, any> {
  return vector.document.attestations.find((a) => a.predicateType.startsWith('https://slsa.dev/provenance/'))!.bundle;
}

/** The in-toto statement a vector's SLSA bundle signs. */
export function statementOf(vector: AttestationVector): Record<string, any> {
  return JSON.parse(Buffer.from(slsaBundle(vector).dsseEnvelope.payload, 'base64').toString('utf8'));
}

/** The DER of a vector's signing (leaf) certificate. */
export function leafCertificate(vector: AttestationVector): Buffer {
  const material = slsaBundle(vector).verificationMaterial;
  const raw = material.certificate?.rawBytes ?? material.x509CertificateChain.certificates[0].rawBytes;
  return Buffer.from(raw, 'base64');
}
