/**
 * The organisation policy a repository's portcullis.json `extends`: fetched from the project's registry by exact
 * version, its tarball's integrity compared with the pinned one, judged like any package (registry signature, and
 * provenance when the organisation pins a publisher for it), read as hostile input (only `package/portcullis.json`
 * and `package/package.json`), kept content-addressed by integrity for offline and frozen installs, and merged
 * with the repository's policy (policy/inherit.ts). Loaded once per gate, so every surface gets it.
 */
import { dirname } from 'node:path';
import type { Env } from '../env.js';
import { PortcullisError } from '../errors.js';
import { INSTALL_SCRIPTS, type PackageNode } from '../model.js';
import { defaultCacheDir } from '../cache/metadata.js';
import { readPolicyPackage, writePolicyPackage } from '../cache/policy-packages.js';
import { inheritPolicy } from '../policy/inherit.js';
import { MAX_POLICY_BYTES, parsePolicy } from '../policy/load.js';
import type { Policy, PolicyExtends } from '../policy/types.js';
import { createRegistryClient, type RegistryFetch } from '../registry/client.js';
import type { RegistryConfig } from '../registry/config.js';
import { readTarballFiles, TarballError } from '../registry/package-tarball.js';
import { checkTarballIntegrity } from '../signatures/tarball.js';
import { createDecider } from './decider.js';

/** A policy package is one small JSON file and a manifest: anything near these sizes is not one. */
const LIMITS = { compressed: 1024 * 1024, uncompressed: 8 * 1024 * 1024, file: MAX_POLICY_BYTES };
const POLICY_PATH = 'package/portcullis.json';
const MANIFEST_PATH = 'package/package.json';
const DEPENDENCY_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies'] as const;

/** What fetching and judging the organisation policy package may use: the project's own registry settings. */
export interface OrganisationOptions {
  registryConfig: RegistryConfig;
  env?: Env;
  offline?: boolean;
  cacheDir?: string;
  fetch?: RegistryFetch;
  stateDir?: string;
}

/** How the organisation policy file is named in messages and `explain`: `@acme/portcullis-policy@1.2.3/portcullis.json`. */
export function organisationPolicyLabel(pin: PolicyExtends): string {
  return `${pin.package}@${pin.version}/portcullis.json`;
}

/**
 * The effective policy of a repository policy: itself when it extends nothing, else the organisation policy it
 * pins merged with it. Throws PortcullisError: ORGANISATION_POLICY_REFUSED or POLICY_LOOSENED (exit 2), POLICY_INVALID
 * for the organisation's file, METADATA_UNAVAILABLE (exit 3) when the package cannot be fetched and is not cached.
 */
export async function resolveInheritance(repository: Policy, options: OrganisationOptions): Promise<Policy> {
  const pin = repository.extends;
  if (pin === null) return repository;
  const cacheDir = options.cacheDir ?? defaultCacheDir(options.env ?? process.env);
  const cached = readPolicyPackage(cacheDir, pin.integrity);
  if (cached !== undefined) return inherit(repository, pin, cached);
  const refuse = refusal(repository, pin);
  const tarball = await download(pin, options, refuse);
  const merged = inherit(repository, pin, tarball);
  // Judged like any package, by the policy it makes: signature, provenance if a publisher is pinned, cooldown, advisories.
  await judgeOrganisationPackage(pin, merged, options, cacheDir, refuse);
  writePolicyPackage(cacheDir, pin.integrity, tarball);
  return merged;
}

/**
 * The same, from the cache alone (no network): for a package-manager hook that must answer synchronously. Throws
 * METADATA_UNAVAILABLE when the organisation policy has not been fetched (and verified) by an earlier run.
 */
export function resolveInheritanceFromCache(repository: Policy, options: Pick<OrganisationOptions, 'env' | 'cacheDir'>): Policy {
  const pin = repository.extends;
  if (pin === null) return repository;
  const cached = readPolicyPackage(options.cacheDir ?? defaultCacheDir(options.env ?? process.env), pin.integrity);
  if (cached === undefined) throw new PortcullisError('METADATA_UNAVAILABLE', `the organisation policy ${pin.package}@${pin.version} has not been fetched yet: run an install first`);
  return inherit(repository, pin, cached);
}

function refusal(repository: Policy, pin: PolicyExtends): (why: string, fix: string) => never {
  const repoFile = repository.file ?? 'portcullis.json';
  return (why, fix) => {
    throw new PortcullisError('ORGANISATION_POLICY_REFUSED', `the organisation policy ${pin.package}@${pin.version} that ${repoFile} extends ${why}. ${fix}`, { file: repoFile, ...(pin.location ? { location: pin.location } : {}) });
  };
}

/** Reads the organisation policy out of its (integrity-checked) tarball and merges the repository's into it. */
function inherit(repository: Policy, pin: PolicyExtends, tarball: Uint8Array): Policy {
  const refuse = refusal(repository, pin);
  const files = readFiles(tarball, refuse);
  checkManifest(files.manifest, pin, refuse);
  // Relative paths in the organisation policy (advisories.osv) name files of the repository that extends it.
  const organisation = parsePolicy(files.policy, organisationPolicyLabel(pin), { role: 'organisation', baseDir: repository.file !== null ? dirname(repository.file) : process.cwd() });
  return inheritPolicy(organisation, repository);
}

async function download(pin: PolicyExtends, options: OrganisationOptions, refuse: (why: string, fix: string) => never): Promise<Uint8Array> {
  if (options.offline === true) {
    throw new PortcullisError('METADATA_UNAVAILABLE', `the organisation policy ${pin.package}@${pin.version} is not in the cache and this install is offline: run one install online first`);
  }
  const client = createRegistryClient({ config: options.registryConfig, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const packument = await client.getPackument(pin.package);
  const version = packument.versions.get(pin.version);
  if (version === undefined) {
    const invalid = packument.invalidVersions.get(pin.version);
    if (invalid !== undefined) refuse(`has a malformed registry entry (${invalid})`, 'Ask the organisation to publish a new version and pin that.');
    return refuse(`is not published on ${options.registryConfig.registryFor(pin.package)}`, `Check "extends" in the repository policy (the organisation's registry must be the one this project installs from).`);
  }
  if (version.dist.tarball === undefined) return refuse('has no tarball URL in its registry entry', 'Ask the organisation to republish it.');
  const bytes = await client.getTarball(version.dist.tarball, LIMITS.compressed);
  const integrity = checkTarballIntegrity(bytes, pin.integrity);
  if (!integrity.matches) {
    refuse(
      `is not the pinned package: its tarball's integrity is ${integrity.actual ?? 'unknown'}, the pin in "extends.integrity" is ${pin.integrity}`,
      'If the organisation published a new policy, pin its version and integrity; otherwise the registry serves other bytes than were pinned: do not install.',
    );
  }
  return bytes;
}

function readFiles(tarball: Uint8Array, refuse: (why: string, fix: string) => never): { policy: string; manifest: string } {
  let found: Map<string, Uint8Array>;
  try {
    found = readTarballFiles(tarball, [POLICY_PATH, MANIFEST_PATH], LIMITS);
  } catch (error) {
    if (error instanceof TarballError) return refuse(`cannot be read safely: ${error.message}`, 'Ask the organisation to republish it with `npm publish`.');
    throw error;
  }
  const policy = found.get(POLICY_PATH);
  const manifest = found.get(MANIFEST_PATH);
  if (policy === undefined) return refuse(`has no ${POLICY_PATH}`, 'Pin a package that ships portcullis.json at its root.');
  if (manifest === undefined) return refuse(`has no ${MANIFEST_PATH}`, 'Pin a package published with npm.');
  const decode = (bytes: Uint8Array, path: string) => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return refuse(`has a ${path} that is not UTF-8`, 'Ask the organisation to republish it.');
    }
  };
  return { policy: decode(policy, POLICY_PATH), manifest: decode(manifest, MANIFEST_PATH) };
}

/** A policy package carries no dependencies and no install-time code (the tarball's own manifest decides). */
function checkManifest(text: string, pin: PolicyExtends, refuse: (why: string, fix: string) => never): void {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return refuse(`has a ${MANIFEST_PATH} that is not JSON`, 'Ask the organisation to republish it.');
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return refuse(`has a ${MANIFEST_PATH} that is not an object`, 'Ask the organisation to republish it.');
  const m = manifest as Record<string, unknown>;
  if (m.name !== pin.package || m.version !== pin.version) refuse(`ships a manifest for ${String(m.name).slice(0, 100)}@${String(m.version).slice(0, 50)}`, 'Pin the package by its own name and version.');
  for (const field of DEPENDENCY_FIELDS) {
    const value = m[field];
    const empty = value === undefined || value === false || (Array.isArray(value) ? value.length === 0 : typeof value === 'object' && value !== null && Object.keys(value).length === 0);
    if (!empty) refuse(`has ${field}`, 'An organisation policy package must have no dependencies: ask the organisation to remove them.');
  }
  const scripts = m.scripts;
  if (scripts !== undefined && (typeof scripts !== 'object' || scripts === null)) refuse('has malformed scripts', 'Ask the organisation to republish it.');
  const hooks = Object.keys((scripts ?? {}) as object).filter((name) => (INSTALL_SCRIPTS as readonly string[]).includes(name) || name === 'prepare');
  if (hooks.length > 0) refuse(`has install scripts (${hooks.join(', ')})`, 'An organisation policy package must run nothing: ask the organisation to remove them.');
  if (m.gypfile === true) refuse('has a binding.gyp', 'An organisation policy package must run nothing: ask the organisation to remove it.');
}

async function judgeOrganisationPackage(pin: PolicyExtends, policy: Policy, options: OrganisationOptions, cacheDir: string, refuse: (why: string, fix: string) => never): Promise<void> {
  const registry = options.registryConfig.registryFor(pin.package);
  // No install scripts: checked on the tarball's own manifest (checkManifest), which beats any metadata claim.
  const node: PackageNode = { id: `${pin.package}@${pin.version}`, name: pin.package, version: pin.version, integrity: pin.integrity, source: 'registry', registry, aliases: [], paths: [], dependents: [], hasInstallScript: false };
  const decider = createDecider({
    policy,
    registryConfig: options.registryConfig,
    cacheDir,
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  });
  const decision = await decider.decide([node]);
  await decider.settle();
  const findings = decision.findings.filter((f) => f.id === node.id);
  if (findings.length === 0) return;
  const text = findings.map((f) => `${f.code}: ${f.message}`).join('; ');
  if (findings.some((f) => f.code === 'METADATA_UNAVAILABLE')) throw new PortcullisError('METADATA_UNAVAILABLE', `could not verify the organisation policy ${pin.package}@${pin.version}: ${text}`);
  refuse(`is refused by the policy it makes (${text})`, findings[0]!.fix);
}
