/**
 * scripts.allow expanded into the exact entries a package manager's own build allowlist understands:
 * `name` for an entry without a range, `name@version` for every known version a range covers. Package
 * managers match versions exactly, so a range is only honoured if each covered version is listed.
 */
import { createSpecMatcher } from './spec.js';
import type { Policy } from './types.js';

/** Names whose policy entries carry a range: the versions of these must be enumerated. */
export function rangedScriptNames(policy: Policy): string[] {
  const names = new Set<string>();
  for (const spec of policy.scripts.allow) if (spec.range !== null) names.add(spec.name);
  return [...names].sort();
}

/** The build allowlist for `candidates` (every version that may get installed), sorted and without duplicates. */
export function scriptAllowlist(policy: Policy, candidates: Iterable<{ name: string; version: string }>): string[] {
  const entries = new Set<string>();
  for (const spec of policy.scripts.allow) if (spec.range === null) entries.add(spec.name);
  const allowed = createSpecMatcher(policy.scripts.allow.filter((spec) => spec.range !== null));
  for (const { name, version } of candidates) {
    if (allowed(name, version) !== undefined) entries.add(`${name}@${version}`);
  }
  return [...entries].sort();
}

/**
 * Whether scripts.allow lets `name` build at `version` — or, with no version, at every version (only an
 * entry without a range does). A package manager's own allowance is harmless exactly when this holds.
 */
export function scriptsAllowed(policy: Policy, name: string, version?: string): boolean {
  if (version === undefined) return policy.scripts.allow.some((spec) => spec.name === name && spec.range === null);
  return createSpecMatcher(policy.scripts.allow)(name, version) !== undefined;
}

/**
 * The build denylist for `candidates` the policy never lets build, in a package manager's notation:
 * `name` when no entry names the package, `name@version` for a version its ranged entries miss. A
 * candidate without a version and with a ranged entry is left out (which versions is unknown).
 */
export function scriptDenylist(policy: Policy, candidates: Iterable<{ name: string; version?: string }>): string[] {
  const named = new Set(policy.scripts.allow.map((spec) => spec.name));
  const allowed = createSpecMatcher(policy.scripts.allow);
  const entries = new Set<string>();
  for (const { name, version } of candidates) {
    if (!named.has(name)) entries.add(name);
    else if (version !== undefined && allowed(name, version) === undefined) entries.add(`${name}@${version}`);
  }
  return [...entries].sort();
}
