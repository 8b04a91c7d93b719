/**
 * scripts.allow expanded into the exact entries a package manager's own build allowlist understands:
 * `name` for an entry without a range, `name@version` for every known version a range covers, and `name` for
 * every known package of an `@scope/*` entry. Package managers match names and versions exactly (pnpm's build
 * allowlist has no wildcard), so a range or a scope is only honoured if each covered candidate is listed.
 */
import { createSpecMatcher, specCoversName } from './spec.js';
import type { Policy } from './types.js';

/** Names whose policy entries carry a range: the versions of these must be enumerated. */
export function rangedScriptNames(policy: Policy): string[] {
  const names = new Set<string>();
  for (const spec of policy.scripts.allow) if (spec.range !== null) names.add(spec.name);
  return [...names].sort();
}

/** The scopes (`@acme`) of scripts.allow's `@scope/*` entries: their packages must be listed one by one. */
export function wildcardScriptScopes(policy: Policy): string[] {
  const scopes = new Set<string>();
  for (const spec of policy.scripts.allow) if (spec.scope !== undefined) scopes.add(spec.scope);
  return [...scopes].sort();
}

/**
 * Whether a known candidate of this name must be handed to `scriptAllowlist` to be listed: a ranged entry names
 * it, or an `@scope/*` entry covers it. (Plain `name` entries are listed without candidates.)
 */
export function scriptCandidateNeeded(policy: Policy, name: string): boolean {
  return policy.scripts.allow.some((spec) => (spec.range !== null && spec.name === name) || (spec.scope !== undefined && specCoversName(spec, name)));
}

/** The build allowlist for `candidates` (every version that may get installed), sorted and without duplicates. */
export function scriptAllowlist(policy: Policy, candidates: Iterable<{ name: string; version: string }>): string[] {
  const entries = new Set<string>();
  for (const spec of policy.scripts.allow) if (spec.range === null && spec.scope === undefined) entries.add(spec.name);
  const wildcards = policy.scripts.allow.filter((spec) => spec.scope !== undefined);
  const allowed = createSpecMatcher(policy.scripts.allow.filter((spec) => spec.range !== null));
  for (const { name, version } of candidates) {
    if (wildcards.some((spec) => specCoversName(spec, name))) entries.add(name);
    else if (allowed(name, version) !== undefined) entries.add(`${name}@${version}`);
  }
  return [...entries].sort();
}

/**
 * Whether scripts.allow lets `name` build at `version` — or, with no version, at every version (only an
 * entry without a range, or an `@scope/*` entry, does). A package manager's own allowance is harmless exactly
 * when this holds.
 */
export function scriptsAllowed(policy: Policy, name: string, version?: string): boolean {
  if (version === undefined) return policy.scripts.allow.some((spec) => specCoversName(spec, name));
  return createSpecMatcher(policy.scripts.allow)(name, version) !== undefined;
}

/**
 * The build denylist for `candidates` the policy never lets build, in a package manager's notation:
 * `name` when no entry names the package (nor its scope), `name@version` for a version its ranged entries miss.
 * A candidate without a version and with a ranged entry is left out (which versions is unknown).
 */
export function scriptDenylist(policy: Policy, candidates: Iterable<{ name: string; version?: string }>): string[] {
  const named = new Set(policy.scripts.allow.filter((spec) => spec.scope === undefined).map((spec) => spec.name));
  const allowed = createSpecMatcher(policy.scripts.allow);
  const entries = new Set<string>();
  for (const { name, version } of candidates) {
    if (scriptsAllowed(policy, name)) continue;
    if (!named.has(name)) entries.add(name);
    else if (version !== undefined && allowed(name, version) === undefined) entries.add(`${name}@${version}`);
  }
  return [...entries].sort();
}
