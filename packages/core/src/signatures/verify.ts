import { verify as cryptoVerify } from 'node:crypto';
import type { SignatureEvidence } from '../evaluation/evidence.js';
import type { Keyring, TrustedKey } from './keyring.js';

/**
 * Not a verdict but a request: the only signatures that could count are by an expired key, and
 * whether they count depends on when the version was published. The caller fetches the full
 * packument (abbreviated ones carry no `time`), then verifies again with `publishedAt` set to
 * `time[version]`. This keeps full-packument fetches to the rare versions that need them.
 */
export interface NeedsPublishTime {
  status: 'needs-publish-time';
  keyid: string;
  expires: string;
}

/** `bad-signature` with the reason spelled out (still a valid `SignatureEvidence`). */
export interface BadSignature {
  status: 'bad-signature';
  /** The key the failing signature names; empty when only malformed entries were served. */
  keyid: string;
  reason: 'does-not-verify' | 'malformed-signature' | 'malformed-entries';
}

/** What `verifyRegistrySignatures` returns: signature evidence, or a request for the publish time. */
export type SignatureVerdict = Exclude<SignatureEvidence, { status: 'bad-signature' }> | BadSignature | NeedsPublishTime;

/** Inputs of one verification. */
export interface SignatureCheck {
  name: string;
  version: string;
  /** The integrity being installed (the lockfile's), never the registry's claim. */
  integrity: string | undefined;
  /** `dist.signatures` as the registry served it: untrusted, any shape. */
  signatures: unknown;
  /** The registry the package is fetched from (any spelling; normalized by the keyring). */
  registry: string;
  keyring: Keyring;
  /** `time[version]` from the full packument; only needed when an expired key is involved. */
  publishedAt?: string | number | Date | null;
  /** Clock, for tests: a key whose expiry is still ahead needs no publish time. */
  now?: number;
}

// A DER ECDSA P-256 signature is at most 72 bytes (96 base64 characters); leave room, bound hostile input.
const MAX_SIG_LENGTH = 256;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isBase64Signature(sig: string): boolean {
  return sig.length <= MAX_SIG_LENGTH && sig.length % 4 === 0 && BASE64.test(sig);
}

/** The bytes a registry signature covers: `${name}@${version}:${integrity}`, exactly as npm signs them. */
export function signedMessage(name: string, version: string, integrity: string): Buffer {
  return Buffer.from(`${name}@${version}:${integrity}`);
}

function publishTime(value: SignatureCheck['publishedAt']): { ms: number; iso: string } | null | 'invalid' {
  if (value === undefined || value === null) return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) return 'invalid';
  return { ms, iso: new Date(ms).toISOString() };
}

/** Whether `sig` (base64) by `key` verifies over `message`. */
type VerifyWith = (key: TrustedKey, message: Buffer, sig: string) => boolean;

const verifyWith: VerifyWith = (key, message, sig) => {
  try {
    return cryptoVerify('sha256', message, key.publicKey, Buffer.from(sig, 'base64'));
  } catch {
    return false; // malformed DER throws on some OpenSSL versions
  }
};

/** verifyWith on libuv's thread pool (Node's asynchronous `crypto.verify`): the calling thread goes on meanwhile. */
function verifyOffThread(key: TrustedKey, message: Buffer, sig: string): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      cryptoVerify('sha256', message, key.publicKey, Buffer.from(sig, 'base64'), (error, ok) => resolve(error === null && ok));
    } catch {
      resolve(false); // malformed DER throws on some OpenSSL versions
    }
  });
}

/**
 * Verifies a version's registry signatures over `${name}@${version}:${integrity}`.
 *
 * Rules, in order of precedence:
 * - no `signatures` array, or an empty one → `unsigned` (checked first, so a registry that strips
 *   signatures is recognisable even when it has no keys configured);
 * - the registry has no trusted keys → `untrusted-registry`;
 * - any signature by a known key that does not verify, or a malformed entry naming a known key →
 *   `bad-signature` (every signature by a known key must verify);
 * - at least one verifying signature that counts → `verified`; a signature by an expired key
 *   counts only if the version was published before the expiry;
 * - otherwise `needs-publish-time`, `key-expired`, `unknown-key` (entries only by unknown keys),
 *   and finally `bad-signature` when only malformed entries were served.
 * Exact duplicates are verified once. Entries without a known key never count.
 */
export function verifyRegistrySignatures(check: SignatureCheck): SignatureVerdict {
  const ready = readyToDecide(check);
  return 'status' in ready ? ready : decide(check, ready.signatures, ready.keys, verifyWith);
}

/**
 * verifyRegistrySignatures with the signatures verified on libuv's thread pool: the same rules (one `decide`) and the
 * same verdict, but a package manager's own thread (pnpm's, Yarn's) goes on with its work while they are verified, and
 * a decision verifying many packages at once uses every core (~66–117 µs per ECDSA P-256 signature here).
 */
export async function verifyRegistrySignaturesOffThread(check: SignatureCheck): Promise<SignatureVerdict> {
  const ready = readyToDecide(check);
  if ('status' in ready) return ready;
  // Every signature decide may verify: a well-formed one by a known key (duplicates once).
  const results = new Map<string, Promise<boolean>>();
  let message: Buffer | undefined;
  for (const entry of ready.signatures) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { keyid, sig } = entry as { keyid?: unknown; sig?: unknown };
    if (typeof keyid !== 'string' || typeof sig !== 'string') continue;
    const key = ready.keys.get(keyid);
    if (key === undefined || !isBase64Signature(sig)) continue;
    const id = `${keyid}\n${sig}`;
    if (results.has(id)) continue;
    message ??= signedMessage(check.name, check.version, check.integrity as string);
    results.set(id, verifyOffThread(key, message, sig));
  }
  const verified = new Map<string, boolean>();
  for (const [id, result] of results) verified.set(id, await result);
  // A pair decide asks about that was not verified above is one it cannot have reached: never counted as verified.
  return decide(check, ready.signatures, ready.keys, (key, _message, sig) => verified.get(`${key.keyid}\n${sig}`) === true);
}

/** The verdicts that need no signature verified, else what decide needs. */
function readyToDecide(check: SignatureCheck): SignatureVerdict | { signatures: readonly unknown[]; keys: ReadonlyMap<string, TrustedKey> } {
  const { signatures } = check;
  if (!Array.isArray(signatures) || signatures.length === 0) return { status: 'unsigned' };
  const keySet = check.keyring.forRegistry(check.registry);
  if (keySet.keys.size === 0) return { status: 'untrusted-registry', registry: keySet.registry };
  if (typeof check.integrity !== 'string' || check.integrity.length === 0) {
    return { status: 'unavailable', reason: `no integrity is recorded for ${check.name}@${check.version}, so its signature cannot be checked` };
  }
  return { signatures, keys: keySet.keys };
}

function decide(check: SignatureCheck, signatures: readonly unknown[], keys: ReadonlyMap<string, TrustedKey>, verify: VerifyWith): SignatureVerdict {
  let message: Buffer | undefined;
  let seen: Set<string> | undefined;
  let counted: string | undefined;
  let pending: TrustedKey | undefined;
  let expired: TrustedKey | undefined;
  let unknown: string | undefined;
  let published: ReturnType<typeof publishTime> | undefined;

  for (const entry of signatures) {
    if (typeof entry !== 'object' || entry === null) {
      continue;
    }
    const { keyid, sig } = entry as { keyid?: unknown; sig?: unknown };
    if (typeof keyid !== 'string') {
      continue;
    }
    const key = keys.get(keyid);
    if (!key) {
      unknown ??= keyid.slice(0, 128);
      continue;
    }
    if (typeof sig !== 'string' || !isBase64Signature(sig)) {
      return { status: 'bad-signature', keyid, reason: 'malformed-signature' };
    }
    if (signatures.length > 1) {
      seen ??= new Set();
      const id = `${keyid}\n${sig}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    message ??= signedMessage(check.name, check.version, check.integrity as string);
    if (!verify(key, message, sig)) return { status: 'bad-signature', keyid, reason: 'does-not-verify' };
    if (counted !== undefined) continue;
    if (key.expiresAt === null) {
      counted = keyid;
      continue;
    }
    published ??= publishTime(check.publishedAt);
    if (published === null) {
      // Published no later than now; if the key is still valid now, the signature counts.
      if (key.expiresAt > (check.now ?? Date.now())) counted = keyid;
      else pending ??= key;
    } else if (published === 'invalid') {
      return { status: 'unavailable', reason: `the publish time of ${check.name}@${check.version} is not a valid date` };
    } else if (published.ms < key.expiresAt) {
      counted = keyid;
    } else {
      expired ??= key;
    }
  }

  if (counted !== undefined) return { status: 'verified', keyid: counted };
  if (pending) return { status: 'needs-publish-time', keyid: pending.keyid, expires: pending.expires as string };
  if (expired) {
    const at = published && published !== 'invalid' ? published.iso : null;
    return { status: 'key-expired', keyid: expired.keyid, expires: expired.expires as string, published: at };
  }
  if (unknown !== undefined) return { status: 'unknown-key', keyid: unknown };
  // Only malformed entries were served: nothing attributable, nothing valid — fail closed.
  return { status: 'bad-signature', keyid: '', reason: 'malformed-entries' };
}
