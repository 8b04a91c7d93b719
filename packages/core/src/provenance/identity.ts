/**
 * Who built a release, read only from the Fulcio certificate's extensions (OID arc 1.3.6.1.4.1.57264.1). Every value
 * is taken whole and compared exactly; nothing here matches a prefix, a suffix or a pattern built from input.
 */
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import type { PublisherIdentity } from '../evaluation/evidence.js';

/** GitHub Actions' OIDC issuer. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

const ARC = '1.3.6.1.4.1.57264.1.';
/** Fulcio extensions: v1 ones hold raw bytes, v2 ones (8 and up) a DER UTF8String. */
const V1 = { issuer: 1, trigger: 2, sha: 3, repository: 5, ref: 6 } as const;
const V2 = {
  issuer: 8,
  buildSignerUri: 9,
  runnerEnvironment: 11,
  sourceRepositoryUri: 12,
  sourceRepositoryDigest: 13,
  sourceRepositoryRef: 14,
  sourceRepositoryIdentifier: 15,
  sourceRepositoryOwnerIdentifier: 17,
  buildConfigUri: 18,
  buildTrigger: 20,
} as const;

/** The certificate cannot say who built the release. */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

/** The Fulcio fields Portcullis reads, as strings (absent when the certificate has no such extension). */
export interface FulcioFields {
  issuerV1?: string;
  triggerV1?: string;
  shaV1?: string;
  repositoryV1?: string;
  refV1?: string;
  issuer?: string;
  buildSignerUri?: string;
  runnerEnvironment?: string;
  sourceRepositoryUri?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  sourceRepositoryIdentifier?: string;
  sourceRepositoryOwnerIdentifier?: string;
  buildConfigUri?: string;
  buildTrigger?: string;
  /** The certificate's URI subject alternative name (the build signer for GitHub; old certificates' only workflow). */
  san?: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, what: string): string {
  let value: string;
  try {
    value = UTF8.decode(bytes);
  } catch {
    throw new IdentityError(`the certificate's ${what} is not UTF-8`);
  }
  // Control characters have no place in a URI, ref or id; they only serve to fool a reader or a log.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) throw new IdentityError(`the certificate's ${what} holds a control character`);
  }
  if (value.length === 0) throw new IdentityError(`the certificate's ${what} is empty`);
  return value;
}

function utf8String(bytes: Buffer, what: string): string {
  let obj: ASN1Obj;
  try {
    obj = ASN1Obj.parseBuffer(bytes as Buffer<ArrayBuffer>);
  } catch {
    throw new IdentityError(`the certificate's ${what} is not DER`);
  }
  if (!obj.tag.isUniversal() || obj.tag.number !== 0x0c || obj.tag.constructed || !obj.toDER().equals(bytes)) {
    throw new IdentityError(`the certificate's ${what} is not a DER UTF8String`);
  }
  return text(obj.value, what);
}

/**
 * Reads the Fulcio extensions of a certificate (DER, or as sigstore-js parsed it for the verifier: the same bytes, not
 * parsed twice); a Fulcio extension present twice is refused.
 */
export function fulcioFields(certificate: Uint8Array | X509Certificate): FulcioFields {
  let cert: X509Certificate;
  try {
    cert = certificate instanceof X509Certificate ? certificate : X509Certificate.parse(Buffer.from(certificate));
  } catch {
    throw new IdentityError('the signing certificate is not a DER X.509 certificate');
  }
  const raw = new Map<number, Buffer>();
  for (const ext of cert.extensions) {
    const oid = ext.subs[0]?.toOID();
    if (oid === undefined || !oid.startsWith(ARC)) continue;
    const n = Number(oid.slice(ARC.length));
    if (!Number.isInteger(n)) continue;
    if (raw.has(n)) throw new IdentityError(`the certificate holds Fulcio extension ${oid} twice`);
    const value = ext.subs[ext.subs.length - 1]?.value;
    if (value !== undefined) raw.set(n, value);
  }
  const fields: FulcioFields = {};
  const v1 = (n: number, what: string) => (raw.has(n) ? text(raw.get(n)!, what) : undefined);
  const v2 = (n: number, what: string) => (raw.has(n) ? utf8String(raw.get(n)!, what) : undefined);
  const set = <K extends keyof FulcioFields>(key: K, value: string | undefined) => {
    if (value !== undefined) fields[key] = value;
  };
  set('issuerV1', v1(V1.issuer, 'issuer (v1)'));
  set('triggerV1', v1(V1.trigger, 'trigger (v1)'));
  set('shaV1', v1(V1.sha, 'commit (v1)'));
  set('repositoryV1', v1(V1.repository, 'repository (v1)'));
  set('refV1', v1(V1.ref, 'ref (v1)'));
  set('issuer', v2(V2.issuer, 'issuer'));
  set('buildSignerUri', v2(V2.buildSignerUri, 'build signer URI'));
  set('runnerEnvironment', v2(V2.runnerEnvironment, 'runner environment'));
  set('sourceRepositoryUri', v2(V2.sourceRepositoryUri, 'source repository URI'));
  set('sourceRepositoryDigest', v2(V2.sourceRepositoryDigest, 'source repository digest'));
  set('sourceRepositoryRef', v2(V2.sourceRepositoryRef, 'source repository ref'));
  set('sourceRepositoryIdentifier', v2(V2.sourceRepositoryIdentifier, 'source repository identifier'));
  set('sourceRepositoryOwnerIdentifier', v2(V2.sourceRepositoryOwnerIdentifier, 'source repository owner identifier'));
  set('buildConfigUri', v2(V2.buildConfigUri, 'build config URI'));
  set('buildTrigger', v2(V2.buildTrigger, 'build trigger'));
  let san: string | undefined;
  try {
    san = cert.extSubjectAltName?.uri;
  } catch {
    throw new IdentityError('the certificate has an unreadable subject alternative name');
  }
  if (san !== undefined) set('san', text(Buffer.from(san, 'latin1'), 'subject alternative name'));
  return fields;
}

/** A value given by both the v2 and the legacy v1 extension must agree (Fulcio writes both from one token). */
function agreed(v2: string | undefined, v1: string | undefined, what: string): string | undefined {
  if (v2 !== undefined && v1 !== undefined && v2 !== v1) throw new IdentityError(`the certificate's ${what} extensions disagree (${JSON.stringify(v2)} and ${JSON.stringify(v1)})`);
  return v2 ?? v1;
}

/** `https://host/owner/repo` → `host/owner/repo` lower-cased; anything else is refused. */
function repositoryOf(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new IdentityError(`the certificate's source repository ${JSON.stringify(uri)} is not a URL`);
  }
  const path = url.pathname.slice(1);
  const segments = path.split('/');
  if (
    url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '' || url.search !== '' || url.hash !== '' ||
    url.href !== uri || segments.length < 2 || segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new IdentityError(`the certificate's source repository ${JSON.stringify(uri)} is not an https://host/owner/repo URL`);
  }
  return `${url.host}/${path}`.toLowerCase();
}

/**
 * The workflow file's path from a build config URI (`<repository URI>/<path>@<ref>`). The ref may contain `@`
 * (`refs/tags/pkg@1.2.3`), so the ref the certificate names is cut off the end whole; the URI is never split at
 * an `@` of its own choosing when the ref is known.
 */
export function workflowPathOf(uri: string, repositoryUri: string, ref: string | undefined, github: boolean): string {
  const prefix = `${repositoryUri}/`;
  if (!uri.startsWith(prefix)) throw new IdentityError(`the workflow ${JSON.stringify(uri)} is not in the source repository ${repositoryUri}`);
  let rest = uri.slice(prefix.length);
  if (ref !== undefined) {
    const suffix = `@${ref}`;
    if (!rest.endsWith(suffix) || rest.length === suffix.length) throw new IdentityError(`the workflow ${JSON.stringify(uri)} does not end with the certificate's ref ${JSON.stringify(ref)}`);
    rest = rest.slice(0, -suffix.length);
  } else {
    const at = rest.indexOf('@');
    if (at >= 0) rest = rest.slice(0, at);
  }
  // GitLab writes `<project>//<path>`: the second slash separates the project from the file.
  if (!github && rest.startsWith('/')) rest = rest.slice(1);
  const segments = rest.split('/');
  if (rest === '' || segments.some((s) => s === '' || s === '.' || s === '..')) throw new IdentityError(`the workflow path in ${JSON.stringify(uri)} is not a file path`);
  if (github && (segments.length !== 3 || segments[0] !== '.github' || segments[1] !== 'workflows')) {
    throw new IdentityError(`${JSON.stringify(uri)} is not a GitHub workflow (.github/workflows/<file>)`);
  }
  return rest;
}

/** The publisher identity from already-read Fulcio fields (see identityFromCertificate). */
export function identityFromFields(f: FulcioFields): PublisherIdentity {
  const issuer = f.issuer ?? f.issuerV1;
  if (issuer === undefined) throw new IdentityError('the certificate names no OIDC issuer');
  const github = issuer === GITHUB_ACTIONS_ISSUER;
  const ref = agreed(f.sourceRepositoryRef, f.refV1, 'ref');
  const commit = agreed(f.sourceRepositoryDigest, f.shaV1, 'commit');
  const trigger = agreed(f.buildTrigger, f.triggerV1, 'trigger');
  let repositoryUri: string;
  let workflowUri: string;
  if (f.sourceRepositoryUri !== undefined) {
    repositoryUri = f.sourceRepositoryUri;
    if (f.buildConfigUri === undefined) throw new IdentityError('the certificate names a source repository but no build config (workflow)');
    workflowUri = f.buildConfigUri;
    if (github && f.repositoryV1 !== undefined && `https://github.com/${f.repositoryV1}` !== repositoryUri) {
      throw new IdentityError(`the certificate's repository extensions disagree (${JSON.stringify(repositoryUri)} and ${JSON.stringify(f.repositoryV1)})`);
    }
  } else {
    // Certificates before Fulcio's v2 extensions (early 2023) are GitHub-only: owner/repo, ref and the workflow as SAN.
    if (!github) throw new IdentityError('the certificate names no source repository');
    if (f.repositoryV1 === undefined) throw new IdentityError('the certificate names no source repository');
    const parts = f.repositoryV1.split('/');
    if (parts.length !== 2 || parts.some((p) => !/^[A-Za-z0-9._-]+$/.test(p) || p === '.' || p === '..')) {
      throw new IdentityError(`the certificate's repository ${JSON.stringify(f.repositoryV1)} is not owner/repo`);
    }
    if (ref === undefined) throw new IdentityError('the certificate names no ref');
    if (f.san === undefined) throw new IdentityError('the certificate names no workflow (no URI subject alternative name)');
    repositoryUri = `https://github.com/${f.repositoryV1}`;
    workflowUri = f.san;
  }
  const repository = repositoryOf(repositoryUri);
  if (github && !repository.startsWith('github.com/')) throw new IdentityError(`a GitHub Actions certificate names a repository outside github.com (${repositoryUri})`);
  const identity: PublisherIdentity = { issuer, repository, repositoryUri, workflow: workflowPathOf(workflowUri, repositoryUri, ref, github) };
  if (f.sourceRepositoryIdentifier !== undefined) identity.repositoryId = f.sourceRepositoryIdentifier;
  if (f.sourceRepositoryOwnerIdentifier !== undefined) identity.ownerId = f.sourceRepositoryOwnerIdentifier;
  if (ref !== undefined) identity.ref = ref;
  if (trigger !== undefined) identity.trigger = trigger;
  if (f.runnerEnvironment !== undefined) identity.runnerEnvironment = f.runnerEnvironment;
  if (commit !== undefined) identity.commit = commit;
  return identity;
}

/** Who built it, from the Fulcio certificate alone (see fulcioFields); throws IdentityError when the certificate cannot say. */
export function identityFromCertificate(certificate: Uint8Array | X509Certificate): PublisherIdentity {
  return identityFromFields(fulcioFields(certificate));
}
