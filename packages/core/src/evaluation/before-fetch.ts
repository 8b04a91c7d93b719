/**
 * A dependency the package manager fetches while it resolves, before any verdict exists, and whose fetch runs its code:
 * Yarn packs a git dependency to read its manifest (its prepack, prepare and postpack, and an install of the clone with
 * the repository's own settings). It is judged at that moment from what is known then: its name and where it comes
 * from, not its version. Pure, like the rest of the evaluator.
 */
import type { Finding } from '../finding.js';
import { isOwnCode, type PackageNode } from '../model.js';
import type { Policy } from '../policy/types.js';
import type { Evidence } from './evidence.js';
import { evaluate } from './evaluate.js';
import { beforeFetchFinding } from './messages.js';

/** What is known of a dependency before it is fetched: its name and its origin (`resolved`: the reference fetched). */
export type FetchedWhileResolving = Pick<PackageNode, 'name' | 'source' | 'resolved' | 'insideProject'>;

/**
 * The findings on a dependency fetched before the verdict whose fetch runs its code. The same rules as for any package
 * (evaluate), with what is known then: no version (only entries that cover every version of the name count: `name`,
 * `@scope/*`), nothing known of its scripts (it is taken to run some). Its scripts cannot be skipped, so a caller treats
 * a SCRIPT_NOT_ALLOWED here as blocking (the package `id` is `name@resolved`).
 */
export function evaluateBeforeFetch(policy: Policy, dependency: FetchedWhileResolving): Finding[] {
  if (isOwnCode(dependency)) return [];
  const resolved = dependency.resolved ?? '';
  // No semver version: a ranged entry can never match it.
  const pkg: PackageNode = { ...dependency, id: `${dependency.name}@${resolved}`, version: resolved, aliases: [], paths: [], dependents: [] };
  const evidence: Evidence = {
    scripts: new Map([[pkg.id, { hasInstallScript: true, scripts: [], bindingGyp: false, source: 'lockfile' }]]),
    signatures: new Map(),
    unavailable: new Map(),
  };
  return evaluate(policy, [pkg], evidence).map((finding) => beforeFetchFinding(finding, pkg));
}
