/**
 * Which installed copies may run their install-time code, in the order a package manager would run them.
 * Pure: no I/O.
 */
import type { PackageNode } from '../model.js';
import { createSpecMatcher } from '../policy/spec.js';
import type { Policy } from '../policy/types.js';
import { isOwnCode } from '../model.js';
import { scriptsMayRun } from './evaluate.js';
import type { ScriptEvidence } from './evidence.js';

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
  /** A copy installed from its bundler's tarball (`bundleDependencies`): built only as this step, never with its bundler. */
  inBundle: boolean;
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
  const depthOf = new Map(packages.map((p) => [p.id, Math.max(0, ...p.paths.map(depth))]));
  const before = (a: PackageNode, b: PackageNode) => depthOf.get(b.id)! - depthOf.get(a.id)! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

  // Kahn's algorithm over every package (a non-building package can sit between two building ones), the
  // ready packages in a heap: O(n log n), where picking from a re-sorted list each step was quadratic
  // (66 ms on 1,000 packages, seconds on 5,000).
  const remaining = new Map<string, number>();
  for (const pkg of packages) remaining.set(pkg.id, dependenciesOf.get(pkg.id)?.size ?? 0);
  const dependentsOf = new Map<string, string[]>();
  for (const [id, deps] of dependenciesOf) {
    for (const dep of deps) {
      const list = dependentsOf.get(dep);
      if (list === undefined) dependentsOf.set(dep, [id]);
      else list.push(id);
    }
  }
  const ready = new Heap<PackageNode>(before);
  for (const pkg of packages) if (remaining.get(pkg.id) === 0) ready.push(pkg);
  // A cycle leaves nothing ready: then the deepest package not yet placed goes next.
  const all = [...packages].sort(before);
  let cursor = 0;
  const order: PackageNode[] = [];
  const done = new Set<string>();
  while (done.size < byId.size) {
    let next: PackageNode | undefined;
    while (next === undefined && ready.size > 0) {
      const candidate = ready.pop()!;
      if (!done.has(candidate.id)) next = candidate;
    }
    if (next === undefined) {
      while (done.has(all[cursor]!.id)) cursor++;
      next = all[cursor]!;
    }
    done.add(next.id);
    order.push(next);
    for (const dependent of dependentsOf.get(next.id) ?? []) {
      const left = (remaining.get(dependent) ?? 1) - 1;
      remaining.set(dependent, left);
      if (left === 0 && !done.has(dependent)) ready.push(byId.get(dependent)!);
    }
  }

  const steps: BuildStep[] = [];
  for (const pkg of order) {
    const evidence = scripts.get(pkg.id);
    if (evidence === undefined || !(evidence.scripts.length > 0 || evidence.bindingGyp)) continue;
    const own = isOwnCode(pkg);
    if (!own && !scriptsMayRun(allowed, pkg)) continue;
    const paths = [...pkg.paths].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0));
    for (const path of paths) {
      steps.push({ id: pkg.id, name: pkg.name, version: pkg.version, path, scripts: [...evidence.scripts], bindingGyp: evidence.bindingGyp, ownCode: own, inBundle: pkg.inBundle === true });
    }
  }
  return steps;
}

/** A binary min-heap ordered by `compare`. */
class Heap<T> {
  readonly #items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.compare(items[left]!, items[smallest]!) < 0) smallest = left;
        if (right < items.length && this.compare(items[right]!, items[smallest]!) < 0) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}
