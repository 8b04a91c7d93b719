/** Which `scripts.allow` entries `portcullis approve <args>` writes: pure, from the lockfile's packages. */
import { PortcullisError } from '../errors.js';
import type { PackageNode } from '../model.js';
import { isOwnCode } from '../model.js';
import { parsePackageSpec, specMatches } from './spec.js';

/**
 * Turns `name` / `name@range` / `@scope/*` arguments into pinned `name@version` entries for every matching
 * installed version (a scope wildcard pins each installed package of the scope, never the wildcard itself).
 */
export function approvalsFor(packages: readonly PackageNode[], args: readonly string[]): string[] {
  const entries: string[] = [];
  for (const arg of args) {
    const spec = parsePackageSpec(arg);
    if (typeof spec === 'string') throw new PortcullisError('USAGE', `cannot approve "${arg}": ${spec}`);
    const matches = packages.filter((p) => !isOwnCode(p) && specMatches(spec, p.name, p.version));
    if (matches.length === 0) {
      const aliasOf = packages.find((p) => p.aliases.includes(spec.name));
      throw new PortcullisError(
        'USAGE',
        aliasOf
          ? `cannot approve "${arg}": "${spec.name}" is an npm: alias of ${aliasOf.name}@${aliasOf.version}; approve the real package: portcullis approve ${aliasOf.name}@${aliasOf.version}`
          : `cannot approve "${arg}": no installed package matches it in the lockfile`,
      );
    }
    for (const pinned of [...new Set(matches.map((p) => `${p.name}@${p.version}`))].sort()) entries.push(pinned);
  }
  return [...new Set(entries)];
}
