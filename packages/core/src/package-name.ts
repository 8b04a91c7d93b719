/**
 * Package names are hostile input: they end up in paths, URLs, cache keys and policy matches.
 * One definition for every module, so a name one part accepts no other part rejects.
 */
const MAX_NAME_LENGTH = 214;
// npm's rules, keeping the legacy allowance for capitals; no path separator except the scope slash,
// nothing that needs URL encoding, no leading `.` or `_`.
const NAME = /^(?:@[A-Za-z0-9~-][A-Za-z0-9._~-]*\/)?[A-Za-z0-9~-][A-Za-z0-9._~-]*$/;

/** Whether a string is a package name npm would accept (legacy capitals included). */
export function isValidPackageName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME.test(name)) return false;
  return !name.includes('..');
}

/**
 * The registry package a dependency spec points at: `^1.2.0` (or Yarn's `npm:^1.2.0`) → the dependency's own
 * name; an `npm:` alias (`npm:other@^1`) → `other`; `workspace:`, `file:`, `link:`, git and tarball URLs, paths
 * and GitHub shorthands → undefined (no registry metadata). Used to start metadata requests early, so a wrong
 * guess only costs a request.
 */
export function registryPackageOf(name: string, spec: string): string | undefined {
  let target = name;
  if (spec.startsWith('npm:')) {
    const rest = spec.slice(4);
    const at = rest.indexOf('@', rest.startsWith('@') ? 1 : 0);
    if (at > 0) target = rest.slice(0, at);
  } else if (/^[a-z+]+:/i.test(spec) || spec.includes('/')) {
    return undefined;
  }
  return isValidPackageName(target) ? target : undefined;
}
