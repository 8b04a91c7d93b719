/** pnpm's structures in the core's terms: lockfile objects and registry manifests as PackageNodes, its cache's release lines as packuments. */
import { join } from 'node:path';
import { packumentVersionFromJson, pnpmKeptReleaseLine, readPnpmLockfile, registryPackageOf, type JudgeInputs, type OpenedCacheFiles, type PackageNode, type PackumentVersion, type RegistryConfig } from '@portcullis/core';

/** A dependency's registry manifest as pnpm hands it to readPackage (or a project's own manifest). */
export interface Manifest {
  name?: unknown;
  version?: unknown;
  dist?: { integrity?: unknown; tarball?: unknown; signatures?: unknown };
  dependencies?: unknown;
  devDependencies?: unknown;
  optionalDependencies?: unknown;
  bundleDependencies?: unknown;
  bundledDependencies?: unknown;
}

/** The dependency fields pnpm resolves for a package from the registry (its devDependencies are never installed). */
const RESOLVED_FIELDS = ['dependencies', 'optionalDependencies'] as const;

/** Whether a lockfile object lists any package (a new project's has none). */
export function hasPackages(lockfile: unknown): lockfile is object {
  if (typeof lockfile !== 'object' || lockfile === null) return false;
  const packages = (lockfile as { packages?: unknown }).packages;
  return typeof packages === 'object' && packages !== null && Object.keys(packages).length > 0;
}

/** The packages of a lockfile object pnpm hands a hook (the wanted lockfile, or the resolved graph). */
export function lockfilePackages(lockfile: object, dir: string, registryConfig: RegistryConfig): PackageNode[] {
  return readPnpmLockfile(lockfile, { path: join(dir, 'pnpm-lock.yaml'), projectDir: dir, registryFor: (name) => registryConfig.registryFor(name) }).packages;
}

/** A dependency manifest from the registry as the package it is (undefined for a project's own manifest: no integrity). */
export function manifestNode(manifest: Manifest, registryConfig: RegistryConfig): PackageNode | undefined {
  const integrity = manifest.dist?.integrity;
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string' || typeof integrity !== 'string') return undefined;
  return {
    id: `${manifest.name}@${manifest.version}`,
    name: manifest.name,
    version: manifest.version,
    integrity,
    source: 'registry',
    registry: registryConfig.registryFor(manifest.name),
    aliases: [],
    paths: [],
    dependents: [],
  };
}

/**
 * The manifest's own registry metadata, when it carries signatures to verify (pnpm 10 and 11 pass
 * `dist.signatures` through; pnpm 12 drops them, and then the packument is fetched).
 */
/**
 * The release lines pnpm keeps in its cache folder `cacheDir` (pnpm 10's layout too), for the provenance no-downgrade
 * check (which earlier versions claim attestations; each then verified on its own): without them every new package's
 * packument was fetched a second time on a cold install. Files read once per install (`opened`).
 */
export function releaseLinesIn(cacheDir: string | undefined, opened: () => OpenedCacheFiles): Pick<JudgeInputs, 'suppliedPackument'> {
  if (cacheDir === undefined) return {};
  const files = opened();
  return { suppliedPackument: (pkg) => pnpmKeptReleaseLine([cacheDir], pkg, files) };
}

/** The fields of a manifest that suppliedMetadata reads (core's packumentVersionFromJson), as they are. */
const SUPPLIED_FIELDS = ['name', 'version', 'dist', 'hasInstallScript', 'gypfile', 'bundleDependencies', 'bundledDependencies', 'scripts'] as const;

/**
 * What suppliedMetadata needs of a manifest carrying signatures, for it to be read in another thread (judge-worker.ts):
 * those own fields as they are (the dependencies too only when the manifest bundles them all), undefined when it would
 * supply nothing. `suppliedMetadata(suppliedFields(m))` is `suppliedMetadata(m)`.
 */
export function suppliedFields(manifest: Manifest): Manifest | undefined {
  const signatures = manifest.dist?.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  const fields: readonly string[] = [...SUPPLIED_FIELDS, ...(manifest.bundleDependencies === true || manifest.bundledDependencies === true ? ['dependencies', 'optionalDependencies'] : [])];
  for (const field of fields) if (Object.hasOwn(manifest, field)) out[field] = (manifest as Record<string, unknown>)[field];
  return out as Manifest;
}

export function suppliedMetadata(manifest: Manifest): PackumentVersion | undefined {
  const signatures = manifest.dist?.signatures;
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string' || !Array.isArray(signatures) || signatures.length === 0) return undefined;
  const parsed = packumentVersionFromJson(manifest, manifest.name, manifest.version);
  return typeof parsed === 'string' ? undefined : parsed;
}

/**
 * The registry packages a manifest depends on (aliases by their real name), which pnpm resolves next: a
 * dependency's `dependencies` and `optionalDependencies`, or the `fields` given (a project's own manifest).
 */
export function registryDependencies(manifest: Manifest, fields: ReadonlyArray<keyof Manifest> = RESOLVED_FIELDS): string[] {
  const names: string[] = [];
  for (const field of fields.map((name) => manifest[name])) {
    if (typeof field !== 'object' || field === null) continue;
    for (const [name, spec] of Object.entries(field)) {
      const target = typeof spec === 'string' ? registryPackageOf(name, spec) : undefined;
      if (target !== undefined) names.push(target);
    }
  }
  return names;
}
