/**
 * The Sigstore trust Portcullis verifies provenance against: the public-good root it ships, or a trusted_root.json
 * the policy names (a private Sigstore, a newer root). Hostile input: validated before sigstore-js sees it.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, Verifier, type TrustMaterial } from '@sigstore/verify';
import { PortcullisError } from '../errors.js';
import { fixCertificate } from './fixed-certificate.js';
import { PUBLIC_GOOD_TRUSTED_ROOT } from './public-good-root.js';

/** A trusted_root.json larger than this is refused (the public-good one is 7 KiB). */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;
/** At most this many logs or authorities of each kind. */
const MAX_ENTRIES = 64;
/** At most this many certificates in one authority's chain. */
const MAX_CHAIN = 8;

/** A time range in which a key or authority may be used; missing ends are open. */
export interface ValidityWindow {
  start: Date;
  end: Date;
}

/** One certificate authority of the root: its certificates (issuing CA first) and when it may issue. */
export interface TrustedAuthority {
  uri: string;
  certificates: readonly X509Certificate[];
  window: ValidityWindow;
}

/** Trust material for @sigstore/verify, plus the indexes the staleness check reads before verifying. */
export interface SigstoreTrust {
  /** Where it came from, for messages (`the embedded public-good root`, a file path). */
  readonly source: string;
  /** A digest of the root's content: remembered verdicts are kept per root. */
  readonly id: string;
  readonly material: TrustMaterial;
  /** A verifier over `material` (no identity policy: identity is read from the certificate by Portcullis). */
  readonly verifier: Verifier;
  /** Transparency-log key ids (base64) → validity windows of the keys with that id. */
  readonly tlogs: ReadonlyMap<string, readonly ValidityWindow[]>;
  /** Certificate-transparency log ids (base64) → validity windows. */
  readonly ctlogs: ReadonlyMap<string, readonly ValidityWindow[]>;
  /** Fulcio certificate authorities. */
  readonly authorities: readonly TrustedAuthority[];
}

const BEGINNING = new Date(0);
const END = new Date(8_640_000_000_000_000);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only: a root's inherited or `__proto__` keys are never read. */
function own(object: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

class RootError extends Error {}

function base64Field(object: Record<string, unknown>, key: string, where: string): Buffer {
  const value = own(object, key);
  if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value)) throw new RootError(`${where}.${key} is not base64`);
  return Buffer.from(value, 'base64');
}

function recordField(object: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const value = own(object, key);
  if (!isRecord(value)) throw new RootError(`${where}.${key} is missing or not an object`);
  return value;
}

function listField(object: Record<string, unknown>, key: string, where: string, required: boolean): unknown[] {
  const value = own(object, key);
  if (value === undefined && !required) return [];
  if (!Array.isArray(value)) throw new RootError(`${where}.${key} is missing or not a list`);
  if (value.length > MAX_ENTRIES) throw new RootError(`${where}.${key} has ${value.length} entries (at most ${MAX_ENTRIES})`);
  return value;
}

function timeOf(value: unknown, where: string): Date | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 40) throw new RootError(`${where} is not a timestamp`);
  const time = new Date(value);
  if (Number.isNaN(time.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) throw new RootError(`${where} is not a timestamp`);
  return time;
}

function windowOf(value: unknown, where: string): ValidityWindow {
  if (value === undefined) return { start: BEGINNING, end: END };
  if (!isRecord(value)) throw new RootError(`${where} is not an object`);
  const start = timeOf(own(value, 'start'), `${where}.start`) ?? BEGINNING;
  const end = timeOf(own(value, 'end'), `${where}.end`) ?? END;
  if (end < start) throw new RootError(`${where} ends before it starts`);
  return { start, end };
}

function logIndex(list: unknown[], where: string): Map<string, ValidityWindow[]> {
  const index = new Map<string, ValidityWindow[]>();
  list.forEach((entry, i) => {
    const at = `${where}[${i}]`;
    if (!isRecord(entry)) throw new RootError(`${at} is not an object`);
    const key = recordField(entry, 'publicKey', at);
    base64Field(key, 'rawBytes', `${at}.publicKey`);
    const window = windowOf(own(key, 'validFor'), `${at}.publicKey.validFor`);
    // sigstore-js identifies a log by its checkpoint key id when the root gives one, else by its log id.
    const checkpoint = own(entry, 'checkpointKeyId');
    const id = isRecord(checkpoint) ? base64Field(checkpoint, 'keyId', `${at}.checkpointKeyId`) : base64Field(recordField(entry, 'logId', at), 'keyId', `${at}.logId`);
    const name = id.toString('base64');
    index.set(name, [...(index.get(name) ?? []), window]);
  });
  return index;
}

function authorities(list: unknown[], where: string): TrustedAuthority[] {
  return list.map((entry, i) => {
    const at = `${where}[${i}]`;
    if (!isRecord(entry)) throw new RootError(`${at} is not an object`);
    const chain = listField(recordField(entry, 'certChain', at), 'certificates', `${at}.certChain`, true);
    if (chain.length === 0 || chain.length > MAX_CHAIN) throw new RootError(`${at}.certChain must hold 1 to ${MAX_CHAIN} certificates`);
    const certificates = chain.map((cert, j) => {
      if (!isRecord(cert)) throw new RootError(`${at}.certChain.certificates[${j}] is not an object`);
      const der = base64Field(cert, 'rawBytes', `${at}.certChain.certificates[${j}]`);
      try {
        return X509Certificate.parse(der as Buffer<ArrayBuffer>);
      } catch {
        throw new RootError(`${at}.certChain.certificates[${j}] is not a DER certificate`);
      }
    });
    const uri = own(entry, 'uri');
    return { uri: typeof uri === 'string' ? uri : '', certificates, window: windowOf(own(entry, 'validFor'), `${at}.validFor`) };
  });
}

/** The same trust material with its authorities' certificates encoded once and their own signatures checked once. */
function fixCertificates(material: TrustMaterial): TrustMaterial {
  const fix = (authorities: TrustMaterial['certificateAuthorities']) => authorities.map((ca) => ({ ...ca, certChain: ca.certChain.map((cert) => fixCertificate(cert)) }));
  return { ...material, certificateAuthorities: fix(material.certificateAuthorities), timestampAuthorities: fix(material.timestampAuthorities) };
}

/** Validates a trusted_root.json document and builds the trust from it; `source` names it in errors. */
export function trustFromRoot(json: unknown, source: string): SigstoreTrust {
  try {
    if (!isRecord(json)) throw new RootError('not a JSON object');
    const mediaType = own(json, 'mediaType');
    if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
      throw new RootError('mediaType is not a Sigstore trusted root (application/vnd.dev.sigstore.trustedroot+json)');
    }
    const tlogList = listField(json, 'tlogs', 'root', true);
    const caList = listField(json, 'certificateAuthorities', 'root', true);
    const ctList = listField(json, 'ctlogs', 'root', false);
    listField(json, 'timestampAuthorities', 'root', false);
    if (tlogList.length === 0) throw new RootError('tlogs is empty: no transparency log to check entries against');
    if (caList.length === 0) throw new RootError('certificateAuthorities is empty: no Fulcio CA to chain certificates to');
    const tlogs = logIndex(tlogList, 'tlogs');
    const ctlogs = logIndex(ctList, 'ctlogs');
    const cas = authorities(caList, 'certificateAuthorities');
    let material: TrustMaterial;
    try {
      // A JSON round trip hands sigstore-js own data only, the same fields validated above.
      material = fixCertificates(toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(JSON.stringify(json)))));
    } catch (error) {
      throw new RootError(`sigstore cannot use it (${error instanceof Error ? error.message : String(error)})`);
    }
    const id = trustedRootId(json);
    return { source, id, material, verifier: new Verifier(material), tlogs, ctlogs, authorities: cas };
  } catch (error) {
    if (error instanceof RootError) throw new PortcullisError('POLICY_INVALID', `${source}: not a usable Sigstore trusted root: ${error.message}`);
    throw error;
  }
}

/** Reads a trusted_root.json file (at most MAX_TRUSTED_ROOT_BYTES) and builds the trust from it. */
export function loadTrustedRoot(file: string): SigstoreTrust {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    if (size > MAX_TRUSTED_ROOT_BYTES) {
      throw new PortcullisError('POLICY_INVALID', `${file}: the trusted root is ${size} bytes, larger than the ${MAX_TRUSTED_ROOT_BYTES}-byte limit`);
    }
    const buffer = Buffer.alloc(MAX_TRUSTED_ROOT_BYTES + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
    if (length > MAX_TRUSTED_ROOT_BYTES) throw new PortcullisError('POLICY_INVALID', `${file}: the trusted root is larger than the ${MAX_TRUSTED_ROOT_BYTES}-byte limit`);
    text = buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    if (error instanceof PortcullisError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new PortcullisError('POLICY_INVALID', `${file}: cannot read the Sigstore trusted root (${code ?? (error as Error).message})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PortcullisError('POLICY_INVALID', `${file}: the Sigstore trusted root is not JSON (${(error as Error).message})`);
  }
  return trustFromRoot(json, file);
}

/** The digest remembered verdicts are kept under for a root (SigstoreTrust.id), without building the trust. */
export function trustedRootId(json: unknown): string {
  return createHash('sha256').update(JSON.stringify(json)).digest('hex');
}

let publicGood: SigstoreTrust | undefined;
let publicGoodId: string | undefined;

/** defaultTrust().id, without parsing certificates and keys (remembered provenance is looked up by it). */
export function defaultTrustId(): string {
  publicGoodId ??= publicGood?.id ?? trustedRootId(PUBLIC_GOOD_TRUSTED_ROOT);
  return publicGoodId;
}

/** The Sigstore public-good trust Portcullis ships (built once). */
export function defaultTrust(): SigstoreTrust {
  publicGood ??= trustFromRoot(PUBLIC_GOOD_TRUSTED_ROOT, 'the embedded Sigstore public-good trusted root');
  return publicGood;
}
