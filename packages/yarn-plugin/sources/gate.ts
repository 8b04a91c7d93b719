/**
 * The install gate. Yarn has no hook between resolution and fetch, and none for build decisions, so two
 * Project methods are wrapped (pinned by the e2e tests on every Yarn version we claim):
 * - `resolveEverything`: once Yarn knows every locator and before it fetches anything, judge all of them through
 *   the project's gate; signature violations abort the install, blocked builds are announced (or abort when strict);
 * - `getDependencyMeta`: the linker asks it whether a package may build (named scripts and the implicit
 *   node-gyp rebuild alike); the verdict answers, whatever `enableScripts` or `dependenciesMeta` say.
 * The tarball check (`wrapNetworkRequest`) uses the integrities the verdict says were signed.
 *
 * The judgement is of the lockfile Yarn resolved (`generateLockfile`, exactly what Yarn writes): when the same text
 * was let through by the same gate, the verdict is replayed (core's remembered verdicts) and nothing is translated
 * or judged; the replayed verdict carries the build answers and the signed integrities, so both checks still hold.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf, INSTALL_SCRIPTS, isOwnCode, openCachedGate, openGate, PortcullisError, readYarnLocator, registryPackageOf, strictScripts, unpackedCopies, YARN_UNPLUGGED_ENTRY, type Gate, type LockfileVerdict, type RegistryConfig, type SignedPackage, type UnpackedCopies } from '@portcullis/core';
import { structUtils, type Configuration, type Descriptor, type FetchOptions, type Ident, type Locator, type Project, type Report } from '@yarnpkg/core';
import { npath, type PortablePath } from '@yarnpkg/fslib';
import { ENGINE } from './engine.js';
import { projectDir, resolvedPackages } from './packages.js';
import { sharedPackumentUrl, yarnFetch, yarnRegistryConfig } from './registry.js';
import { resolutionPackuments } from './resolution-packuments.js';
import { guardResolutionFetcher, locatorTarballUrls, referenceWithoutCredentials, resolutionDownloads, unverifiedDownloads } from './resolution-fetches.js';
import { scriptsRunWhenFetched, WORKSPACE_LOCKFILE_VERSION } from './quirks.js';
import { downloadRefusal, policyRefusal, reportVerdict } from './refuse.js';
import { registryTarballUrls, type SignedTarballs } from './tarballs.js';
import type { TarballDigests } from '@portcullis/core';
import { mark } from './timing.js';

/** What `project.getDependencyMeta` returns (Manifest's DependencyMeta). */
type DependencyMeta = ReturnType<Project['getDependencyMeta']>;

/** One project's install in this process: Yarn's registry settings (read once), its gate, and the last verdict. */
interface YarnInstall {
  registryConfig: RegistryConfig;
  gate: Gate;
  verdict?: LockfileVerdict;
}

/**
 * Yarn may call a plugin's factory more than once per process (each call is a fresh copy of this module), while
 * Project's prototype is wrapped only once: state lives on one process-wide object so every copy shares it.
 */
const shared = ((globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.yarn-plugin.state.v4')] ??= {
  installs: new WeakMap<Project, YarnInstall>(),
  opening: new WeakMap<Project, Promise<YarnInstall>>(),
  cached: new WeakMap<Project, Gate>(),
  registryConfigs: new WeakMap<Project, RegistryConfig>(),
  signedTarballs: new Map(),
  unmapped: [],
  serialized: new WeakMap(),
}) as {
  installs: WeakMap<Project, YarnInstall>;
  opening: WeakMap<Project, Promise<YarnInstall>>;
  /** Gates opened from the cache alone for a build question asked outside an install (`yarn rebuild`). */
  cached: WeakMap<Project, Gate>;
  registryConfigs: WeakMap<Project, RegistryConfig>;
  signedTarballs: SignedTarballs;
  /** Verdicts' signed packages not yet in `signedTarballs` (mapped on the first network request: a warm install makes none). */
  unmapped: Array<{ configuration: Configuration; signed: readonly SignedPackage[] }>;
  /** The lockfile text just judged, for Yarn's own next `generateLockfile` (see `guardProjects`). */
  serialized: WeakMap<Project, { text: string; state: string }>;
};

/** Yarn's registry settings for a project, read once. */
function registryConfigOf(project: Project): RegistryConfig {
  let config = shared.registryConfigs.get(project);
  if (config === undefined) shared.registryConfigs.set(project, (config = yarnRegistryConfig(project.configuration)));
  return config;
}

/** Tarballs the registry signed, by the exact URL Yarn fetches each from; the fetch step must receive exactly these bytes. */
export const signedTarballs = shared.signedTarballs;

/** The signed integrity for a tarball URL (`tarballKey` form), every verdict judged so far mapped first. */
export function signedTarball(key: string): { integrity: string; package: string } | undefined {
  while (shared.unmapped.length > 0) {
    const { configuration, signed } = shared.unmapped[0]!;
    for (const pkg of signed) {
      for (const url of registryTarballUrls(configuration, pkg)) signedTarballs.set(url, { integrity: pkg.integrity, package: `${pkg.name}@${pkg.version}` });
    }
    shared.unmapped.shift();
  }
  return signedTarballs.get(key);
}

/**
 * The gate's options for a project: Yarn's own HTTP stack (its auth, proxies, `enableNetwork`), strict mode from
 * `portcullisStrict` or the environment. Fetched metadata is kept in memory for this process and not written to the
 * metadata cache: through Yarn's HTTP stack an entry cannot be revalidated, so it paid off only within its 5-minute
 * freshness window, while a cold install wrote one file per package. The cache is still read (offline mode);
 * `yarn portcullis check` fills it.
 */
function gateOptions(project: Project, registryConfig: RegistryConfig) {
  const { configuration } = project;
  const offline = configuration.values.has('enableOfflineMode') && configuration.get('enableOfflineMode') === true;
  return {
    dir: projectDir(project.cwd),
    packageManager: 'yarn' as const,
    registryConfig,
    strict: strictScripts('yarn', { env: process.env, native: configuration.get('portcullisStrict') }),
    env: process.env,
    offline,
    writeMetadataCache: false,
    fetch: yarnFetch(configuration, registryConfig, resolutionPackuments(configuration)),
    ...(ENGINE !== undefined ? { engine: ENGINE } : {}),
  };
}

/**
 * The project's install state, opened once on first use (the policy, and the organisation policy it extends,
 * loaded then).
 */
function installOf(project: Project): Promise<YarnInstall> {
  const known = shared.installs.get(project);
  if (known !== undefined) return Promise.resolve(known);
  let opening = shared.opening.get(project);
  if (opening === undefined) {
    const registryConfig = registryConfigOf(project);
    opening = openGate(gateOptions(project, registryConfig)).then(
      (gate) => {
        const install: YarnInstall = { registryConfig, gate };
        shared.installs.set(project, install);
        return install;
      },
      (error: unknown) => {
        shared.opening.delete(project);
        throw error instanceof PortcullisError ? policyRefusal(error.message) : error;
      },
    );
    shared.opening.set(project, opening);
  }
  return opening;
}

/**
 * The gate for a synchronous question (the linker's build decisions): the one an install opened, or one opened from
 * the cache alone (`yarn rebuild` resolves nothing). Undefined when no policy can be had that way.
 */
function openedGate(project: Project): Gate | undefined {
  const known = shared.installs.get(project)?.gate ?? shared.cached.get(project);
  if (known !== undefined) return known;
  try {
    const gate = openCachedGate(gateOptions(project, registryConfigOf(project)));
    shared.cached.set(project, gate);
    return gate;
  } catch {
    return undefined;
  }
}

/**
 * reduceDependency: Yarn is about to resolve `dependency`. When the lockfile does not already pin it (a fresh
 * resolution, `yarn add`, `yarn up`), ask for its metadata now, so the decision after resolution does not wait for
 * it: Yarn's own answer when Yarn fetches it from the same URL (resolution-packuments.ts), else a request of the
 * gate's own beside Yarn's. Never changes the dependency; never throws.
 */
export async function prefetchDependency(dependency: Descriptor, project: Project): Promise<Descriptor> {
  try {
    if (!project.storedResolutions.has(dependency.descriptorHash)) {
      const name = dependency.range.startsWith('npm:') ? registryPackageOf(structUtils.stringifyIdent(dependency), dependency.range) : undefined;
      if (name !== undefined) {
        const install = await installOf(project);
        // Expected only now that the gate is open: opening it (an organisation's pinned policy) never waits for Yarn.
        const shared = sharedPackumentUrl(project.configuration, install.registryConfig, name);
        if (shared !== undefined) resolutionPackuments(project.configuration).expect(shared);
        install.gate.prefetch(name);
      }
    }
  } catch {
    // A policy that cannot be read is reported by the decision after resolution.
  }
  return dependency;
}

/** What the resolution left for the judgement after it: what Yarn fetched in it, the lockfile's packages before it, and what Yarn downloaded. */
export interface ResolutionFacts {
  /** Every locator Yarn's fetcher was asked for while it resolved (downloaded or taken from its cache). */
  fetched: readonly Locator[];
  /** Locator hashes of the packages the lockfile held before the resolution (a package resolved from a URL anew was fetched in it). */
  locked: ReadonlySet<string>;
  /** Tarballs Yarn downloaded while it resolved (resolution-fetches.ts). */
  downloads: ReadonlyMap<string, TarballDigests>;
}

/**
 * After resolution, before fetch: judge every resolved package (or replay the verdict on the identical lockfile), then
 * check the tarballs Yarn downloaded while it resolved against the verdict's signed integrities; throws ReportError to
 * abort the install.
 */
export async function judgeResolution(project: Project, report: Report, facts: ResolutionFacts = { fetched: [], locked: new Set(), downloads: new Map() }): Promise<void> {
  mark('resolved');
  const install = await installOf(project);
  mark('gate opened');
  const lockfile = project.generateLockfile();
  mark('lockfile serialized');
  // Yarn packs a git dependency when it fetches it, whatever it is told: a script the policy does not allow blocks.
  const verdict = await install.gate.judgeLockfile(digestOf(lockfile), () => resolvedPackages(project, install.registryConfig, lockfile), { scriptsUnskippable: { test: scriptsRunWhenFetched, by: 'yarn:git-packed-when-fetched' } });
  mark(verdict.remembered ? 'verdict replayed' : 'judged');
  install.verdict = verdict;
  shared.serialized.set(project, { text: lockfile, state: resolutionState(project) });
  shared.unmapped.push({ configuration: project.configuration, signed: verdict.signed });
  // Yarn ends right after the error: let prefetches (reduceDependency) finish their cache writes first.
  if (verdict.blocking.length > 0) await install.gate.settle();
  reportVerdict(verdict, report);
  const unverified = unverifiedDownloads(fetchedWhileResolving(project, facts), facts.downloads, signedTarball, (locator) => locatorTarballUrls(project.configuration, locator));
  if (unverified.length > 0) throw downloadRefusal(unverified, report);
}

/**
 * What Yarn fetched while it resolved: every locator its fetcher was asked for, and every package resolved anew from a
 * URL (fetched by its tarball resolver), each once. Cheap when the lockfile is current: nothing was fetched, and the
 * packages are only tested for an http(s) reference.
 */
function* fetchedWhileResolving(project: Project, facts: ResolutionFacts): Generator<Locator> {
  yield* facts.fetched;
  for (const pkg of project.storedPackages.values()) {
    if (!facts.locked.has(pkg.locatorHash) && /^https?:\/\//i.test(pkg.reference)) yield pkg;
  }
}

/**
 * Yarn is about to fetch, while it resolves, a dependency whose fetch runs its code (a git repository it packs, an exec: generator): judged
 * now, from its name and origin (core's judgeBeforeFetch); throws ReportError to refuse before anything of it runs.
 */
export async function judgeFetchWhileResolving(project: Project, locator: Locator, opts: Pick<FetchOptions, 'report'>): Promise<void> {
  const install = await installOf(project);
  const dir = projectDir(project.cwd);
  // Read as the lockfile reader reads it: a workspace's own exec: generator is the project's own code.
  const origin = readYarnLocator(structUtils.stringifyLocator(locator), { path: join(dir, 'yarn.lock'), projectDir: dir, registryFor: (name) => install.registryConfig.registryFor(name) });
  if (origin === undefined) return;
  const verdict = install.gate.judgeBeforeFetch({ ...origin, ...(origin.resolved !== undefined ? { resolved: referenceWithoutCredentials(origin.resolved) } : {}) });
  if (verdict.blocking.length > 0) await install.gate.settle();
  reportVerdict(verdict, opts.report, 'fetching');
}

/**
 * The workspace `ident` names when it is one: a locator with a `workspace:` reference, or an ident (the linker's
 * `getDependencyMeta`) that names a workspace and no other package Yarn resolved (a registry package may share a
 * workspace's name: asked by its ident, it is not the workspace).
 */
function workspaceLocator(project: Project, ident: Ident | Locator): Locator | undefined {
  const reference = (ident as Locator).reference;
  if (typeof reference === 'string') return reference.startsWith('workspace:') ? (ident as Locator) : undefined;
  const workspace = project.tryWorkspaceByIdent(ident);
  if (workspace === null) return undefined;
  for (const pkg of project.storedPackages.values()) {
    if (pkg.identHash === ident.identHash && !pkg.reference.startsWith('workspace:')) return undefined;
  }
  return workspace.anchoredLocator;
}

/**
 * Whether a workspace is the project's own code, read as the lockfile reader reads it (core's isOwnCode): a workspace
 * folder that is a symlink into a `node_modules` or out of the project is not, and is judged like any other package.
 */
function ownWorkspace(project: Project, locator: Locator): boolean {
  const dir = projectDir(project.cwd);
  try {
    const origin = readYarnLocator(structUtils.stringifyLocator(locator), { path: join(dir, 'yarn.lock'), projectDir: dir, registryFor: (name) => registryConfigOf(project).registryFor(name) });
    return origin === undefined || isOwnCode(origin); // undefined: the root workspace
  } catch {
    return false;
  }
}

/** Whether this package may run install-time code (named scripts and the implicit node-gyp build), as the verdict says. */
export function mayBuild(project: Project, ident: Ident | Locator, version: string | null): boolean {
  const workspace = workspaceLocator(project, ident);
  if (workspace !== undefined && ownWorkspace(project, workspace)) return true;
  // A workspace that is not the project's own is asked as such (never as a registry package of its name and version).
  const candidate = workspace !== undefined ? { name: structUtils.stringifyIdent(ident), version: WORKSPACE_LOCKFILE_VERSION, source: 'workspace' as const, insideProject: false } : { name: structUtils.stringifyIdent(ident), version: version ?? '' };
  const verdict = shared.installs.get(project)?.verdict;
  if (verdict !== undefined) return verdict.mayBuild(candidate);
  return openedGate(project)?.mayBuild(candidate) ?? false; // no readable policy: nothing builds
}

/** The dependency meta Yarn's linker sees: `built` as the verdict says; a user's `built: false` may only narrow it. */
export function permittedMeta(project: Project, ident: Ident | Locator, version: string | null, meta: DependencyMeta): DependencyMeta {
  const workspace = workspaceLocator(project, ident);
  if (workspace !== undefined && ownWorkspace(project, workspace)) return meta;
  return { ...meta, built: mayBuild(project, ident, version) && meta.built !== false };
}

/**
 * The cooldown in Yarn's own terms (`npmMinimalAgeGate`, minutes; `npmPreapprovedPackages`, since Yarn 4.10), so that a
 * fresh resolution prefers versions old enough. Never lowered below what the user set; the gate refuses a too-new
 * version whatever Yarn resolved (Yarn's own gate does not apply to `--immutable` installs; the gate does).
 */
async function resolveOldEnough(project: Project): Promise<void> {
  let cooldown: YarnInstall['gate']['cooldown'];
  try {
    cooldown = (await installOf(project)).gate.cooldown;
  } catch {
    return; // an unusable policy is reported by the judgement after resolution
  }
  const { configuration } = project;
  if (cooldown === null || !configuration.settings.has('npmMinimalAgeGate')) return;
  const own = configuration.get('npmMinimalAgeGate' as never) as unknown;
  configuration.values.set('npmMinimalAgeGate', Math.max(typeof own === 'number' ? own : 0, Math.ceil(cooldown.minimumReleaseAgeMs / 60_000)));
  if (configuration.settings.has('npmPreapprovedPackages')) {
    const approved = configuration.get('npmPreapprovedPackages' as never) as unknown;
    configuration.values.set('npmPreapprovedPackages', [...new Set([...(Array.isArray(approved) ? approved : []), ...cooldown.exclude])]);
  }
}

/** The sizes of what `generateLockfile` reads: a resolution that changed in any way we could miss changes one. */
function resolutionState(project: Project): string {
  return [project.storedResolutions.size, project.storedDescriptors.size, project.storedPackages.size, project.originalPackages.size, project.storedChecksums.size].join(':');
}

/**
 * Installs the wrappers on Yarn's Project class, once: the two that gate the install, and a one-shot reuse of the
 * lockfile text the decision serialized. `--immutable` makes Yarn serialize it again right after resolution (to compare
 * it with yarn.lock) with nothing changed in between: that call gets the same text. Any other call, one after the
 * fetch step started (which adds checksums), or one after the resolution changed size, serializes anew.
 */
export function guardProjects(ProjectClass: typeof Project): void {
  const proto = ProjectClass.prototype as Project & { [GUARDED]?: true };
  if (proto[GUARDED]) return;
  proto[GUARDED] = true;
  const generateLockfile = proto.generateLockfile;
  proto.generateLockfile = function (this: Project) {
    const kept = shared.serialized.get(this);
    shared.serialized.delete(this);
    return kept !== undefined && kept.state === resolutionState(this) ? kept.text : generateLockfile.call(this);
  };
  const fetchEverything = proto.fetchEverything;
  proto.fetchEverything = function (this: Project, opts: Parameters<Project['fetchEverything']>[0]) {
    shared.serialized.delete(this);
    return fetchEverything.call(this, opts);
  };
  const resolveEverything = proto.resolveEverything;
  proto.resolveEverything = async function (this: Project, opts: Parameters<Project['resolveEverything']>[0]) {
    await resolveOldEnough(this);
    const packuments = resolutionPackuments(this.configuration);
    const downloads = resolutionDownloads(this.configuration);
    const locked = new Set(this.originalPackages.keys());
    // lockfileOnly resolutions (`yarn why`, `yarn info`, …) fetch and install nothing.
    const installing = opts.lockfileOnly !== true;
    const fetched: Locator[] = [];
    const restore = installing ? guardResolutionFetcher(this.configuration, (locator, fetchOptions) => judgeFetchWhileResolving(this, locator, fetchOptions), (locator) => fetched.push(locator)) : () => {};
    packuments.begin();
    downloads.begin();
    let downloaded: ResolutionFacts['downloads'];
    try {
      await resolveEverything.call(this, opts);
    } finally {
      restore();
      packuments.end();
      downloaded = downloads.end();
    }
    if (installing) await judgeResolution(this, opts.report, { fetched, locked, downloads: downloaded });
  };
  const linkEverything = proto.linkEverything;
  proto.linkEverything = async function (this: Project, opts: Parameters<Project['linkEverything']>[0]) {
    const copies = unpluggedCopies(this);
    if (copies !== undefined) removeUnvouched(copies, opts.report);
    await linkEverything.call(this, opts);
    // Builds are done: what is there now is what the verified archives and the allowed builds made.
    try {
      copies?.remember();
    } catch {
      // Not remembered: the next install unpacks these again.
    }
  };
  const getDependencyMeta = proto.getDependencyMeta;
  proto.getDependencyMeta = function (this: Project, ident: Ident, version: string | null) {
    return permittedMeta(this, ident, version, getDependencyMeta.call(this, ident, version));
  };
}
const GUARDED = Symbol.for('portcullis.guarded');

/**
 * The folder Yarn's PnP linker unpacks packages into and reuses without checking (YARN_QUIRKS.unpluggedReused), as
 * core's unpackedCopies judges it; undefined for the other linkers, which do not use it.
 */
function unpluggedCopies(project: Project): UnpackedCopies | undefined {
  const { configuration } = project;
  if (configuration.get('nodeLinker') !== 'pnp') return undefined;
  // Only folders named as Yarn names them: nothing else a misconfigured pnpUnpluggedFolder holds is ever removed.
  return unpackedCopies({ folder: npath.fromPortablePath(configuration.get('pnpUnpluggedFolder') as PortablePath), entry: YARN_UNPLUGGED_ENTRY });
}

/** Removes every unpacked folder this user's last install did not leave as it is, so Yarn unpacks the verified archive again. */
function removeUnvouched(copies: UnpackedCopies, report: Report): void {
  for (const folder of copies.unvouched()) {
    rmSync(folder, { recursive: true, force: true });
    report.reportInfo(null, `portcullis: removed ${folder}: Yarn would have used its files as they are, and no install checked by portcullis left them so (a folder committed or changed since); Yarn unpacks the verified package again`);
  }
}

/** Lifecycle scripts of dependencies the policy does not allow never run, even if Yarn asks (defence in depth). */
export async function skipBlockedScripts(executor: () => Promise<number>, project: Project, locator: Locator, scriptName: string): Promise<() => Promise<number>> {
  if (!(INSTALL_SCRIPTS as readonly string[]).includes(scriptName)) return executor;
  const version = project.storedPackages.get(locator.locatorHash)?.version ?? null;
  return mayBuild(project, locator, version) ? executor : async () => 0;
}
