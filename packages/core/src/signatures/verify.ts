import { createHash, verify as cryptoVerify } from 'node:crypto';
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
  /** Results already computed; consulted and filled when given. */
  memo?: SignatureMemo;
}

// A DER ECDSA P-256 signature is at most 72 bytes (96 base64 characters); leave room, bound hostile input.
const MAX_SIG_LENGTH = 256;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isBase64Signature(sig: string): boolean {
  return sig.length <= MAX_SIG_LENGTH && sig.length % 4 === 0 && BASE64.test(sig);
}

function publishTime(value: SignatureCheck['publishedAt']): { ms: number; iso: string } | null | 'invalid' {
  if (value === undefined || value === null) return null;
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) return 'invalid';
  return { ms, iso: new Date(ms).toISOString() };
}

function verifyWith(key: TrustedKey, message: Buffer, sig: string): boolean {
  try {
    return cryptoVerify('sha256', message, key.publicKey, Buffer.from(sig, 'base64'));
  } catch {
    return false; // malformed DER throws on some OpenSSL versions
  }
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
  const { signatures } = check;
  if (!Array.isArray(signatures) || signatures.length === 0) return { status: 'unsigned' };
  const keySet = check.keyring.forRegistry(check.registry);
  if (keySet.keys.size === 0) return { status: 'untrusted-registry', registry: keySet.registry };
  if (typeof check.integrity !== 'string' || check.integrity.length === 0) {
    return { status: 'unavailable', reason: `no integrity is recorded for ${check.name}@${check.version}, so its signature cannot be checked` };
  }
  const memo = check.memo;
  const memoKey = memo ? SignatureMemo.keyOf(check, keySet.id) : null;
  if (memoKey !== null) {
    const hit = memo!.get(memoKey);
    if (hit) return hit;
  }
  const verdict = decide(check, signatures, keySet.keys);
  if (memoKey !== null && verdict.status !== 'unavailable') memo!.set(memoKey, verdict);
  return verdict;
}

function decide(check: SignatureCheck, signatures: readonly unknown[], keys: ReadonlyMap<string, TrustedKey>): SignatureVerdict {
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
    message ??= Buffer.from(`${check.name}@${check.version}:${check.integrity}`);
    if (!verifyWith(key, message, sig)) return { status: 'bad-signature', keyid, reason: 'does-not-verify' };
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

// ---------------------------------------------------------------------------------------------
// Memo
// ---------------------------------------------------------------------------------------------

const MEMO_FORMAT = 1;
// Memo keys hash the served signatures; skip memoizing absurd inputs rather than hash megabytes.
const MAX_MEMO_INPUT = 16 * 1024;

const BAD_REASONS = new Set(['does-not-verify', 'malformed-signature', 'malformed-entries']);
const str = (v: unknown): v is string => typeof v === 'string';

/** Rebuilds a verdict read from disk field by field, or null when it is not one. */
function readVerdict(value: unknown): SignatureVerdict | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  switch (v.status) {
    case 'unsigned':
      return { status: 'unsigned' };
    case 'untrusted-registry':
      return str(v.registry) ? { status: 'untrusted-registry', registry: v.registry } : null;
    case 'verified':
    case 'unknown-key':
      return str(v.keyid) ? { status: v.status, keyid: v.keyid } : null;
    case 'bad-signature':
      return str(v.keyid) && str(v.reason) && BAD_REASONS.has(v.reason)
        ? { status: 'bad-signature', keyid: v.keyid, reason: v.reason as BadSignature['reason'] }
        : null;
    case 'needs-publish-time':
      return str(v.keyid) && str(v.expires) ? { status: 'needs-publish-time', keyid: v.keyid, expires: v.expires } : null;
    case 'key-expired':
      return str(v.keyid) && str(v.expires) && (v.published === null || str(v.published))
        ? { status: 'key-expired', keyid: v.keyid, expires: v.expires, published: v.published as string | null }
        : null;
    default:
      return null;
  }
}

/** The persisted form of a `SignatureMemo`. */
export interface SignatureMemoJSON {
  format: typeof MEMO_FORMAT;
  entries: Array<[string, SignatureVerdict]>;
}

/**
 * Verification results keyed by everything they depend on: `name@version:integrity`, the served
 * signatures, the publish time and the registry's key set. Owned by the caller, who may persist it
 * (`toJSON`/`fromJSON`) beside the metadata cache so that re-checks of an unchanged lockfile are free.
 */
export class SignatureMemo {
  readonly #entries = new Map<string, SignatureVerdict>();
  readonly maxEntries: number;

  constructor(maxEntries = 100_000) {
    this.maxEntries = maxEntries;
  }

  /** The memo key of a check against a key set, or null when the input is not worth memoizing. */
  static keyOf(check: SignatureCheck, keySetId: string): string | null {
    let served: string;
    try {
      served = JSON.stringify(check.signatures);
    } catch {
      return null;
    }
    if (served === undefined || served.length > MAX_MEMO_INPUT) return null;
    const published = publishTime(check.publishedAt);
    const when = published === null ? '' : published === 'invalid' ? 'invalid' : String(published.ms);
    return createHash('sha256')
      .update(`${MEMO_FORMAT}\0${keySetId}\0${check.name}@${check.version}:${check.integrity ?? ''}\0${when}\0${served}`)
      .digest('base64');
  }

  /** A stored verdict, if any. */
  get(key: string): SignatureVerdict | undefined {
    return this.#entries.get(key);
  }

  /** Stores a verdict, evicting the oldest entries beyond `maxEntries`. */
  set(key: string, verdict: SignatureVerdict): void {
    this.#entries.delete(key);
    this.#entries.set(key, verdict);
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Number of stored verdicts. */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  /** A JSON-serializable copy, for the on-disk cache. */
  toJSON(): SignatureMemoJSON {
    return { format: MEMO_FORMAT, entries: [...this.#entries] };
  }

  /** Restores a memo from `toJSON` output; anything malformed (hostile disk) is dropped, never trusted. */
  static fromJSON(value: unknown, maxEntries?: number): SignatureMemo {
    const memo = new SignatureMemo(maxEntries);
    if (typeof value !== 'object' || value === null) return memo;
    const { format, entries } = value as Record<string, unknown>;
    if (format !== MEMO_FORMAT || !Array.isArray(entries)) return memo;
    // Only the newest entries could be kept (oldest first on disk); evicting the rest one by one is quadratic.
    for (const entry of entries.length > memo.maxEntries ? entries.slice(-memo.maxEntries) : entries) {
      if (!Array.isArray(entry) || entry.length !== 2) continue;
      const [key, stored] = entry as [unknown, unknown];
      const verdict = readVerdict(stored);
      if (typeof key === 'string' && key.length === 44 && verdict) memo.set(key, verdict);
    }
    return memo;
  }
}
