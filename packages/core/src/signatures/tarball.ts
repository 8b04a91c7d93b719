/**
 * Does a downloaded tarball carry the integrity the registry signed? For adapters whose package manager
 * does not record npm's integrity (Yarn stores a hash of its own zip): the signature covers
 * `name@version:integrity`, so bytes with another digest are not what the registry signed.
 */
import { createHash } from 'node:crypto';

const ALGORITHMS = ['sha512', 'sha384', 'sha256', 'sha1'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** The verdict on one tarball: whether it matches, and its digest in the algorithm compared (for messages). */
export interface TarballIntegrity {
  matches: boolean;
  /** `sha512-…` (or the algorithm the expected integrity uses) of the bytes; null when the expectation is unusable. */
  actual: string | null;
}

/** Every digest of a tarball an expected integrity may name (base64, by algorithm): kept instead of the bytes, to compare later. */
export type TarballDigests = Readonly<Record<Algorithm, string>>;

/** The digests of `bytes` in every algorithm an integrity may use (`checkTarballDigests` compares them later). */
export function tarballDigests(bytes: Uint8Array): TarballDigests {
  return Object.fromEntries(ALGORITHMS.map((algorithm) => [algorithm, createHash(algorithm).update(bytes).digest('base64')])) as Record<Algorithm, string>;
}

/**
 * Compares `bytes` with an SRI string. Only the strongest algorithm present counts (as SRI prescribes),
 * so a weak sha1 beside a sha512 can never make a mismatch pass. An expectation with no known algorithm never matches.
 */
export function checkTarballIntegrity(bytes: Uint8Array, expected: string): TarballIntegrity {
  return compare(expected, (algorithm) => createHash(algorithm).update(bytes).digest('base64'));
}

/** `checkTarballIntegrity` for bytes no longer held, from their digests (`tarballDigests`). */
export function checkTarballDigests(digests: TarballDigests, expected: string): TarballIntegrity {
  return compare(expected, (algorithm) => digests[algorithm]);
}

function compare(expected: string, digestOf: (algorithm: Algorithm) => string): TarballIntegrity {
  const hashes = new Map<Algorithm, string[]>();
  for (const token of expected.trim().split(/\s+/)) {
    const dash = token.indexOf('-');
    if (dash <= 0) continue;
    const algorithm = token.slice(0, dash).toLowerCase() as Algorithm;
    if (!ALGORITHMS.includes(algorithm)) continue;
    const digest = token.slice(dash + 1).split('?')[0] ?? '';
    hashes.set(algorithm, [...(hashes.get(algorithm) ?? []), digest]);
  }
  const strongest = ALGORITHMS.find((algorithm) => hashes.has(algorithm));
  if (strongest === undefined) return { matches: false, actual: null };
  const digest = digestOf(strongest);
  return { matches: hashes.get(strongest)!.includes(digest), actual: `${strongest}-${digest}` };
}
