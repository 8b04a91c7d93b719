/**
 * A test Sigstore, made with node:crypto alone: a Fulcio-like CA (root + intermediate), a Rekor-like
 * transparency log (signed entry timestamps and single-leaf inclusion proofs with a signed checkpoint
 * over canonicalized `dsse` 0.0.1 entries) and a CT log (SCTs embedded in the leaf certificate), plus
 * the `TrustedRoot` JSON that lists them. It issues keyless provenance bundles the way GitHub Actions
 * and npm do: a short-lived leaf certificate with the GitHub Actions OIDC extensions, a DSSE envelope
 * over an in-toto SLSA provenance v1 statement, and one Rekor entry.
 *
 * Keys are derived from fixed labels (like `keys.ts`), so log ids, key ids and the trusted root's keys
 * are the same in every process. ECDSA signatures are randomized, so certificate bytes differ between
 * processes; a bundle made in one process still verifies against the root written by another (the
 * chain is matched by key identifier and verified by key). Everything here is public knowledge by
 * construction: never trust it outside tests.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import * as der from './der.js';
import { deriveSigningKey } from './keys.js';

/** The provenance predicate npm shows and checks. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The media type of the bundles npm serves for SLSA provenance. */
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
/** OIDC issuer of GitHub Actions tokens (certificate extension 1.3.6.1.4.1.57264.1.8). */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';
const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const GITHUB_BUILD_TYPE = 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';

/** Where the test services say they live (names only: nothing listens there). */
export const TEST_SIGSTORE = {
  fulcio: 'https://fulcio.portcullis.test',
  rekor: 'https://rekor.portcullis.test',
  ctlog: 'https://ctfe.portcullis.test',
} as const;

/** Valid-from date written in the trusted roots; the CA certificates span 2020–2045. */
const VALID_FROM = '2020-01-01T00:00:00.000Z';
const CA_NOT_AFTER = '2045-01-01T00:00:00.000Z';
/** Fulcio certificates live ten minutes. */
const LEAF_LIFETIME_MS = 10 * 60_000;

/** The GitHub Actions identity a version was built by (what Fulcio would certify). */
export interface ProvenanceSpec {
  /** `github.com/<owner>/<repo>`, as npm shows it. */
  repository: string;
  repositoryId: string;
  ownerId: string;
  /** Workflow path in the repository, e.g. `.github/workflows/release.yml`. */
  workflow: string;
  /** E.g. `refs/tags/v1.0.0`. */
  ref: string;
  /** The workflow trigger (`push`, `release`, `workflow_dispatch`). */
  trigger: string;
  /** 40 hex digits; default: derived from repository and ref. */
  commit?: string;
  /** Default `github-hosted`. */
  runnerEnvironment?: 'github-hosted' | 'self-hosted';
  /** Make a bundle that lies or does not verify (see `ProvenanceTamper`). */
  tamper?: ProvenanceTamper;
}

/**
 * How a bundle is spoiled. The first three are *signed lies*: the bundle verifies cryptographically
 * (the test Sigstore signed what it was given), but the statement disagrees with the package —
 * only a check of the statement against the tarball, the package or the certificate catches them.
 * `signature` is a bundle whose DSSE signature does not verify (the log entry records that same
 * signature, so the failure is the signature check itself).
 */
export type ProvenanceTamper =
  /** Subject digest is not the tarball's sha512. */
  | 'digest'
  /** Subject names another package (`pkg:npm/<name>-fork@<version>`); the digest is right. */
  | 'subject'
  /** Statement's workflow repository and resolved dependency point to `https://github.com/evil/<repo>` while the certificate says the real one. */
  | 'statement-repository'
  /** The DSSE signature is over different bytes. */
  | 'signature';

/** What a bundle is made for: one package version and its tarball digest. */
export interface ProvenanceSubject {
  name: string;
  version: string;
  /** Hex SHA-512 of the tarball (the subject digest npm checks against `dist.integrity`). */
  sha512: string;
  /** When it was signed (the Rekor integrated time and the certificate's validity). */
  signedAt: string;
}

interface Key {
  privateKey: KeyObject;
  /** SPKI DER. */
  spki: Buffer;
}

interface Authority {
  label: string;
  root: { key: Key; name: Buffer; cert: Buffer };
  intermediate: { key: Key; name: Buffer; cert: Buffer };
  rekor: Key;
  ctlog: Key;
}

const ECDSA_WITH_SHA256 = der.sequence(der.oid('1.2.840.10045.4.3.2'));
const OID = {
  organization: '2.5.4.10',
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
} as const;
/** Fulcio's OID arc for OIDC claims. */
const FULCIO = '1.3.6.1.4.1.57264.1';

function keyFor(label: string): Key {
  const derived = deriveSigningKey(`sigstore ${label}`, null);
  return { privateKey: derived.privateKey, spki: Buffer.from(derived.record.key, 'base64') };
}

const sha256 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** RFC 5280 key identifier: SHA-1 of the subjectPublicKey bits (the uncompressed P-256 point ends the SPKI). */
const keyIdentifier = (spki: Buffer): Buffer => createHash('sha1').update(spki.subarray(spki.length - 65)).digest();

function name(organization: string, commonName: string): Buffer {
  return der.sequence(
    der.set(der.sequence(der.oid(OID.organization), der.utf8String(organization))),
    der.set(der.sequence(der.oid(OID.commonName), der.utf8String(commonName))),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

interface CertificateFields {
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Buffer[];
}

function tbsCertificate(fields: CertificateFields): Buffer {
  return der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(fields.serial),
    ECDSA_WITH_SHA256,
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    fields.subject,
    fields.spki,
    der.explicit(3, der.sequence(...fields.extensions)),
  );
}

function signCertificate(tbs: Buffer, issuerKey: KeyObject): Buffer {
  const signature = sign('sha256', tbs, { key: issuerKey, dsaEncoding: 'der' });
  return der.sequence(tbs, ECDSA_WITH_SHA256, der.bitString(signature));
}

const KEY_CERT_SIGN_CRL_SIGN = der.bitString(Buffer.from([0x06]), 1);
const DIGITAL_SIGNATURE = der.bitString(Buffer.from([0x80]), 7);

function caCertificate(opts: { key: Key; subject: Buffer; issuer: Buffer; issuerKey: Key; pathLength: number; serial: number }): Buffer {
  const extensions = [
    extension(OID.basicConstraints, true, der.sequence(der.boolean(true), der.smallInteger(opts.pathLength))),
    extension(OID.keyUsage, true, KEY_CERT_SIGN_CRL_SIGN),
    extension(OID.subjectKeyId, false, der.octetString(keyIdentifier(opts.key.spki))),
    extension(OID.authorityKeyId, false, der.sequence(der.implicitPrimitive(0, keyIdentifier(opts.issuerKey.spki)))),
  ];
  const tbs = tbsCertificate({
    serial: Buffer.from([opts.serial]),
    issuer: opts.issuer,
    subject: opts.subject,
    notBefore: new Date(VALID_FROM),
    notAfter: new Date(CA_NOT_AFTER),
    spki: opts.key.spki,
    extensions,
  });
  return signCertificate(tbs, opts.issuerKey.privateKey);
}

/** One whole test Sigstore (CA, log, CT log) from a label; `current` signs, `retired` only makes the stale root. */
function makeAuthority(label: string): Authority {
  const rootKey = keyFor(`${label} root`);
  const intermediateKey = keyFor(`${label} intermediate`);
  const rootName = name('portcullis.test', `portcullis test sigstore root (${label})`);
  const intermediateName = name('portcullis.test', `portcullis test sigstore intermediate (${label})`);
  return {
    label,
    root: { key: rootKey, name: rootName, cert: caCertificate({ key: rootKey, subject: rootName, issuer: rootName, issuerKey: rootKey, pathLength: 1, serial: 1 }) },
    intermediate: {
      key: intermediateKey,
      name: intermediateName,
      cert: caCertificate({ key: intermediateKey, subject: intermediateName, issuer: rootName, issuerKey: rootKey, pathLength: 0, serial: 2 }),
    },
    rekor: keyFor(`${label} rekor`),
    ctlog: keyFor(`${label} ctlog`),
  };
}

const authorities = new Map<string, Authority>();
function authority(label: 'current' | 'retired'): Authority {
  let made = authorities.get(label);
  if (!made) authorities.set(label, (made = makeAuthority(label)));
  return made;
}

/** The `TrustedRoot` JSON (protobuf-specs JSON form) of one authority. */
function trustedRootOf(ca: Authority): Record<string, unknown> {
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  const log = (baseUrl: string, key: Key) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(key.spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: VALID_FROM } },
    logId: { keyId: b64(sha256(key.spki)) },
  });
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [log(TEST_SIGSTORE.rekor, ca.rekor)],
    certificateAuthorities: [
      {
        subject: { organization: 'portcullis.test', commonName: `portcullis test sigstore root (${ca.label})` },
        uri: TEST_SIGSTORE.fulcio,
        certChain: { certificates: [{ rawBytes: b64(ca.intermediate.cert) }, { rawBytes: b64(ca.root.cert) }] },
        validFor: { start: VALID_FROM },
      },
    ],
    ctlogs: [log(TEST_SIGSTORE.ctlog, ca.ctlog)],
    timestampAuthorities: [],
  };
}

/** The trusted root that verifies every bundle the test registry serves (a fresh object; write it to a file). */
export function testTrustedRoot(): Record<string, unknown> {
  return trustedRootOf(authority('current'));
}

/** What a stale trusted root lacks: everything, or only the CA, the transparency log or the CT log. */
export type StaleRootLack = 'all' | 'ca' | 'tlog' | 'ctlog';

/**
 * A well-formed trusted root that lacks the test Sigstore's CA, transparency log and CT log (`'all'`, the
 * default: it is the root of another, retired test Sigstore), or only one of them (that part is the
 * retired one's, the rest current). Every bundle the registry serves is "stale" against it.
 */
export function staleTrustedRoot(lacking: StaleRootLack = 'all'): Record<string, unknown> {
  const retired = trustedRootOf(authority('retired'));
  if (lacking === 'all') return retired;
  const field = ({ ca: 'certificateAuthorities', tlog: 'tlogs', ctlog: 'ctlogs' } as const)[lacking];
  if (!field) throw new Error(`unknown part of a trusted root: ${String(lacking)}`);
  return { ...trustedRootOf(authority('current')), [field]: retired[field] };
}

// ---------------------------------------------------------------------------------------------
// Identity: what the GitHub Actions OIDC token says, as Fulcio writes it

/** `github.com/acme/widget` → `https://github.com/acme/widget`. */
export function repositoryUri(repository: string): string {
  return `https://${repository}`;
}

/** The build signer URI (SAN and extension .9): `https://github.com/<repo>/<workflow>@<ref>`. */
export function buildSignerUri(spec: ProvenanceSpec): string {
  return `${repositoryUri(spec.repository)}/${spec.workflow}@${spec.ref}`;
}

/** The commit a spec names, or one derived from repository and ref. */
export function commitOf(spec: ProvenanceSpec): string {
  return spec.commit ?? createHash('sha1').update(`${spec.repository}@${spec.ref}`).digest('hex');
}

function runId(spec: ProvenanceSpec): string {
  return String(BigInt(`0x${createHash('sha256').update(`${spec.repository}@${spec.ref}`).digest('hex').slice(0, 10)}`));
}

function checkSpec(spec: ProvenanceSpec): void {
  if (!/^github\.com\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(spec.repository)) throw new Error(`provenance repository must be github.com/<owner>/<repo>: ${spec.repository}`);
  if (spec.commit !== undefined && !/^[0-9a-f]{40}$/.test(spec.commit)) throw new Error(`provenance commit must be 40 hex digits: ${spec.commit}`);
  for (const field of ['repositoryId', 'ownerId', 'workflow', 'ref', 'trigger'] as const) {
    if (typeof spec[field] !== 'string' || spec[field] === '') throw new Error(`provenance ${field} must be a non-empty string`);
  }
}

/** The Fulcio OIDC extensions of a GitHub Actions certificate: legacy .1–.6 raw, .8–.22 DER UTF8String. */
function githubExtensions(spec: ProvenanceSpec): Buffer[] {
  const repo = repositoryUri(spec.repository);
  const owner = repo.slice(0, repo.lastIndexOf('/'));
  const commit = commitOf(spec);
  const signer = buildSignerUri(spec);
  const raw = (arc: number, value: string) => extension(`${FULCIO}.${arc}`, false, Buffer.from(value, 'utf8'));
  const utf8 = (arc: number, value: string) => extension(`${FULCIO}.${arc}`, false, der.utf8String(value));
  return [
    raw(1, GITHUB_ACTIONS_ISSUER),
    raw(2, spec.trigger),
    raw(3, commit),
    raw(4, 'Release'),
    raw(5, spec.repository.slice('github.com/'.length)),
    raw(6, spec.ref),
    utf8(8, GITHUB_ACTIONS_ISSUER),
    utf8(9, signer),
    utf8(10, commit),
    utf8(11, spec.runnerEnvironment ?? 'github-hosted'),
    utf8(12, repo),
    utf8(13, commit),
    utf8(14, spec.ref),
    utf8(15, spec.repositoryId),
    utf8(16, owner),
    utf8(17, spec.ownerId),
    utf8(18, signer),
    utf8(19, commit),
    utf8(20, spec.trigger),
    utf8(21, `${repo}/actions/runs/${runId(spec)}/attempts/1`),
    utf8(22, 'public'),
  ];
}

const uint = (value: number | bigint, bytes: number): Buffer => {
  const out = Buffer.alloc(bytes);
  let rest = BigInt(value);
  for (let i = bytes - 1; i >= 0; i--, rest >>= 8n) out[i] = Number(rest & 0xffn);
  return out;
};

/** Issues the leaf: the precertificate TBS is logged to the CT log, its SCT embedded, then the whole is signed. */
function leafCertificate(ca: Authority, leaf: Key, spec: ProvenanceSpec, signedAt: Date, serialSeed: string): Buffer {
  const fields: CertificateFields = {
    serial: createHash('sha256').update(`serial ${serialSeed}`).digest().subarray(0, 16),
    issuer: ca.intermediate.name,
    subject: der.sequence(),
    notBefore: new Date(signedAt.getTime() - 30_000),
    notAfter: new Date(signedAt.getTime() - 30_000 + LEAF_LIFETIME_MS),
    spki: leaf.spki,
    extensions: [
      extension(OID.keyUsage, true, DIGITAL_SIGNATURE),
      extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.codeSigning))),
      extension(OID.subjectKeyId, false, der.octetString(keyIdentifier(leaf.spki))),
      extension(OID.authorityKeyId, false, der.sequence(der.implicitPrimitive(0, keyIdentifier(ca.intermediate.key.spki)))),
      extension(OID.subjectAltName, true, der.sequence(der.implicitPrimitive(6, Buffer.from(buildSignerUri(spec), 'ascii')))),
      ...githubExtensions(spec),
    ],
  };
  // RFC 6962 §3.2: the SCT signs the precertificate TBS (without the SCT list) and the issuer key hash.
  const precert = tbsCertificate(fields);
  const timestamp = uint(signedAt.getTime(), 8);
  const signed = Buffer.concat([
    Buffer.from([0x00, 0x00]), // v1, certificate_timestamp
    timestamp,
    uint(1, 2), // precert_entry
    sha256(ca.intermediate.key.spki),
    uint(precert.length, 3),
    precert,
    uint(0, 2), // no extensions
  ]);
  const signature = sign('sha256', signed, { key: ca.ctlog.privateKey, dsaEncoding: 'der' });
  const sct = Buffer.concat([
    Buffer.from([0x00]),
    sha256(ca.ctlog.spki), // log id
    timestamp,
    uint(0, 2),
    Buffer.from([0x04, 0x03]), // sha256, ecdsa
    uint(signature.length, 2),
    signature,
  ]);
  const list = Buffer.concat([uint(sct.length + 2, 2), uint(sct.length, 2), sct]);
  fields.extensions.push(extension(OID.sctList, false, der.octetString(list)));
  return signCertificate(tbsCertificate(fields), ca.intermediate.key.privateKey);
}

// ---------------------------------------------------------------------------------------------
// Statement, envelope, log entry, bundle

/** `pkg:npm/%40acme/widget@1.0.0`: npm's purl for a version (only the scope's `@` is escaped). */
export function purlOf(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

/** The in-toto statement (SLSA provenance v1) GitHub Actions + npm would produce for this version. */
export function provenanceStatement(subject: Pick<ProvenanceSubject, 'name' | 'version' | 'sha512'>, spec: ProvenanceSpec): Record<string, unknown> {
  checkSpec(spec);
  const tamper = spec.tamper;
  const realRepo = repositoryUri(spec.repository);
  const repo = tamper === 'statement-repository' ? `https://github.com/evil/${spec.repository.slice(spec.repository.lastIndexOf('/') + 1)}` : realRepo;
  const sha512 = tamper === 'digest' ? createHash('sha512').update(`not the tarball of ${subject.name}@${subject.version}`).digest('hex') : subject.sha512;
  const subjectName = tamper === 'subject' ? purlOf(`${subject.name}-fork`, subject.version) : purlOf(subject.name, subject.version);
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: subjectName, digest: { sha512 } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: GITHUB_BUILD_TYPE,
        externalParameters: { workflow: { ref: spec.ref, repository: repo, path: spec.workflow } },
        internalParameters: { github: { event_name: spec.trigger, repository_id: spec.repositoryId, repository_owner_id: spec.ownerId } },
        resolvedDependencies: [{ uri: `git+${repo}@${spec.ref}`, digest: { gitCommit: commitOf(spec) } }],
      },
      runDetails: {
        builder: { id: `https://github.com/actions/runner/${spec.runnerEnvironment ?? 'github-hosted'}` },
        metadata: { invocationId: `${realRepo}/actions/runs/${runId(spec)}/attempts/1` },
      },
    },
  };
}

/** DSSE pre-authentication encoding. */
function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `, 'utf8'), payload]);
}

/** RFC 8785-style canonical JSON for the plain ASCII-keyed objects made here (sorted keys, no spaces). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function pem(cert: Buffer): string {
  const lines = cert.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * A keyless Sigstore bundle (v0.3, JSON form) carrying SLSA provenance v1 for one package version,
 * signed by the test Sigstore: leaf certificate with GitHub Actions extensions and an embedded SCT,
 * DSSE envelope, one `dsse` 0.0.1 Rekor entry with inclusion promise and inclusion proof.
 */
export function provenanceBundle(subject: ProvenanceSubject, spec: ProvenanceSpec): Record<string, unknown> {
  if (!/^[0-9a-f]{128}$/.test(subject.sha512)) throw new Error(`sha512 must be 128 hex digits for ${subject.name}@${subject.version}`);
  const signedAt = new Date(subject.signedAt);
  if (Number.isNaN(signedAt.getTime())) throw new Error(`invalid signedAt: ${subject.signedAt}`);
  const ca = authority('current');
  const id = `${subject.name}@${subject.version}`;
  const leaf = keyFor(`leaf ${id}`);
  const cert = leafCertificate(ca, leaf, spec, signedAt, id);

  const payload = Buffer.from(JSON.stringify(provenanceStatement(subject, spec)), 'utf8');
  const signedBytes = spec.tamper === 'signature' ? pae(IN_TOTO_PAYLOAD_TYPE, Buffer.concat([payload, Buffer.from(' ')])) : pae(IN_TOTO_PAYLOAD_TYPE, payload);
  const signature = sign('sha256', signedBytes, { key: leaf.privateKey, dsaEncoding: 'der' });
  const envelope = { payload: payload.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: signature.toString('base64'), keyid: '' }] };

  // The Rekor entry: canonicalized dsse 0.0.1 body, signed entry timestamp, and a one-leaf tree with a signed checkpoint.
  const body = Buffer.from(
    canonicalJson({
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(canonicalJson({ payload: envelope.payload, payloadType: envelope.payloadType, signatures: [{ sig: envelope.signatures[0]!.sig }] }))).toString('hex') },
        payloadHash: { algorithm: 'sha256', value: sha256(payload).toString('hex') },
        signatures: [{ signature: signature.toString('base64'), verifier: Buffer.from(pem(cert)).toString('base64') }],
      },
    }),
    'utf8',
  );
  const logId = sha256(ca.rekor.spki);
  const logIndex = Number.parseInt(createHash('sha256').update(`log index ${id}`).digest('hex').slice(0, 7), 16);
  const integratedTime = Math.floor(signedAt.getTime() / 1000);
  const set = sign('sha256', Buffer.from(canonicalJson({ body: body.toString('base64'), integratedTime, logIndex, logID: logId.toString('hex') })), {
    key: ca.rekor.privateKey,
    dsaEncoding: 'der',
  });
  const rootHash = sha256(Buffer.from([0x00]), body);
  const origin = new URL(TEST_SIGSTORE.rekor).host;
  const note = `${origin} - 1\n1\n${rootHash.toString('base64')}\n`;
  const noteSignature = sign('sha256', Buffer.from(note, 'utf8'), { key: ca.rekor.privateKey, dsaEncoding: 'der' });
  const checkpoint = `${note}\n\u2014 ${origin} ${Buffer.concat([logId.subarray(0, 4), noteSignature]).toString('base64')}\n`;

  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: {
      certificate: { rawBytes: cert.toString('base64') },
      tlogEntries: [
        {
          logIndex: String(logIndex),
          logId: { keyId: logId.toString('base64') },
          kindVersion: { kind: 'dsse', version: '0.0.1' },
          integratedTime: String(integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
          inclusionProof: { logIndex: '0', rootHash: rootHash.toString('base64'), treeSize: '1', hashes: [], checkpoint: { envelope: checkpoint } },
          canonicalizedBody: body.toString('base64'),
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  };
}
