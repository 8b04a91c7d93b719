/**
 * What an enforcing adapter does with a decision: which findings stop the install, which only mean
 * "installed, scripts skipped", and which installed copies may run their install-time code, in the
 * order a package manager would run them. Pure: no I/O.
 */
import type { Finding } from '../finding.js';
import type { PackageNode } from '../model.js';
import { createSpecMatcher } from '../policy/spec.js';
import type { Policy } from '../policy/types.js';
import { isOwnCode, scriptsMayRun } from './evaluate.js';
import type { ScriptEvidence } from './evidence.js';

/** Findings split by consequence. */
export interface GateOutcome {
  /** Stop before anything is installed: signatures, undecidable packages (and scripts when strict). */
  blocking: Finding[];
  /** Install anyway, without running these packages' scripts. */
  skipped: Finding[];
  /** 0 when nothing blocks; else 1, or 3 if anything could not be decided. */
  exitCode: 0 | 1 | 3;
}

/**
 * Splits findings: a package whose scripts are not allowed is still installed with its scripts
 * skipped, unless `strictScripts` says an unapproved script fails the install.
 */
export function gateOutcome(findings: readonly Finding[], options: { strictScripts?: boolean } = {}): GateOutcome {
  const strict = options.strictScripts === true;
  const blocking = findings.filter((f) => f.code !== 'SCRIPT_NOT_ALLOWED' || strict);
  const skipped = findings.filter((f) => f.code === 'SCRIPT_NOT_ALLOWED' && !strict);
  const exitCode = blocking.some((f) => f.code === 'METADATA_UNAVAILABLE') ? 3 : blocking.length > 0 ? 1 : 0;
  return { blocking, skipped, exitCode };
}

/** The one command that approves every skipped package, pinned (`portcullis approve a@1.0.0 b@2.1.0`). */
export function approveCommand(skipped: readonly Finding[]): string {
  const keys = [...new Set(skipped.map((f) => `${f.package}@${f.version}`))].sort();
  return `portcullis approve ${keys.join(' ')}`;
}

/** One installed copy that may run its install-time code. */
export interface BuildStep {
  id: string;
  name: string;
  version: string;
  /** Install path in the lockfile's notation (`node_modules/a/node_modules/b`). */
  path: string;
  /** Named install scripts it has (`preinstall`, `install`, `postinstall`, `prepare` for git). */
  scripts: string[];
  /** Runs the implicit `node-gyp rebuild`. */
  bindingGyp: boolean;
  /** A workspace or a directory inside the project: the user's own code, never restricted. */
  ownCode: boolean;
}

function depth(path: string): number {
  return path.split('node_modules/').length - 1;
}

/**
 * The copies allowed to run install-time code, dependencies before their dependents and, among
 * copies that do not depend on each other, deepest first (as npm orders its builds). Cycles are cut
 * at the deepest member. `scripts` must hold evidence from the installed files for every package
 * that has some (own code included); packages without evidence run nothing.
 */
export function planBuilds(policy: Policy, packages: readonly PackageNode[], scripts: ReadonlyMap<string, ScriptEvidence>): BuildStep[] {
  const allowed = createSpecMatcher(policy.scripts.allow);
  const byId = new Map(packages.map((p) => [p.id, p]));
  // dependencies of each id: the packages that list it among their dependents
  const dependenciesOf = new Map<string, Set<string>>();
  for (const pkg of packages) {
    for (const dependent of pkg.dependents) {
      if (!byId.has(dependent)) continue;
      let set = dependenciesOf.get(dependent);
      if (set === undefined) dependenciesOf.set(dependent, (set = new Set()));
      if (dependent !== pkg.id) set.add(pkg.id);
    }
  }
  const maxDepth = (pkg: PackageNode) => Math.max(0, ...pkg.paths.map(depth));
  const before = (a: PackageNode, b: PackageNode) => maxDepth(b) - maxDepth(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  // Kahn's algorithm over every package (a non-building package can sit between two building ones).
  const remaining = new Map<string, number>();
  for (const pkg of packages) remaining.set(pkg.id, dependenciesOf.get(pkg.id)?.size ?? 0);
  const dependentsOf = new Map<string, string[]>();
  for (const [id, deps] of dependenciesOf) for (const dep of deps) dependentsOf.set(dep, [...(dependentsOf.get(dep) ?? []), id]);
  const order: PackageNode[] = [];
  const done = new Set<string>();
  while (done.size < packages.length) {
    const ready = packages.filter((p) => !done.has(p.id) && remaining.get(p.id) === 0).sort(before);
    // A cycle: nothing is ready, so take the deepest remaining package.
    const next = ready[0] ?? packages.filter((p) => !done.has(p.id)).sort(before)[0]!;
    done.add(next.id);
    order.push(next);
    for (const dependent of dependentsOf.get(next.id) ?? []) remaining.set(dependent, (remaining.get(dependent) ?? 1) - 1);
  }

  const steps: BuildStep[] = [];
  for (const pkg of order) {
    const evidence = scripts.get(pkg.id);
    if (evidence === undefined || !(evidence.scripts.length > 0 || evidence.bindingGyp)) continue;
    const own = isOwnCode(pkg);
    if (!own && !scriptsMayRun(allowed, pkg)) continue;
    const paths = [...pkg.paths].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0));
    for (const path of paths) {
      steps.push({ id: pkg.id, name: pkg.name, version: pkg.version, path, scripts: [...evidence.scripts], bindingGyp: evidence.bindingGyp, ownCode: own });
    }
  }
  return steps;
}
