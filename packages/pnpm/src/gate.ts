/**
 * The hooks that judge packages before pnpm links or builds them:
 * - preResolution: every install with a lockfile (frozen, up to date, warm store) — before any download;
 * - readPackage: each package pnpm resolves anew, from its registry metadata — before linking, on pnpm 12 too;
 * - afterAllResolved: the whole resolved graph (git, tarball URLs included) — before linking on 10 and 11,
 *   before builds on 12.
 * Signature findings abort the install; scripts the policy does not allow are skipped by pnpm itself
 * (updateConfig) and reported once.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  createDecider,
  formatFindingLines,
  formatSkippedScripts,
  gateOutcome,
  packumentVersionFromJson,
  readPnpmLockfile,
  registryPackageOf,
  type Decider,
  type PackageNode,
  type PackumentVersion,
} from '@portcullis/core';
import { deniedBeforeResolution, refuseCommandLineWidening } from './config.js';
import { pnpmError } from './errors.js';
import { currentProject, projectAt, type Project } from './project.js';

/**
 * One decider per project for the life of this pnpm process (or pnpm 12's hook worker): packuments
 * fetched for readPackage are in memory when afterAllResolved judges the whole graph.
 */
const deciders = new WeakMap<Project, Decider>();

function deciderFor(project: Project): Decider {
  let decider = deciders.get(project);
  if (decider === undefined) {
    decider = createDecider({ policy: project.policy, registryConfig: project.registryConfig, env: process.env, projectDir: project.dir });
    deciders.set(project, decider);
  }
  return decider;
}

/** Packages already named in a notice, so one install reports each skipped build once. */
const noticed = new Set<string>();

/** Said when pnpm will also offer its own approval, which cannot widen the policy. */
const PNPM_APPROVAL_NOTE = 'portcullis: pnpm may also suggest "pnpm approve-builds" (or "pnpm approve") for these: that cannot allow them past portcullis.json; use the portcullis approve command above.';

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** The verdict on some packages: the error that must stop pnpm, if any, and which packages it names. */
interface Judgement {
  error?: Error;
  blocked: Set<string>;
}

/**
 * Decides on `packages`: returns the error for anything that must stop the install and, for a whole graph
 * (`notice`), prints the one notice for skipped builds. readPackage sees packages a few at a time, so it never does.
 */
async function judge(packages: readonly PackageNode[], project: Project, what: string, notice: boolean, supplied?: ReadonlyMap<string, PackumentVersion>): Promise<Judgement> {
  if (packages.length === 0) return { blocked: new Set() };
  const decider = deciderFor(project);
  const decision = await decider.decide(packages, supplied && supplied.size > 0 ? { supplied: (pkg) => supplied.get(pkg.id) } : {});
  // Whole-graph decisions (preResolution, afterAllResolved) end an install's judging: keep what was verified.
  if (notice) decider.save();
  // Strict mode: a skipped build fails the whole-graph judgement (pnpm would not report it: it is denied outright).
  const outcome = gateOutcome(decision.findings, { strictScripts: notice && project.strictBuilds });
  if (outcome.blocking.length > 0) {
    // pnpm ends the install (pnpm 12: its hook worker) as soon as we throw: let prefetches finish their cache writes.
    await decider.settle();
    const blocked = new Set(outcome.blocking.map((f) => `${f.package}@${f.version}`));
    const notices = decision.notices.map((n) => `  ! ${n}`).join('\n');
    const s = blocked.size === 1 ? '' : 's';
    const message =
      outcome.exitCode === 3
        ? `portcullis could not decide on ${blocked.size} package${s} in ${what}, so nothing was installed (fail closed)`
        : `portcullis blocked ${blocked.size} package${s} in ${what}: nothing was linked and no install script ran`;
    const hint = [notices, formatFindingLines(outcome.blocking)].filter(Boolean).join('\n');
    return { error: pnpmError(outcome.exitCode === 3 ? 'UNDECIDED' : 'BLOCKED', message, hint), blocked };
  }
  const fresh = notice ? outcome.skipped.filter((f) => !noticed.has(`${f.package}@${f.version}`)) : [];
  if (fresh.length > 0) {
    for (const f of fresh) noticed.add(`${f.package}@${f.version}`);
    // Packages updateConfig could not deny outright (new to this resolution) also get pnpm's own approval line.
    // A fresh pnpm 12 worker did not run updateConfig: work out what it denied from the same files.
    const denied = project.deniedBuilds ?? (project.strictBuilds ? undefined : (project.deniedBuilds = new Set(deniedBeforeResolution(project, [project.dir, process.cwd()]))));
    const offered = fresh.some((f) => denied === undefined || !(denied.has(f.package) || denied.has(`${f.package}@${f.version}`)));
    say(offered ? `${formatSkippedScripts(fresh)}\n${PNPM_APPROVAL_NOTE}` : formatSkippedScripts(fresh));
  }
  return { blocked: new Set() };
}

/** Judges `packages` and throws pnpm's error when anything must stop the install. */
async function enforce(packages: readonly PackageNode[], project: Project, what: string): Promise<void> {
  const { error } = await judge(packages, project, what, true);
  if (error !== undefined) throw error;
}

function lockfilePackages(lockfile: object, project: Project): PackageNode[] {
  const path = join(project.dir, 'pnpm-lock.yaml');
  return readPnpmLockfile(lockfile, { path, projectDir: project.dir, registryFor: (name) => project.registryConfig.registryFor(name) }).packages;
}

function hasPackages(lockfile: unknown): lockfile is object {
  if (typeof lockfile !== 'object' || lockfile === null) return false;
  const packages = (lockfile as { packages?: unknown }).packages;
  return typeof packages === 'object' && packages !== null && Object.keys(packages).length > 0;
}

interface PreResolutionContext {
  wantedLockfile?: unknown;
  lockfileDir: string;
  registries?: Record<string, string>;
}

/** preResolution: the wanted lockfile, judged before pnpm fetches or links anything. */
export async function preResolution(ctx: PreResolutionContext): Promise<void> {
  const project = await projectAt(ctx.lockfileDir, ctx.registries);
  refuseCommandLineWidening(project.policy);
  if (!hasPackages(ctx.wantedLockfile)) return;
  await enforce(lockfilePackages(ctx.wantedLockfile, project), project, 'pnpm-lock.yaml');
}

/** afterAllResolved: the complete resolved graph, including sources readPackage cannot see. */
export async function afterAllResolved<T extends object>(lockfile: T): Promise<T> {
  const project = await currentProject();
  refuseCommandLineWidening(project.policy);
  if (hasPackages(lockfile)) await enforce(lockfilePackages(lockfile, project), project, 'the resolved dependencies');
  return lockfile;
}

interface Manifest {
  name?: unknown;
  version?: unknown;
  dist?: { integrity?: unknown; tarball?: unknown; signatures?: unknown };
  dependencies?: unknown;
  optionalDependencies?: unknown;
}

/**
 * Whether this pnpm hands `dist.signatures` to readPackage (10 and 11 do, 12 does not): learnt from the
 * first dependency manifest. Until then, and when it does not, dependencies are prefetched.
 */
let manifestsCarrySignatures: boolean | undefined;

/**
 * pnpm resolves a manifest's dependencies next: start fetching their metadata now, beside pnpm's own
 * requests, so their readPackage calls find it in memory instead of waiting for a fetch of their own.
 * Not needed when manifests carry their signatures: then the verdicts need no packument at all.
 */
function prefetchDependencies(manifest: Manifest, project: Project): void {
  if (manifestsCarrySignatures === true) return;
  // A project's own manifest with a lockfile beside it: pnpm installs what the lockfile pins (a frozen or
  // up-to-date install, where pnpm 12 still reads the root manifest), and those verdicts come from the memo.
  if (typeof manifest.dist?.integrity !== 'string' && existsSync(join(project.dir, 'pnpm-lock.yaml'))) return;
  const names: string[] = [];
  for (const field of [manifest.dependencies, manifest.optionalDependencies]) {
    if (typeof field !== 'object' || field === null) continue;
    for (const [name, spec] of Object.entries(field)) {
      const target = typeof spec === 'string' ? registryPackageOf(name, spec) : undefined;
      if (target !== undefined) names.push(target);
    }
  }
  // Until the first dependency manifest shows whether this pnpm passes signatures, hold the project's own
  // dependencies back: on pnpm 10 and 11 they are never needed, and fetching them competes with pnpm's requests.
  if (manifestsCarrySignatures === undefined) {
    heldBack.push(...names.map((name) => ({ name, project })));
    return;
  }
  const decider = deciderFor(project);
  for (const name of names) decider.prefetch(name);
}

/** Prefetches held back until this pnpm's manifests were seen. */
let heldBack: Array<{ name: string; project: Project }> = [];

/** Learns from the first dependency manifest whether signatures come with it; releases what was held back if not. */
function learnFrom(manifest: Manifest): void {
  if (manifestsCarrySignatures !== undefined || typeof manifest.dist?.integrity !== 'string') return;
  manifestsCarrySignatures = Array.isArray(manifest.dist.signatures);
  const held = heldBack;
  heldBack = [];
  if (!manifestsCarrySignatures) for (const { name, project } of held) deciderFor(project).prefetch(name);
}

/** Registry packages seen by readPackage, judged together (pnpm reads many manifests at once). */
let batch: { nodes: Map<string, PackageNode>; supplied: Map<string, PackumentVersion>; result: Promise<Judgement> } | undefined;

function judgeSoon(node: PackageNode, metadata: PackumentVersion | undefined, project: Project): Promise<Judgement> {
  if (batch === undefined) {
    const nodes = new Map<string, PackageNode>();
    const supplied = new Map<string, PackumentVersion>();
    // Manifests pnpm hands over in the same tick are judged together. A microtask, not a timer or setImmediate:
    // pnpm awaits each verdict, and waiting for the event loop's next turn cost ~7 ms a call on pnpm 10.
    const result = Promise.resolve().then(() => {
      batch = undefined;
      return judge([...nodes.values()], project, 'the resolved dependencies', false, supplied);
    });
    batch = { nodes, supplied, result };
  }
  batch.nodes.set(node.id, node);
  if (metadata !== undefined) batch.supplied.set(node.id, metadata);
  return batch.result;
}

/**
 * The manifest's own registry metadata, when it carries signatures to verify (pnpm 10 and 11 pass
 * `dist.signatures` through; pnpm 12 drops them, and then the packument is fetched).
 */
function suppliedMetadata(manifest: Manifest & { name: string; version: string }): PackumentVersion | undefined {
  const signatures = manifest.dist?.signatures;
  if (!Array.isArray(signatures) || signatures.length === 0) return undefined;
  const parsed = packumentVersionFromJson(manifest, manifest.name, manifest.version);
  return typeof parsed === 'string' ? undefined : parsed;
}

/** readPackage: a dependency's registry manifest as pnpm resolves it — refuse it before it is linked. */
export async function readPackage<T extends Manifest>(manifest: T): Promise<T> {
  const project = await currentProject();
  learnFrom(manifest);
  prefetchDependencies(manifest, project);
  const integrity = manifest.dist?.integrity;
  if (typeof manifest.name !== 'string' || typeof manifest.version !== 'string' || typeof integrity !== 'string') return manifest;
  const node: PackageNode = {
    id: `${manifest.name}@${manifest.version}`,
    name: manifest.name,
    version: manifest.version,
    integrity,
    source: 'registry',
    registry: project.registryConfig.registryFor(manifest.name),
    aliases: [],
    paths: [],
    dependents: [],
  };
  const { error, blocked } = await judgeSoon(node, suppliedMetadata({ ...manifest, name: manifest.name, version: manifest.version }), project);
  // Only a blocked package's own resolution fails: pnpm then reports one error naming every finding of the batch.
  if (error !== undefined && blocked.has(node.id)) throw error;
  return manifest;
}
