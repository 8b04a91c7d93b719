/**
 * npm's attestations endpoint as the test registry serves it: `GET /-/npm/v1/attestations/<name>@<version>`
 * answers `{attestations: [{predicateType, bundle}]}` for a version built with provenance, and the
 * version's `dist.attestations` points there.
 */
import type { PackedVersion } from './fixtures.js';
import { isPackageName } from './fixtures.js';
import { isVersion } from './semver.js';
import { SLSA_PROVENANCE_V1, provenanceBundle } from './sigstore.js';

/** Path prefix of the attestations endpoint. */
export const ATTESTATIONS_PREFIX = '/-/npm/v1/attestations/';

/** `/-/npm/v1/attestations/@scope%2fname@1.0.0`: the path npm's registry puts in `dist.attestations.url`. */
export function attestationsPath(name: string, version: string): string {
  return `${ATTESTATIONS_PREFIX}${name.replace('/', '%2f')}@${version}`;
}

/** The `{name, version}` of a decoded attestations path (`/`-scoped or not), or undefined. */
export function parseAttestationsPath(path: string): { name: string; version: string } | undefined {
  if (!path.startsWith(ATTESTATIONS_PREFIX)) return undefined;
  const spec = path.slice(ATTESTATIONS_PREFIX.length);
  const at = spec.lastIndexOf('@');
  if (at <= 0) return undefined;
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  return isPackageName(name) && isVersion(version) ? { name, version } : undefined;
}

/** The `dist.attestations` of a version with provenance. */
export function distAttestations(registryUrl: string, name: string, version: string): { url: string; provenance: { predicateType: string } } {
  return { url: `${registryUrl.replace(/\/$/, '')}${attestationsPath(name, version)}`, provenance: { predicateType: SLSA_PROVENANCE_V1 } };
}

/** The endpoint's body for a version, or undefined when it was built without provenance. */
export function attestationsFor(packed: PackedVersion, signedAt: string): { attestations: Array<{ predicateType: string; bundle: Record<string, unknown> }> } | undefined {
  if (!packed.provenance) return undefined;
  if (!packed.integrity.startsWith('sha512-')) throw new Error(`no sha512 integrity for ${packed.name}@${packed.version}`);
  const sha512 = Buffer.from(packed.integrity.slice('sha512-'.length), 'base64').toString('hex');
  const bundle = provenanceBundle({ name: packed.name, version: packed.version, sha512, signedAt }, packed.provenance);
  return { attestations: [{ predicateType: SLSA_PROVENANCE_V1, bundle }] };
}
