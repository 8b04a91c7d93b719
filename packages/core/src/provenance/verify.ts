/**
 * Offline verification of a version's SLSA provenance: trust-root staleness first (a root that does not know the
 * bundle's log or CA is not evidence of forgery), then sigstore-js (chain, log entry, SCTs, DSSE signature), then the
 * statement (subject and digest), then who built it — from the certificate, cross-checked against the statement.
 */
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import type { X509Certificate } from '@sigstore/core';
import { toSignedEntity, type SignedEntity } from '@sigstore/verify';
import type { ProvenanceEvidence, PublisherIdentity } from '../evaluation/evidence.js';
import { slsaBundlesOf, type ProvenanceBundle } from './attestations.js';
import { fixCertificate } from './fixed-certificate.js';
import { IdentityError, identityFromCertificate } from './identity.js';
import { parseStatement, statementMismatch, subjectMismatch } from './statement.js';
import type { SigstoreTrust, ValidityWindow } from './trusted-root.js';

export { packageUrl } from './statement.js';

/** What verifyProvenance needs: the attestations document (null when the registry has none) and the installed package. */
export interface ProvenanceInput {
  /** The parsed attestations document; null when the endpoint answered 404 (no attestations). */
  document: unknown | null;
  name: string;
  version: string;
  /** The SRI integrity actually being installed (the lockfile's), not the registry's claim. */
  integrity: string;
  trust: SigstoreTrust;
}

type Outcome = Exclude<ProvenanceEvidence, { status: 'missing' } | { status: 'unavailable' }>;

const iso = (date: Date) => date.toISOString();
const within = (windows: readonly ValidityWindow[] | undefined, time: Date) => (windows ?? []).some((w) => w.start <= time && time <= w.end);

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== error.message ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/** The signing times sigstore-js will check the chain at: log entries' integrated times and RFC 3161 timestamps. */
function signingTimes(entity: SignedEntity): Date[] {
  return entity.timestamps.map((t) => (t.$case === 'transparency-log' ? new Date(Number(t.tlogEntry.integratedTime) * 1000) : t.timestamp.signingTime));
}

/**
 * Is `ca` the certificate that issued `leaf`, by key identifier (or by name when either lacks one)? Its signature on
 * the leaf is the verifier's to check: a known CA whose signature fails means a forged certificate, not a stale root.
 */
function namesIssuer(ca: X509Certificate, leaf: X509Certificate): boolean {
  const akid = leaf.extAuthorityKeyID?.keyIdentifier;
  const skid = ca.extSubjectKeyID?.keyIdentifier;
  return akid !== undefined && skid !== undefined ? akid.equals(skid) : ca.subject.equals(leaf.issuer);
}

/**
 * Why the trust root cannot judge this bundle (its log, CA or CT log is unknown, or known only for other times), or
 * undefined when the root knows all of them.
 */
export function staleness(entity: SignedEntity, trust: SigstoreTrust): string | undefined {
  for (const entry of entity.tlogEntries) {
    const id = Buffer.from(entry.logId?.keyId ?? []).toString('base64');
    if (id === '') continue; // no log id at all: malformed, the verifier's to reject
    const windows = trust.tlogs.get(id);
    if (windows === undefined) return `the transparency log ${id} of its log entry is not in ${trust.source}`;
    const integrated = Number(entry.integratedTime);
    if (integrated > 0 && !within(windows, new Date(integrated * 1000))) {
      return `the transparency log key ${id} is not valid at the entry's time ${iso(new Date(integrated * 1000))} in ${trust.source}`;
    }
  }
  if (entity.key.$case !== 'certificate') return undefined;
  const leaf = entity.key.certificate;
  const cas = trust.authorities.filter((ca) => ca.certificates.some((cert) => namesIssuer(cert, leaf)));
  if (cas.length === 0) return `the certificate authority that issued its signing certificate is not in ${trust.source}`;
  for (const time of signingTimes(entity)) {
    if (!cas.some((ca) => ca.window.start <= time && time <= ca.window.end)) {
      return `the certificate authority that issued its signing certificate is not valid at the signing time ${iso(time)} in ${trust.source}`;
    }
  }
  let scts;
  try {
    scts = leaf.extSCT?.signedCertificateTimestamps ?? [];
  } catch {
    return undefined; // unreadable SCTs are the verifier's to reject
  }
  for (const sct of scts) {
    const id = sct.logID.toString('base64');
    const windows = trust.ctlogs.get(id);
    if (windows === undefined) return `the certificate-transparency log ${id} of its SCT is not in ${trust.source}`;
    if (!within(windows, sct.datetime)) return `the certificate-transparency log ${id} is not valid at the SCT's time ${iso(sct.datetime)} in ${trust.source}`;
  }
  return undefined;
}

function leafDer(bundle: Bundle): Uint8Array | undefined {
  const content = bundle.verificationMaterial.content;
  if (content.$case === 'certificate') return content.certificate.rawBytes;
  if (content.$case === 'x509CertificateChain') return content.x509CertificateChain.certificates[0]?.rawBytes;
  return undefined;
}

/** Verifies one SLSA provenance bundle for this package version and integrity. */
function verifyBundle(entry: ProvenanceBundle, input: ProvenanceInput): Outcome {
  let bundle: Bundle;
  let entity: SignedEntity;
  try {
    bundle = bundleFromJSON(entry.bundle);
    entity = toSignedEntity(bundle);
  } catch (error) {
    return { status: 'invalid', reason: `its Sigstore bundle is malformed: ${describeError(error)}` };
  }
  if (bundle.content.$case !== 'dsseEnvelope') return { status: 'invalid', reason: 'its Sigstore bundle holds no DSSE envelope' };
  const der = leafDer(bundle);
  if (der === undefined || entity.key.$case !== 'certificate') return { status: 'invalid', reason: 'its Sigstore bundle is not signed with a Fulcio certificate' };
  // The leaf as sigstore-js parsed it, encoded once (fixed-certificate.ts): the verifier compares it several times.
  // The entity's own certificate object is dropped with the entity.
  const leaf = fixCertificate(entity.key.certificate);
  entity = { ...entity, key: { $case: 'certificate', certificate: leaf } };

  const stale = staleness(entity, input.trust);
  if (stale !== undefined) return { status: 'root-stale', reason: stale };

  try {
    input.trust.verifier.verify(entity);
  } catch (error) {
    return { status: 'invalid', reason: `its Sigstore bundle does not verify: ${describeError(error)}` };
  }

  const envelope = bundle.content.dsseEnvelope;
  const statement = parseStatement(envelope.payloadType, envelope.payload);
  if (typeof statement === 'string') return { status: 'invalid', reason: statement };
  if (statement['predicateType'] !== entry.predicateType) {
    return { status: 'invalid', reason: `the statement's predicateType is not the ${entry.predicateType} the registry listed it as` };
  }
  const subject = subjectMismatch(statement, input.name, input.version, input.integrity);
  if (subject !== undefined) return { status: 'invalid', reason: subject };

  let identity: PublisherIdentity;
  try {
    // The leaf the verifier checked, as it parsed it (from `der`): not parsed a third time.
    identity = identityFromCertificate(leaf);
  } catch (error) {
    if (error instanceof IdentityError) return { status: 'invalid', reason: `its certificate does not say who built it: ${error.message}` };
    throw error;
  }
  const claim = statementMismatch(statement, identity);
  if (claim !== undefined) return { status: 'invalid', reason: claim };
  return { status: 'verified', identity };
}

/**
 * Runs `fn` (synchronous) with no stack traces captured for errors made inside it. sigstore-js's ASN.1 parser tries
 * every OCTET STRING of a certificate as nested DER and throws when it is not; those errors' stack traces were about
 * a tenth of a bundle's verification (profiled: `portcullis check` with provenance required, 1,000 bundles). Only
 * messages are read from these errors; the limit is back as soon as `fn` returns or throws.
 */
function withoutStackTraces<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return fn(); // a frozen Error (a hardened realm): verify all the same, with stack traces
  }
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Who the SLSA provenance bundles of an attestations document say built the version, read from each bundle's leaf
 * certificate and **verifying nothing**; undefined when the document holds no such bundle or one cannot be read. For a
 * question that no verification could answer otherwise: whether an earlier release may show that another repository
 * built its line (the downgrade check) needs only the bundles that claim another repository to be verified — one that
 * claims the same repository shows no move whether it verifies or not.
 */
export function claimedBuilders(document: unknown): PublisherIdentity[] | undefined {
  if (document === null || document === undefined) return undefined;
  try {
    const found = slsaBundlesOf(document);
    if ('error' in found || found.bundles.length === 0) return undefined;
    return withoutStackTraces(() =>
      found.bundles.map((entry) => {
        const der = leafDer(bundleFromJSON(entry.bundle));
        if (der === undefined) throw new Error('no Fulcio certificate');
        return identityFromCertificate(der);
      }),
    );
  } catch {
    // Hostile bytes: whatever cannot be read is verified in full by the caller.
    return undefined;
  }
}

/** Verifies a version's SLSA provenance offline against the trust; pure apart from CPU (no network, no files). */
export function verifyProvenance(input: ProvenanceInput): ProvenanceEvidence {
  if (input.document === null) return { status: 'missing' };
  const found = slsaBundlesOf(input.document);
  if ('error' in found) return { status: 'invalid', reason: found.error };
  if (found.bundles.length === 0) return { status: 'missing' };
  const outcomes = found.bundles.map((entry): Outcome => {
    try {
      return withoutStackTraces(() => verifyBundle(entry, input));
    } catch (error) {
      // Hostile bytes can make a parser throw anywhere; whatever could not be checked is not verified.
      return { status: 'invalid', reason: `its Sigstore bundle could not be checked: ${describeError(error)}` };
    }
  });
  // Any forged bundle outweighs a stale one; a version is verified only when every provenance bundle is.
  const invalid = outcomes.find((o) => o.status === 'invalid');
  if (invalid !== undefined) return invalid;
  const stale = outcomes.find((o) => o.status === 'root-stale');
  if (stale !== undefined) return stale;
  const identities = outcomes.map((o) => (o as { identity: PublisherIdentity }).identity);
  const first = identities[0]!;
  if (identities.some((i) => JSON.stringify(i) !== JSON.stringify(first))) {
    return { status: 'invalid', reason: `its provenance attestations name different builders (${identities.map((i) => i.repository).join(', ')})` };
  }
  return { status: 'verified', identity: first };
}
