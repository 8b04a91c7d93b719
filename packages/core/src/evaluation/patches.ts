/**
 * What a patch (pnpm's `patchedDependencies`) can do to a package's install-time code. pnpm applies the patch to the
 * package's files and then builds it from the patched files: a patch that touches its `package.json` can add a
 * `preinstall`/`install`/`postinstall`, one that adds a `binding.gyp` an implicit `node-gyp rebuild`. A patch that
 * touches only other files (most real patches) changes nothing here. Pure: the text in, the answer out.
 */

/** The files that decide what a package runs at install time. */
const INSTALL_TIME_FILES = ['package.json', 'binding.gyp'];

/** Lines of a unified or git diff that name a file (git's extended headers included). */
const FILE_HEADER = /^(?:diff |--- |\+\+\+ |\*\*\* |Index:|rename (?:from|to) |copy (?:from|to) |Binary files )/;

/**
 * Whether applying `patch` (its text) may change what the package runs at install time: a line that names a file
 * names `package.json` or `binding.gyp` (in any folder, any letter case), or names a file in a way this reading cannot
 * be sure of (git's quoted, escaped names). Hunk lines that happen to look like a header only make it say "may" more
 * often, never less.
 */
export function patchMayChangeInstallScripts(patch: string): boolean {
  for (const line of patch.split(/\r?\n|\r/)) {
    if (!FILE_HEADER.test(line)) continue;
    if (line.includes('"') || line.includes('\\')) return true;
    const lower = line.toLowerCase();
    if (INSTALL_TIME_FILES.some((file) => lower.includes(file))) return true;
  }
  return false;
}
