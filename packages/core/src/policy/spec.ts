/** Package selectors (`name` or `name@range`) and the matcher built from them. */
import semver from 'semver';
import { isValidPackageName } from '../package-name.js';
import type { PackageSpec } from './types.js';

/** Splits `name@range` (scoped names keep their leading `@`); returns a reason string when invalid. */
export function parsePackageSpec(raw: string): PackageSpec | string {
  const at = raw.indexOf('@', raw.startsWith('@') ? 1 : 0);
  const name = at === -1 ? raw : raw.slice(0, at);
  const range = at === -1 ? null : raw.slice(at + 1).trim();
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

/** Whether a spec covers one package version. Ranges follow npm: prereleases match only if the range names one. */
export function specMatches(spec: PackageSpec, name: string, version: string): boolean {
  if (spec.name !== name) return false;
  if (spec.range === null) return true;
  return semver.valid(version) !== null && semver.satisfies(version, spec.range);
}

/** Builds a lookup `(name, version) → the first matching spec`, for rules that ask many times. */
export function createSpecMatcher(specs: readonly PackageSpec[]): (name: string, version: string) => PackageSpec | undefined {
  const byName = new Map<string, PackageSpec[]>();
  for (const spec of specs) {
    const list = byName.get(spec.name);
    if (list) list.push(spec);
    else byName.set(spec.name, [spec]);
  }
  return (name, version) => byName.get(name)?.find((spec) => specMatches(spec, name, version));
}
