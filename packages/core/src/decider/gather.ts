/**
 * The edge that collects evidence: registry metadata, installed manifests and signature verification,
 * for the pure evaluator to decide on. Any failure becomes "unavailable" — never an allow.
 */
import { PortcullisError } from '../errors.js';
import type { Evidence, ScriptEvidence, SignatureEvidence, UnreadablePackage } from '../evaluation/evidence.js';
import { installTimeScripts, isOwnCode, preparedWhenInstalled } from '../model.js';
import type { PackageNode } from '../model.js';
import type { Policy } from '../policy/types.js';
import { installScriptsOf, type Packument, type PackumentVersion } from '../registry/packument.js';
import type { RegistryClient } from '../registry/client.js';
import { bundledManifestFiles, tarballFilePaths, TarballError } from '../registry/package-tarball.js';
import { checkTarballIntegrity } from '../signatures/tarball.js';
import type { Keyring } from '../signatures/keyring.js';
import { detectSignatureStripping, type SignatureStripping } from '../signatures/mirror.js';
import { verifyRegistrySignatures, verifyRegistrySignaturesOffThread, type SignatureCheck } from '../signatures/verify.js';
import type { InstalledManifest, InstalledManifestReader } from '../layouts/installed.js';
import type { VerifiedVersions, VersionQuery } from '../cache/verified-versions.js';
import { bundlesCopies, factsKnowCommands, factsOf, metadataOf } from './memo-facts.js';

export interface GatherOptions {
  policy: Policy;
  client: RegistryClient;
  keyring: Keyring;
  /** Versions verified before (authenticated): their packuments are not needed again. */
  verified?: VerifiedVersions;
  readInstalled?: InstalledManifestReader;
  /**
   * A version's registry metadata that the package manager already fetched and handed over (pnpm's
   * `readPackage`): used instead of fetching the packument. The adapter supplies it only when it carries
   * `dist.signatures`; its signatures are verified like fetched ones.
   */
  supplied?: (pkg: PackageNode) => PackumentVersion | undefined;
  /**
   * Packages whose full packument will be needed anyway (the cooldown reads publish times from it): their metadata
   * is read from that one document instead of fetching the abbreviated one too.
   */
  wantsFull?: (pkg: PackageNode) => boolean;
  /**
   * Packages whose install scripts' command lines must be known (script drift compares them; approve records them):
   * without installed files, remembered facts or handed-over metadata that lack them are not enough, and the full
   * packument (which lists scripts) is read.
   */
  needsCommands?: (pkg: PackageNode) => boolean;
  /** Registries whose `/-/npm/v1/keys` answered 404: one unsigned package there already means a stripping mirror. */
  withoutKeysEndpoint?: Iterable<string>;
  /** Told how many packages are gathered so far (0 first, then after each one), for a progress line. */
  onProgress?: (done: number, total: number) => void;
  /** Where registry signatures are verified (DecideOptions.signatureVerification); default libuv's thread pool. */
  signatureVerification?: SignatureVerification;
}

/**
 * Where registry signatures are verified: on libuv's thread pool (the calling thread goes on meanwhile, and a decision
 * verifying many packages at once uses every core), or on the calling thread, one at a time.
 */
export type SignatureVerification = 'thread-pool' | 'calling-thread';

export interface Gathered {
  evidence: Evidence;
  /**
   * Copies that bundling registry packages ship in their tarballs and the graph does not list (pnpm's lockfile never
   * lists them; npm's may leave one out): judged by the advisories with the graph (evaluate: a bundled copy, so no
   * signature, provenance or age of its own). None when the policy names no advisories.
   */
  shipped: PackageNode[];
  /** Registries that served no signature for any package: one plain notice instead of N mysteries. */
  stripping: SignatureStripping[];
}

/** The memo's key set for versions decided with signatures off (script facts only). */
const SIGNATURES_OFF = 'signatures-off';

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The command lines of `scripts` as `source` spells them out: all of them (an empty record when there are no scripts),
 * or none when the source does not list them (an abbreviated document) or keeps names only (remembered facts without
 * command lines: an empty line is unknown). Script drift reads a missing record as "unknown", never as "no scripts".
 */
function commandsOf(scripts: readonly string[], source: Readonly<Record<string, string>> | undefined): { commands?: Record<string, string> } {
  if (source === undefined) return {};
  const commands: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of scripts) {
    const line = Object.hasOwn(source, name) ? source[name] : undefined;
    if (typeof line !== 'string' || line === '') return {};
    commands[name] = line;
  }
  return { commands };
}

/** Script evidence from what is installed, else metadata, else the lockfile; the claims are merged, never narrowed. */
export function scriptEvidence(pkg: PackageNode, metadata: PackumentVersion | undefined, installed: InstalledManifest | null): ScriptEvidence | undefined {
  const lifecycle = installTimeScripts(pkg);
  if (installed !== null) {
    const scripts = lifecycle.filter((name) => installed.scripts[name] !== undefined);
    // npm, pnpm and Yarn run `node-gyp rebuild` for a binding.gyp unless an install or preinstall script exists.
    const bindingGyp = installed.bindingGyp && installed.gypfile !== false && installed.scripts.install === undefined && installed.scripts.preinstall === undefined;
    // npm 10 and 11 install a git clone that declares workspaces under its own .npmrc, scripts or not (tenth wave G2).
    const cloneInstalled = pkg.source === 'git' && installed.workspaces === true;
    return {
      hasInstallScript: scripts.length > 0 || cloneInstalled || metadata?.hasInstallScript === true || pkg.hasInstallScript === true,
      scripts,
      ...commandsOf(scripts, installed.scripts),
      bindingGyp,
      source: 'installed',
      ...(installed.bindingGypHash !== undefined ? { bindingGypHash: installed.bindingGypHash } : {}),
    };
  }
  // Metadata that neither lists scripts nor says "none" is no answer: the lockfile's claim, if any, decides.
  const listed = metadata === undefined ? undefined : installScriptsOf(metadata, lifecycle);
  if (metadata !== undefined && listed?.known === true) {
    return {
      hasInstallScript: listed.hasInstallScript || pkg.hasInstallScript === true,
      scripts: listed.scripts,
      ...commandsOf(listed.scripts, metadata.scripts),
      bindingGyp: metadata.gypfile === true,
      source: 'metadata',
    };
  }
  // npm's hasInstallScript does not count `prepare`, which a git dependency (or a folder npm copies) runs when it is packed.
  if (pkg.hasInstallScript !== undefined && (!preparedWhenInstalled(pkg) || pkg.hasInstallScript)) {
    return { hasInstallScript: pkg.hasInstallScript, scripts: [], bindingGyp: false, source: 'lockfile' };
  }
  return undefined;
}

/** The largest tarball of a bundling parent read to see which copies it ships. */
const BUNDLING_TARBALL = { compressed: 64 * 1024 * 1024, uncompressed: 256 * 1024 * 1024 };

/**
 * The nearest copy enclosing install path `path` that is not bundled itself (its bundling parent, whose tarball
 * would ship it), with `path` relative to it; undefined when there is none (npm paths: `a/node_modules/b`).
 */
function bundlingParentOf(path: string, unbundled: ReadonlyMap<string, PackageNode>): { parent: PackageNode; relative: string } | undefined {
  for (let cut = path.lastIndexOf('/node_modules/'); cut > 0; cut = path.lastIndexOf('/node_modules/', cut - 1)) {
    const parent = unbundled.get(path.slice(0, cut));
    if (parent !== undefined) return { parent, relative: path.slice(cut + 1) };
  }
  return undefined;
}

/** A bundling parent's tarball, fetched once per decision for every reader of it. */
type TarballCache = Map<PackageNode, Promise<Uint8Array>>;

/**
 * A bundling parent's tarball: the one `integrity` pins (the lockfile's, or the one its signature verified), fetched
 * from the registry it is installed from. Rejects when it cannot be fetched or is not that one.
 */
function pinnedTarball(parent: PackageNode, integrity: string | undefined, client: RegistryClient, cache: TarballCache): Promise<Uint8Array> {
  let bytes = cache.get(parent);
  if (bytes === undefined) {
    bytes = (async () => {
      if (integrity === undefined) throw new Error('its lockfile entry names no integrity');
      // From the registry the parent is installed from (a lockfile's `resolved` may name another host npm would not use).
      const entry = (await client.getPackument(parent.name, { registry: parent.registry!, version: parent.version })).versions.get(parent.version);
      const url = entry?.dist.tarball ?? parent.resolved;
      if (url === undefined) throw new Error(`${parent.registry} names no tarball of ${parent.version}`);
      const tgz = await client.getTarball(url, BUNDLING_TARBALL.compressed);
      const checked = checkTarballIntegrity(tgz, integrity);
      if (!checked.matches) throw new Error(`its tarball is not the one the lockfile pins (${checked.actual ?? 'an unknown digest'})`);
      return tgz;
    })();
    cache.set(parent, bytes);
  }
  return bytes;
}

/**
 * The package's own tarball (the bytes the lockfile pins) cannot be read safely or says nothing readable about what it
 * bundles: no later run decides it, so its finding's fix is to remove the package or move to another version.
 */
class UnreadableTarball extends Error {}

/**
 * The files a bundling parent's tarball holds (npm's paths inside the package), read from the tarball itself: the one
 * the lockfile pins (its integrity), fetched from the registry it is installed from. Throws when it cannot be read or is not that one.
 */
async function filesShippedBy(parent: PackageNode, client: RegistryClient, cache: TarballCache): Promise<Set<string>> {
  const bytes = await pinnedTarball(parent, parent.integrity, client, cache);
  try {
    return tarballFilePaths(bytes, BUNDLING_TARBALL);
  } catch (error) {
    throw error instanceof TarballError ? new UnreadableTarball(`its tarball cannot be read safely: ${error.message}`) : new Error(reasonOf(error));
  }
}

/** Largest bundled `package.json` read. */
const BUNDLED_MANIFEST_BYTES = 1024 * 1024;

/**
 * The copies a bundling registry package's tarball ships (`node_modules/**\/package.json`), as bundled nodes of the
 * graph, leaving out those the graph already lists as bundled by it under that name and version. Throws when the
 * tarball cannot be fetched, is not the pinned one, cannot be read safely, or ships a copy whose name and version
 * cannot be read (fail closed: the parent is then undecidable).
 */
async function copiesShippedBy(parent: PackageNode, integrity: string | undefined, listed: ReadonlySet<string>, client: RegistryClient, cache: TarballCache): Promise<PackageNode[]> {
  const bytes = await pinnedTarball(parent, integrity, client, cache);
  let files: Map<string, Uint8Array>;
  try {
    files = bundledManifestFiles(bytes, { ...BUNDLING_TARBALL, file: BUNDLED_MANIFEST_BYTES });
  } catch (error) {
    throw error instanceof TarballError ? new UnreadableTarball(`its tarball cannot be read safely: ${error.message}`) : new Error(reasonOf(error));
  }
  const copies = new Map<string, PackageNode>();
  for (const [file, data] of files) {
    const folder = file.slice(0, -'/package.json'.length);
    let manifest: unknown;
    try {
      manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
    } catch {
      throw new UnreadableTarball(`its tarball ships ${folder} with a package.json that is not JSON, so what it bundles is unknown`);
    }
    const m = manifest as { name?: unknown; version?: unknown } | null;
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || typeof m.version !== 'string' || m.name === '' || m.version === '') {
      throw new UnreadableTarball(`its tarball ships ${folder} without a name and version in its package.json, so what it bundles is unknown`);
    }
    const version = m.version;
    // What `require` finds it as is its folder's name: a package.json naming another package is judged under both.
    const cut = folder.toLowerCase().lastIndexOf('node_modules/') + 'node_modules/'.length;
    for (const name of new Set([m.name, folder.slice(cut)])) {
      if (listed.has(`${name}@${version}`)) continue;
      const id = `${name}@${version} (bundled in ${parent.id})`;
      const paths = parent.paths.length > 0 ? parent.paths.map((p) => `${p}/${folder}`) : [folder];
      const known = copies.get(id);
      if (known !== undefined) {
        known.paths.push(...paths);
        continue;
      }
      copies.set(id, { id, name, version, source: 'registry', registry: parent.registry!, aliases: [], paths, dependents: [parent.id], inBundle: true, bundledBy: { name: parent.name, version: parent.version } });
    }
  }
  return [...copies.values()];
}

/**
 * Copies the lockfile marks bundled in a registry package that the package does not ship. Only the parent's tarball
 * says which it ships: npm unpacks it and fetches every bundled copy it lacks from the lockfile entry or the registry,
 * so a copy is taken as shipped only when the tarball the lockfile pins for its parent holds its `package.json` at that
 * path (neither the registry's unsigned `bundleDependencies` nor the lockfile's own dependency edges can say so). A
 * parent whose tarball cannot be read leaves its copies unknown.
 */
async function bundlesNotShipped(packages: readonly PackageNode[], client: RegistryClient, unavailable: Map<string, string>, unreadable: Map<string, UnreadablePackage>, cache: TarballCache): Promise<Set<string>> {
  const notShipped = new Set<string>();
  const bundled = packages.filter((pkg) => pkg.inBundle === true && pkg.source === 'registry' && pkg.bundledBy !== undefined && pkg.registry !== undefined);
  if (bundled.length === 0) return notShipped;
  const unbundled = new Map<string, PackageNode>();
  for (const pkg of packages) if (pkg.inBundle !== true) for (const path of pkg.paths) unbundled.set(path, pkg);
  const byParent = new Map<PackageNode, Array<{ copy: PackageNode; relative: string }>>();
  for (const copy of bundled) {
    for (const path of copy.paths) {
      const found = bundlingParentOf(path, unbundled);
      if (found === undefined || found.parent.source !== 'registry' || found.parent.registry === undefined) {
        unavailable.set(copy.id, `cannot tell whether ${copy.bundledBy!.name}@${copy.bundledBy!.version} ships it: that package is not judged with it`);
        continue;
      }
      byParent.set(found.parent, [...(byParent.get(found.parent) ?? []), { copy, relative: found.relative }]);
    }
  }
  await Promise.all(
    [...byParent].map(async ([parent, copies]) => {
      let files: Set<string>;
      try {
        files = await filesShippedBy(parent, client, cache);
      } catch (error) {
        for (const { copy } of copies) {
          unavailable.set(copy.id, `cannot tell whether ${parent.name}@${parent.version} ships it: ${reasonOf(error)}`);
          if (error instanceof UnreadableTarball) unreadable.set(copy.id, { name: parent.name, version: parent.version });
        }
        return;
      }
      for (const { copy, relative } of copies) if (!files.has(`${relative}/package.json`)) notShipped.add(copy.id);
    }),
  );
  return notShipped;
}

/** Collects script and signature evidence for every package, fetching each packument once. */
export async function gatherEvidence(packages: readonly PackageNode[], options: GatherOptions): Promise<Gathered> {
  const scripts = new Map<string, ScriptEvidence>();
  const signatures = new Map<string, SignatureEvidence>();
  const unavailable = new Map<string, string>();
  const unreadable = new Map<string, UnreadablePackage>();
  const integrities = new Map<string, string>();
  const outcomes: Array<{ registry: string; evidence: SignatureEvidence; package: string }> = [];
  const wantSignatures = options.policy.signatures.require !== 'off';
  const tarballs: TarballCache = new Map();
  const notBundled = await bundlesNotShipped(packages, options.client, unavailable, unreadable, tarballs);
  // Registry packages whose metadata names bundled dependencies: their tarballs are read for the copies they ship.
  const bundling: PackageNode[] = [];
  const readsBundles = options.policy.advisories.osv.length > 0;
  let done = 0;
  const progress = options.onProgress;
  progress?.(0, packages.length);

  await Promise.all(
    // Without a progress callback, no promise more per package (thousands on a cold install).
    packages.map((pkg) => (progress === undefined ? gatherOne(pkg) : gatherOne(pkg).finally(() => progress(++done, packages.length)))),
  );

  async function gatherOne(pkg: PackageNode): Promise<void> {
    if (isOwnCode(pkg) || unavailable.has(pkg.id)) return;
    const installed = options.readInstalled?.(pkg) ?? null;
    if (pkg.source !== 'registry' || (pkg.inBundle === true && !notBundled.has(pkg.id))) {
      // Bundled copies ship inside their parent's tarball: there is no separate metadata to fetch.
      const found = scriptEvidence(pkg, undefined, installed);
      // Not installed and not recorded: we cannot know what a git or tarball package runs, so assume it does.
      scripts.set(pkg.id, found ?? { hasInstallScript: true, scripts: [], bindingGyp: false, source: 'lockfile' });
      return;
    }
    const registry = pkg.registry;
    if (registry === undefined) {
      unavailable.set(pkg.id, 'the lockfile does not say which registry it came from');
      return;
    }
    const keySet = wantSignatures ? options.keyring.forRegistry(registry) : undefined;
    // With signatures off, a version's script facts are remembered under a key set of their own: never read as a verified signature.
    const memoKeySet = wantSignatures ? keySet?.id : SIGNATURES_OFF;
    const query: VersionQuery | undefined =
      memoKeySet !== undefined && options.verified?.enabled ? { keySetId: memoKeySet, registry: keySet?.registry ?? registry, name: pkg.name, version: pkg.version, integrity: pkg.integrity } : undefined;
    const commandsWanted = installed === null && options.needsCommands?.(pkg) === true;
    const remembered = query !== undefined ? options.verified!.get(query) : undefined;
    // Facts remembered from an abbreviated document name scripts but not their command lines: drift reads the full one.
    if (remembered !== undefined && !(commandsWanted && !factsKnowCommands(remembered))) {
      const found = scriptEvidence(pkg, metadataOf(pkg.name, pkg.version, remembered), installed);
      if (found !== undefined) scripts.set(pkg.id, found);
      integrities.set(pkg.id, remembered.integrity);
      if (remembered.bundles === true && readsBundles) bundling.push(pkg);
      if (!wantSignatures) return;
      const evidence: SignatureEvidence = { status: 'verified', keyid: remembered.keyid };
      signatures.set(pkg.id, evidence);
      outcomes.push({ registry, evidence, package: `${pkg.name}@${pkg.version}` });
      return;
    }
    let metadata = options.supplied?.(pkg);
    // Handed-over metadata from an abbreviated document says only "some scripts": read the full one.
    if (metadata !== undefined && commandsWanted && metadata.scripts === undefined) metadata = undefined;
    if (metadata === undefined) {
      let packument: Packument;
      try {
        packument = await options.client.getPackument(pkg.name, { registry, version: pkg.version, ...(commandsWanted || options.wantsFull?.(pkg) ? { full: true } : {}) });
      } catch (error) {
        unavailable.set(pkg.id, reasonOf(error));
        return;
      }
      const invalid = packument.invalidVersions.get(pkg.version);
      metadata = packument.versions.get(pkg.version);
      if (invalid !== undefined || metadata === undefined) {
        unavailable.set(pkg.id, invalid !== undefined ? `the registry's metadata for ${pkg.version} is malformed: ${invalid}` : `${registry} has no version ${pkg.version} of ${pkg.name}`);
        return;
      }
    }
    const found = scriptEvidence(pkg, metadata, installed);
    if (found !== undefined) scripts.set(pkg.id, found);
    const integrity = pkg.integrity ?? metadata.dist.integrity;
    if (integrity !== undefined) integrities.set(pkg.id, integrity);
    if (bundlesCopies(metadata) && readsBundles) bundling.push(pkg);
    if (!wantSignatures) {
      const facts = query !== undefined && integrity !== undefined ? factsOf(metadata, integrity, '') : undefined;
      if (facts !== undefined) options.verified!.set(query!, facts);
      return;
    }

    const evidence = await verifyVersion(pkg, metadata, registry, options);
    signatures.set(pkg.id, evidence);
    const facts = query !== undefined && evidence.status === 'verified' && integrity !== undefined ? factsOf(metadata, integrity, evidence.keyid) : undefined;
    if (facts !== undefined) options.verified!.set(query!, facts);
    outcomes.push({ registry, evidence, package: `${pkg.name}@${pkg.version}` });
  }

  /**
   * The copies bundling registry packages ship that the graph does not list, read from each one's tarball (the
   * lockfile's integrity, else the one its signature verified). pnpm's lockfile lists none, yet pnpm installs them;
   * npm's lists those npm wrote. Judged by the advisories; no client runs their scripts as such (pnpm runs none of a
   * bundled copy's, and npm's are in its lockfile), so they have none here. A tarball that cannot be read leaves its
   * parent undecidable.
   */
  async function bundledCopies(parents: readonly PackageNode[]): Promise<PackageNode[]> {
    if (parents.length === 0) return [];
    const listedBy = new Map<string, Set<string>>();
    for (const pkg of packages) {
      if (pkg.inBundle !== true || pkg.bundledBy === undefined) continue;
      const key = `${pkg.bundledBy.name}@${pkg.bundledBy.version}`;
      listedBy.set(key, (listedBy.get(key) ?? new Set()).add(`${pkg.name}@${pkg.version}`));
    }
    const found = await Promise.all(
      parents.map(async (parent) => {
        if (unavailable.has(parent.id) || parent.registry === undefined) return [];
        try {
          return await copiesShippedBy(parent, parent.integrity ?? integrities.get(parent.id), listedBy.get(`${parent.name}@${parent.version}`) ?? new Set(), options.client, tarballs);
        } catch (error) {
          unavailable.set(parent.id, `cannot read which copies its tarball bundles: ${reasonOf(error)}`);
          if (error instanceof UnreadableTarball) unreadable.set(parent.id, { name: parent.name, version: parent.version });
          return [];
        }
      }),
    );
    const copies = found.flat();
    for (const copy of copies) scripts.set(copy.id, { hasInstallScript: false, scripts: [], bindingGyp: false, source: 'metadata' });
    return copies;
  }

  const shipped = await bundledCopies(bundling);
  return { shipped, evidence: { scripts, signatures, unavailable, unreadable, integrities, notBundled }, stripping: detectSignatureStripping(outcomes, options.withoutKeysEndpoint ? { withoutKeysEndpoint: options.withoutKeysEndpoint } : {}) };
}

async function verifyVersion(pkg: PackageNode, metadata: PackumentVersion, registry: string, options: GatherOptions): Promise<SignatureEvidence> {
  const check = {
    name: pkg.name,
    version: pkg.version,
    // The lockfile's integrity is what gets installed; Yarn's lockfile has none, so the registry's claim is verified.
    integrity: pkg.integrity ?? metadata.dist.integrity,
    signatures: metadata.dist.signatures,
    registry,
    keyring: options.keyring,
  };
  const verify = (c: SignatureCheck) => (options.signatureVerification === 'calling-thread' ? Promise.resolve(verifyRegistrySignatures(c)) : verifyRegistrySignaturesOffThread(c));
  const verdict = await verify(check);
  if (verdict.status !== 'needs-publish-time') return verdict;
  // Only an expired key is involved: its signature counts if the version was published before the expiry.
  try {
    const full = await options.client.getPackument(pkg.name, { registry, version: pkg.version, full: true });
    const publishedAt = full.time.get(pkg.version) ?? null;
    const second = await verify({ ...check, publishedAt });
    if (second.status === 'needs-publish-time') {
      return { status: 'key-expired', keyid: second.keyid, expires: second.expires, published: null };
    }
    return second;
  } catch (error) {
    if (error instanceof PortcullisError || error instanceof Error) return { status: 'unavailable', reason: reasonOf(error) };
    throw error;
  }
}
