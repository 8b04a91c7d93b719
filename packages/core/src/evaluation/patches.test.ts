import { describe, expect, it } from 'vitest';
import { patchMayChangeInstallScripts } from './patches.js';

const diff = (file: string, extra: string[] = []) => [`diff --git a/${file} b/${file}`, ...extra, `--- a/${file}`, `+++ b/${file}`, '@@ -1 +1 @@', '-a', '+b', ''].join('\n');

describe('what a patch can do to install-time code', () => {
  it('touching package.json or binding.gyp may change it, in any folder or letter case, added, renamed or copied', () => {
    expect(patchMayChangeInstallScripts(diff('package.json'))).toBe(true);
    expect(patchMayChangeInstallScripts(diff('binding.gyp', ['new file mode 100644']))).toBe(true);
    expect(patchMayChangeInstallScripts(diff('lib/Package.JSON'))).toBe(true);
    expect(patchMayChangeInstallScripts(['diff --git a/x.json b/package.json', 'rename from x.json', 'rename to package.json', ''].join('\n'))).toBe(true);
    expect(patchMayChangeInstallScripts(['--- package.json\t2026-01-01', '+++ package.json\t2026-01-02', '@@ -1 +1 @@', '-a', '+b'].join('\r\n'))).toBe(true);
    expect(patchMayChangeInstallScripts(['Index: binding.gyp', '==='].join('\n'))).toBe(true);
  });

  it("a file name this reading cannot be sure of (git's quoted, escaped names) may too", () => {
    expect(patchMayChangeInstallScripts(['diff --git "a/packag\\145.json" "b/packag\\145.json"', '--- "a/packag\\145.json"', '+++ "b/packag\\145.json"', ''].join('\n'))).toBe(true);
  });

  it('a patch of other files only changes nothing (no false alarm), whatever its hunks say', () => {
    expect(patchMayChangeInstallScripts(diff('index.js'))).toBe(false);
    expect(patchMayChangeInstallScripts(diff('lib/util.js') + diff('README.md'))).toBe(false);
    // Hunk lines mentioning package.json are not file names.
    expect(patchMayChangeInstallScripts(['diff --git a/index.js b/index.js', '--- a/index.js', '+++ b/index.js', '@@ -1 +1 @@', "-require('./package.json')", "+require('./package.json').version", ''].join('\n'))).toBe(false);
    expect(patchMayChangeInstallScripts('')).toBe(false);
  });
});
