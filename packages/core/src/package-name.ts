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
