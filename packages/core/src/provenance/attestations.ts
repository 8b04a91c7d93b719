/**
 * The registry's attestations document (`/-/npm/v1/attestations/<name>@<version>`): `{attestations: [{predicateType,
 * bundle}]}`. Only the SLSA provenance bundles matter here; npm's publish attestations are signed by the registry key.
 */

import { MAX_ATTESTATIONS_BYTES } from '../limits.js';

/** A larger attestations document is refused (real ones are about 13 KiB); the registry client enforces it on the wire. */
export { MAX_ATTESTATIONS_BYTES };
/** At most this many attestations in one document (npm serves two: provenance and publish). */
export const MAX_ATTESTATIONS = 32;
/** At most this many SLSA provenance bundles for one version (npm serves one). */
export const MAX_PROVENANCE_BUNDLES = 4;

/** The SLSA provenance predicate types npm publishes (v0.2 until npm 9.6, v1 since). */
export const SLSA_PREDICATE_TYPES: readonly string[] = ['https://slsa.dev/provenance/v0.2', 'https://slsa.dev/provenance/v1'];

/** One SLSA provenance bundle and the predicate type the document claims for it (unsigned; checked later). */
export interface ProvenanceBundle {
  predicateType: string;
  /** A plain-data copy of the bundle (own enumerable properties only). */
  bundle: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/**
 * The SLSA provenance bundles of an attestations document, or why the document is unusable. A document with no
 * SLSA provenance gives an empty list (`missing`, not an error).
 */
export function slsaBundlesOf(document: unknown): { bundles: ProvenanceBundle[] } | { error: string } {
  if (!isRecord(document)) return { error: 'the attestations document is not a JSON object' };
  const list = own(document, 'attestations');
  if (!Array.isArray(list)) return { error: 'the attestations document has no attestations list' };
  if (list.length > MAX_ATTESTATIONS) return { error: `the attestations document lists ${list.length} attestations (at most ${MAX_ATTESTATIONS})` };
  const bundles: ProvenanceBundle[] = [];
  for (const entry of list) {
    if (!isRecord(entry)) return { error: 'an attestation is not a JSON object' };
    const predicateType = own(entry, 'predicateType');
    if (typeof predicateType !== 'string') return { error: 'an attestation has no predicateType' };
    if (!SLSA_PREDICATE_TYPES.includes(predicateType)) continue;
    if (bundles.length === MAX_PROVENANCE_BUNDLES) return { error: `more than ${MAX_PROVENANCE_BUNDLES} SLSA provenance attestations` };
    const bundle = own(entry, 'bundle');
    if (!isRecord(bundle)) return { error: `the ${predicateType} attestation has no bundle object` };
    // A JSON round trip keeps own enumerable data only (no getters, prototypes or cycles reach sigstore-js) and bounds its size.
    let copy: string;
    try {
      copy = JSON.stringify(bundle);
    } catch {
      return { error: `the ${predicateType} bundle is not plain JSON data` };
    }
    if (copy.length > MAX_ATTESTATIONS_BYTES) return { error: `the ${predicateType} bundle is larger than ${MAX_ATTESTATIONS_BYTES} bytes` };
    bundles.push({ predicateType, bundle: JSON.parse(copy) as unknown });
  }
  return { bundles };
}
