import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hooksFollowUpdateConfig, mergesOnlyBuiltDependencies, PNPM_QUIRKS, pnpmMajor } from './quirks.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The test files a `pinnedBy` names: repository paths, and bare names in the folder of the path before them. */
function testFilesOf(pinnedBy: string): string[] {
  const files: string[] = [];
  let folder: string | undefined;
  for (const [name] of pinnedBy.matchAll(/[\w./-]+\.test\.ts/g)) {
    if (name.includes('/')) folder = dirname(name);
    else if (folder === undefined) throw new Error(`${name} in "${pinnedBy}" has no folder`);
    files.push(name.includes('/') ? name : join(folder, name));
  }
  return files;
}

describe('pnpmMajor', () => {
  it("reads the major version from pnpm's user agent", () => {
    expect(pnpmMajor({ userAgent: 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64' })).toBe(10);
    expect(pnpmMajor({ userAgent: 'pnpm/11.28.10 npm/? node/? linux x64' })).toBe(11);
    expect(pnpmMajor({ userAgent: 'pnpm/12.21.0 npm/? node/? linux x64' })).toBe(12);
  });

  it('is 0 when the user agent is missing, not a string, or not pnpm', () => {
    expect(pnpmMajor({})).toBe(0);
    expect(pnpmMajor({ userAgent: 12 })).toBe(0);
    expect(pnpmMajor({ userAgent: 'npm/10.9.0 node/v20.20.2' })).toBe(0);
    expect(pnpmMajor({ userAgent: 'yarn/4.5.0 pnpm/10.34.8' })).toBe(0);
    expect(pnpmMajor({ userAgent: 'pnpm/next' })).toBe(0);
  });
});

describe('mergesOnlyBuiltDependencies', () => {
  it('pnpm 10 (and an unknown version, to be safe) merges allowBuilds into onlyBuiltDependencies; 11 and 12 do not', () => {
    expect(mergesOnlyBuiltDependencies(10)).toBe(true);
    expect(mergesOnlyBuiltDependencies(0)).toBe(true);
    expect(mergesOnlyBuiltDependencies(11)).toBe(false);
    expect(mergesOnlyBuiltDependencies(12)).toBe(false);
  });
});

describe('hooksFollowUpdateConfig', () => {
  it('pnpm 10 calls another hook after updateConfig on every install (pnpm with no command installs); pnpm 11 and 12 never surely, nor pnpm 10 for a command that installs nothing', () => {
    for (const argv of [['install'], ['i', '--frozen-lockfile'], ['--reporter=silent', 'add', 'x'], ['ci'], [], ['--frozen-lockfile']]) expect(hooksFollowUpdateConfig(10, argv), argv.join(' ')).toBe(true);
    for (const argv of [['run', 'test'], ['exec', 'tsc'], ['test'], ['why', 'x']]) expect(hooksFollowUpdateConfig(10, argv), argv.join(' ')).toBe(false);
    for (const major of [0, 11, 12]) expect(hooksFollowUpdateConfig(major, ['install'])).toBe(false);
  });
});

describe('PNPM_QUIRKS', () => {
  it('every quirk is pinned by test files that exist', () => {
    for (const [key, quirk] of Object.entries(PNPM_QUIRKS)) {
      const files = testFilesOf(quirk.pinnedBy);
      expect(files.length, `${key} names no test file`).toBeGreaterThan(0);
      for (const file of files) expect(existsSync(join(repoRoot, file)), `${key}: ${file}`).toBe(true);
    }
  });

  it('a bare test file name is looked up beside the path named before it', () => {
    expect(testFilesOf('packages/e2e/test/pnpm.test.ts, bypass-pnpm-config.test.ts')).toEqual(['packages/e2e/test/pnpm.test.ts', 'packages/e2e/test/bypass-pnpm-config.test.ts']);
    expect(existsSync(join(repoRoot, 'packages/e2e/test/missing.test.ts'))).toBe(false);
  });
});
