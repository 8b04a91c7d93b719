/** Package selectors (`name`, `name@range` or `@scope/*`) and the matcher built from them. */
import semver from 'semver';
import { isValidPackageName } from '../package-name.js';
import type { PackageSpec } from './types.js';

/**
 * Splits `name@range` (scoped names keep their leading `@`), or reads `@scope/*` (every package of a scope,
 * never with a range); returns a reason string when invalid.
 */
export function parsePackageSpec(raw: string): PackageSpec | string {
  const at = raw.indexOf('@', raw.startsWith('@') ? 1 : 0);
  const name = at === -1 ? raw : raw.slice(0, at);
  const range = at === -1 ? null : raw.slice(at + 1).trim();
  if (name.startsWith('@') && name.endsWith('/*')) {
    const scope = name.slice(0, -2);
    // The scope is valid exactly when some package of it has a valid name.
    if (!isValidPackageName(`${scope}/x`)) return `"${name}" is not a valid scope wildcard; expected "@scope/*"`;
    if (range !== null) return `"${raw}" puts a version range on a scope wildcard; "${name}" always covers every version`;
    return { raw, name, range: null, scope };
  }
  if (!isValidPackageName(name)) {
    return `"${name}" is not a valid package name`;
  }
  if (range !== null) {
    if (range === '') return `"${raw}" has an empty version range after '@'`;
    if (range.startsWith('npm:')) return `"${raw}" uses an npm: alias; name the real package instead`;
    if (semver.validRange(range) === null) return `"${range}" is not a valid semver range`;
  }
  return { raw, name, range };
}

/** The scope of a scoped package name (`@acme` of `@acme/lib`), or undefined for an unscoped one. */
export function scopeOf(name: string): string | undefined {
  if (!name.startsWith('@')) return undefined;
  const slash = name.indexOf('/');
  return slash === -1 ? undefined : name.slice(0, slash);
}

/** Whether a spec covers every version of `name` by name alone: `name` without a range, or its `@scope/*`. */
export function specCoversName(spec: PackageSpec, name: string): boolean {
  if (spec.range !== null) return false;
  return spec.scope !== undefined ? isValidPackageName(name) && scopeOf(name) === spec.scope : spec.name === name;
}

/**
 * How a list is read. An allowance (`scripts.allow`, `signatures.allowUnsigned`, `provenance.allowDowngrade`,
 * `cooldown.exclude` and `exceptions`) lets in what it names and nothing more: build metadata counts (below). A
 * requirement (`provenance.require`, `provenance.publishers`) asks more of what it covers, so it covers by npm's rule,
 * build metadata ignored: a version it would not cover would be let off.
 */
export type SpecReading = 'allows' | 'requires';

/**
 * Whether a spec covers one package version. Ranges follow npm: prereleases match only if the range names one.
 * Read as an allowance, a version with build metadata (`1.2.3+evil`, another registry entry with other bytes, which
 * npm's ranges treat as `1.2.3`) is covered only by an entry naming that very version (`name@1.2.3+evil`), an entry
 * naming a version with build metadata covers only that version, and a version that is not written as semver writes it
 * (`v1.2.3`, `=1.2.3`) is covered by no range: `name@1.2.3`, the review of one release, never lets in another.
 */
export function specMatches(spec: PackageSpec, name: string, version: string, reading: SpecReading = 'allows'): boolean {
  if (spec.scope !== undefined) return specCoversName(spec, name);
  if (spec.name !== name) return false;
  if (spec.range === null) return true;
  if (reading === 'requires') return semver.valid(version) !== null && semver.satisfies(version, spec.range);
  const installed = exactVersionOf(version);
  if (installed !== version) return false;
  const named = exactVersionOf(spec.range);
  if (version.includes('+') || named?.includes('+') === true) return named === version;
  return semver.satisfies(version, spec.range);
}

/**
 * Whether `version` is exactly the version `range` names (`1.2.3`, `=1.2.3` or `v1.2.3`), build metadata included:
 * `1.2.3` is not `1.2.3+evil`. For a pinned approval, which stands for the bytes of that one registry entry.
 */
export function namesExactly(range: string, version: string): boolean {
  const named = exactVersionOf(range);
  return named !== undefined && named === version;
}

/** A single version as semver writes it, build metadata kept (`=v1.2.3+b` → `1.2.3+b`); undefined for a range or junk. */
export function exactVersionOf(text: string): string | undefined {
  const trimmed = text.trim().replace(/^=\s*/, '');
  const parsed = semver.parse(trimmed);
  if (parsed === null) return undefined;
  return parsed.build.length > 0 ? `${parsed.version}+${parsed.build.join('.')}` : parsed.version;
}

/**
 * Builds a lookup `(name, version) → the first matching spec` (in list order), for rules that ask many times: once per
 * package and rule on every decision (a policy's lists are mostly empty, and then nothing is looked up at all).
 */
export function createSpecMatcher(specs: readonly PackageSpec[], reading: SpecReading = 'allows'): (name: string, version: string) => PackageSpec | undefined {
  if (specs.length === 0) return () => undefined;
  const byName = new Map<string, Array<[number, PackageSpec]>>();
  const byScope = new Map<string, Array<[number, PackageSpec]>>();
  specs.forEach((spec, index) => {
    const map = spec.scope !== undefined ? byScope : byName;
    const key = spec.scope ?? spec.name;
    const list = map.get(key);
    if (list) list.push([index, spec]);
    else map.set(key, [[index, spec]]);
  });
  const firstIn = (list: ReadonlyArray<[number, PackageSpec]> | undefined, best: [number, PackageSpec] | undefined, name: string, version: string) => {
    if (list !== undefined) {
      for (const candidate of list) {
        if ((best === undefined || candidate[0] < best[0]) && specMatches(candidate[1], name, version, reading)) best = candidate;
      }
    }
    return best;
  };
  return (name, version) => {
    const named = firstIn(byName.get(name), undefined, name, version);
    const scope = byScope.size === 0 ? undefined : scopeOf(name);
    return (scope === undefined ? named : firstIn(byScope.get(scope), named, name, version))?.[1];
  };
}
