/**
 * The install gate. Yarn has no hook between resolution and fetch, and none for build decisions, so two
 * Project methods are wrapped (pinned by the e2e tests on every Yarn version we claim):
 * - `resolveEverything`: once Yarn knows every locator and before it fetches anything, decide on all of
 *   them; signature violations abort the install, blocked builds are announced (or abort with portcullisStrict);
 * - `getDependencyMeta`: the linker asks it whether a package may build (named scripts and the implicit
 *   node-gyp rebuild alike); the policy answers, whatever `enableScripts` or `dependenciesMeta` say.
 * The tarball check (`wrapNetworkRequest`) uses the integrities signed at resolution.
 */
import { createDecider, createSpecMatcher, gateOutcome, registryPackageOf, INSTALL_SCRIPTS, isOwnCode, loadPolicy, PortcullisError, type Decider, type Finding, type Policy } from '@portcullis/core';
import { ReportError, structUtils, type Descriptor, type Ident, type Locator, type Project, type Report } from '@yarnpkg/core';
import { findingLine, YarnCode } from './messages.js';
import { projectDir, resolvedPackages } from './packages.js';
import { registryTarballUrls, type SignedTarballs } from './tarballs.js';
import { yarnFetch, yarnRegistryConfig } from './registry.js';

/** What the gate knows about one project in this process. */
/** What `project.getDependencyMeta` returns (Manifest's DependencyMeta). */
type DependencyMeta = ReturnType<Project['getDependencyMeta']>;

interface ProjectGate {
  policy: Policy;
  mayBuild: (name: string, version: string) => boolean;
  /** `name@version` of the user's own code (workspaces, directories inside the project), exempt from the rules. */
  ownCode: Set<string>;
}

/**
 * Yarn may call a plugin's factory more than once per process (each call is a fresh copy of this module), while
 * Project's prototype is wrapped only once: state lives on one process-wide object so every copy shares it.
 */
const shared = ((globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.yarn-plugin.state')] ??= {
  gates: new WeakMap<Project, ProjectGate>(),
  deciders: new WeakMap<Project, Decider>(),
  signedTarballs: new Map(),
}) as { gates: WeakMap<Project, ProjectGate>; deciders: WeakMap<Project, Decider>; signedTarballs: SignedTarballs };
const gates = shared.gates;

/**
 * One decider per project for the install: packuments prefetched while Yarn resolves (reduceDependency)
 * are in memory when the resolution is judged. Requests go through Yarn's own HTTP stack.
 */
function deciderOf(project: Project): Decider {
  const known = shared.deciders.get(project);
  if (known !== undefined) return known;
  const { configuration } = project;
  const registryConfig = yarnRegistryConfig(configuration);
  const offline = configuration.values.has('enableOfflineMode') && configuration.get('enableOfflineMode') === true;
  const decider = createDecider({ policy: gateOf(project).policy, registryConfig, env: process.env, offline, projectDir: projectDir(project.cwd), fetch: yarnFetch(configuration, registryConfig) });
  shared.deciders.set(project, decider);
  return decider;
}

/**
 * reduceDependency: Yarn is about to resolve `dependency`. When the lockfile does not already pin it (a fresh
 * resolution, `yarn add`, `yarn up`), start fetching its metadata now, beside Yarn's own request, so the
 * decision after resolution does not wait for it. Never changes the dependency; never throws.
 */
export async function prefetchDependency(dependency: Descriptor, project: Project): Promise<Descriptor> {
  try {
    if (!project.storedResolutions.has(dependency.descriptorHash)) {
      const name = dependency.range.startsWith('npm:') ? registryPackageOf(structUtils.stringifyIdent(dependency), dependency.range) : undefined;
      if (name !== undefined) deciderOf(project).prefetch(name);
    }
  } catch {
    // A policy that cannot be read is reported by the decision after resolution.
  }
  return dependency;
}

/** Tarballs the registry signed, by the exact URL Yarn fetches each from; the fetch step must receive exactly these bytes. */
export const signedTarballs = shared.signedTarballs;

function gateOf(project: Project): ProjectGate {
  const known = gates.get(project);
  if (known !== undefined) return known;
  {
    let policy: Policy;
    try {
      policy = loadPolicy(projectDir(project.cwd), process.env);
    } catch (error) {
      if (error instanceof PortcullisError) throw new ReportError(YarnCode.policy, `portcullis: ${error.message}`);
      throw error;
    }
    const allowed = createSpecMatcher(policy.scripts.allow);
    const gate: ProjectGate = { policy, mayBuild: (name, version) => allowed(name, version) !== undefined, ownCode: new Set() };
    gates.set(project, gate);
    return gate;
  }
}

/** After resolution, before fetch: decide on every resolved package; throws ReportError to abort the install. */
export async function judgeResolution(project: Project, report: Report): Promise<void> {
  const gate = gateOf(project);
  const { configuration } = project;
  const packages = resolvedPackages(project, yarnRegistryConfig(configuration));
  const decider = deciderOf(project);
  const decision = await decider.decide(packages);
  decider.save();

  const mixed = new Set(packages.filter((p) => !isOwnCode(p)).map((p) => `${p.name}@${p.version}`));
  gate.ownCode = new Set(packages.filter((p) => isOwnCode(p)).map((p) => `${p.name}@${p.version}`).filter((key) => !mixed.has(key)));
  for (const pkg of packages) {
    const integrity = decision.evidence.integrities?.get(pkg.id);
    if (pkg.source !== 'registry' || integrity === undefined || decision.evidence.signatures.get(pkg.id)?.status !== 'verified') continue;
    for (const url of registryTarballUrls(configuration, pkg)) signedTarballs.set(url, { integrity, package: `${pkg.name}@${pkg.version}` });
  }

  for (const notice of decision.notices) report.reportInfo(null, `portcullis: ${notice}`);
  // Which findings stop the install and which only skip a build: the same rule as every other adapter.
  const outcome = gateOutcome(decision.findings, { strictScripts: configuration.get('portcullisStrict') === true });
  if (outcome.blocking.length > 0) {
    // Yarn ends right after the error: let prefetches (reduceDependency) finish their cache writes first.
    await decider.settle();
    const codeOf = (f: Finding) => (f.code === 'METADATA_UNAVAILABLE' ? YarnCode.undecided : f.code === 'SCRIPT_NOT_ALLOWED' ? YarnCode.scripts : YarnCode.signatures);
    for (const finding of outcome.blocking) report.reportError(codeOf(finding), findingLine(finding));
    const undecided = outcome.exitCode === 3;
    const signatures = outcome.blocking.filter((f) => f.code !== 'SCRIPT_NOT_ALLOWED');
    if (signatures.length > 0) {
      throw new ReportError(
        undecided ? YarnCode.undecided : YarnCode.signatures,
        `portcullis: ${signatures.length} package(s) ${undecided ? 'could not be verified' : 'failed the signature policy'} of portcullis.json; the install stopped before fetching or running anything`,
      );
    }
    throw new ReportError(YarnCode.scripts, `portcullis: ${outcome.blocking.length} package(s) want to run install scripts that scripts.allow does not cover (portcullisStrict is on); nothing was fetched or run`);
  }
  if (outcome.skipped.length > 0) report.reportWarning(YarnCode.scripts, scriptsNotice(outcome.skipped));
}

/** One notice for every blocked build: who, and the command that allows them. */
function scriptsNotice(findings: readonly Finding[]): string {
  const who = findings.map((f) => `${f.package}@${f.version}`);
  return `portcullis SCRIPT_NOT_ALLOWED: ${who.join(', ')} will not run install scripts (or node-gyp): scripts.allow in portcullis.json does not cover ${who.length === 1 ? 'it' : 'them'}. To allow: yarn portcullis approve ${who.join(' ')}`;
}

function isWorkspace(project: Project, ident: Ident | Locator): boolean {
  const reference = (ident as Locator).reference;
  if (typeof reference === 'string') return reference.startsWith('workspace:');
  return project.tryWorkspaceByIdent(ident) !== null;
}

/** Whether the policy lets this package run install-time code (named scripts and the implicit node-gyp build). */
export function mayBuild(project: Project, ident: Ident | Locator, version: string | null): boolean {
  if (isWorkspace(project, ident)) return true;
  let gate: ProjectGate;
  try {
    gate = gateOf(project);
  } catch {
    return false; // no readable policy: nothing builds
  }
  const name = structUtils.stringifyIdent(ident);
  if (version !== null && gate.ownCode.has(`${name}@${version}`)) return true;
  return gate.mayBuild(name, version ?? '');
}

/** The dependency meta Yarn's linker sees: `built` as the policy says; a user's `built: false` may only narrow it. */
export function permittedMeta(project: Project, ident: Ident | Locator, version: string | null, meta: DependencyMeta): DependencyMeta {
  if (isWorkspace(project, ident)) return meta;
  return { ...meta, built: mayBuild(project, ident, version) && meta.built !== false };
}

/** Installs the two wrappers on Yarn's Project class, once. */
export function guardProjects(ProjectClass: typeof Project): void {
  const proto = ProjectClass.prototype as Project & { [GUARDED]?: true };
  if (proto[GUARDED]) return;
  proto[GUARDED] = true;
  const resolveEverything = proto.resolveEverything;
  proto.resolveEverything = async function (this: Project, opts: Parameters<Project['resolveEverything']>[0]) {
    await resolveEverything.call(this, opts);
    // lockfileOnly resolutions (`yarn why`, `yarn info`, …) install nothing.
    if (opts.lockfileOnly !== true) await judgeResolution(this, opts.report);
  };
  const getDependencyMeta = proto.getDependencyMeta;
  proto.getDependencyMeta = function (this: Project, ident: Ident, version: string | null) {
    return permittedMeta(this, ident, version, getDependencyMeta.call(this, ident, version));
  };
}
const GUARDED = Symbol.for('portcullis.guarded');

/** Lifecycle scripts of dependencies the policy does not allow never run, even if Yarn asks (defence in depth). */
export async function skipBlockedScripts(executor: () => Promise<number>, project: Project, locator: Locator, scriptName: string): Promise<() => Promise<number>> {
  if (!(INSTALL_SCRIPTS as readonly string[]).includes(scriptName)) return executor;
  const version = project.storedPackages.get(locator.locatorHash)?.version ?? null;
  return mayBuild(project, locator, version) ? executor : async () => 0;
}
