import { normalizeRegistryUrl } from '../registry-url.js';

/** One registry that served no signatures at all: reported once instead of N times. */
export interface SignatureStripping {
  /** Normalized registry URL. */
  registry: string;
  /** How many of its packages came back unsigned (all of them). */
  count: number;
  /** `name@version` of those packages, when the caller supplied them. */
  packages: string[];
}

/** One verification outcome as `detectSignatureStripping` needs it. */
export interface RegistryOutcome {
  registry: string;
  evidence: { status: string };
  /** `name@version`, for the fix line. */
  package?: string;
}

/** Options of `detectSignatureStripping`. */
export interface StrippingOptions {
  /**
   * Registries whose `/-/npm/v1/keys` answered 404 (see `refreshKeys` → `missing`). For those a
   * single unsigned package is already telling: such a registry does not sign at all.
   */
  withoutKeysEndpoint?: Iterable<string>;
}

function normalized(url: string): string {
  try {
    return normalizeRegistryUrl(url);
  } catch {
    return url;
  }
}

/**
 * Finds registries where every package came back `unsigned` — two or more packages, or one when the
 * registry also has no keys endpoint. One unsigned package among signed ones is not a mirror, it is
 * that package's problem. `unavailable` outcomes say nothing about signatures and are left out.
 */
export function detectSignatureStripping(results: Iterable<RegistryOutcome>, options: StrippingOptions = {}): SignatureStripping[] {
  const noKeys = new Set([...(options.withoutKeysEndpoint ?? [])].map(normalized));
  const byRegistry = new Map<string, { unsigned: number; other: number; packages: string[] }>();
  for (const { registry, evidence, package: pkg } of results) {
    if (evidence.status === 'unavailable') continue;
    const url = normalized(registry);
    let tally = byRegistry.get(url);
    if (!tally) byRegistry.set(url, (tally = { unsigned: 0, other: 0, packages: [] }));
    if (evidence.status === 'unsigned') {
      tally.unsigned += 1;
      if (pkg !== undefined) tally.packages.push(pkg);
    } else {
      tally.other += 1;
    }
  }
  const found: SignatureStripping[] = [];
  for (const [registry, tally] of byRegistry) {
    if (tally.other > 0) continue;
    if (tally.unsigned >= 2 || (tally.unsigned === 1 && noKeys.has(registry))) {
      found.push({ registry, count: tally.unsigned, packages: [...new Set(tally.packages)].sort() });
    }
  }
  return found.sort((a, b) => (a.registry < b.registry ? -1 : a.registry > b.registry ? 1 : 0));
}

// Up to this many packages, the fix lists them in allowUnsigned; beyond, it is not a realistic list.
const MAX_LISTED = 5;

/**
 * The one plain message for a signature-stripping registry, and the exact policy line that fixes it:
 * listing the few packages in `signatures.allowUnsigned`, or `signatures.require: "off"` when there
 * are many. Keys cannot help here — there is nothing to verify them against.
 */
export function describeSignatureStripping(stripping: SignatureStripping): { message: string; fix: string } {
  const { registry, count, packages } = stripping;
  const noun = count === 1 ? 'package' : 'packages';
  const message =
    `${registry} served no signatures for any of the ${count} ${noun} — it looks like a mirror that strips them, ` +
    `so nothing from it can be verified. Pointing portcullis at the upstream's keys ("keys": "npm") only helps ` +
    `with a mirror that passes signatures through; install from the upstream registry or such a mirror, ` +
    `or accept these packages unsigned in portcullis.json.`;
  const fix =
    packages.length > 0 && packages.length === count && count <= MAX_LISTED
      ? `"signatures": { "allowUnsigned": [${packages.map((p) => JSON.stringify(p)).join(', ')}] }`
      : `"signatures": { "require": "off" }`;
  return { message, fix };
}
