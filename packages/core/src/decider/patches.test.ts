import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { gatherPatches, pnpmPatchHash, projectNamesPatches } from './patches.js';

const SCRIPTS = 'diff --git a/package.json b/package.json\n--- a/package.json\n+++ b/package.json\n@@ -1 +1 @@\n-{}\n+{"scripts":{"postinstall":"x"}}\n';
const OTHER = 'diff --git a/index.js b/index.js\n--- a/index.js\n+++ b/index.js\n@@ -1 +1 @@\n-a\n+b\n';
const node = (hash: string, files: string[] = []): PackageNode => ({ id: 'good@1.0.0', name: 'good', version: '1.0.0', source: 'registry', aliases: [], paths: [], dependents: [], patches: [{ hash, files }] });

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-patches-'));
  mkdirSync(join(dir, 'patches'));
  return dir;
}

describe("patched packages' patch files", () => {
  it("pnpm's hash: sha256 hex of the text with CRLF read as LF (the lockfile's patch_hash)", () => {
    expect(pnpmPatchHash(Buffer.from('a\r\nb\n'))).toBe(pnpmPatchHash(Buffer.from('a\nb\n')));
    expect(pnpmPatchHash(Buffer.from('x'))).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  });

  it('found by hash, from the lockfile (pnpm 10) or from pnpm-workspace.yaml / package.json (11, 12): what it touches decides', () => {
    const dir = project();
    writeFileSync(join(dir, 'patches', 'a.patch'), SCRIPTS);
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(SCRIPTS)), ['patches/a.patch'])], dir).get('good@1.0.0')).toEqual({ mayAddScripts: true, reason: 'its patch patches/a.patch changes package.json or binding.gyp' });
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch'])], dir).get('good@1.0.0')?.mayAddScripts).toBe(false);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n');
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(false);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ pnpm: { patchedDependencies: { 'good@1.0.0': 'patches/a.patch' } } }));
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(SCRIPTS)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
  });

  it('fails closed: a file whose hash is not the lockfile\'s, none at all, outside the project (path or link), or no project folder', () => {
    const dir = project();
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    // The file was changed after the lockfile recorded its hash: it is not that patch.
    expect(gatherPatches([node('0'.repeat(64), ['patches/b.patch'])], dir).get('good@1.0.0')).toMatchObject({ mayAddScripts: true });
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
    const outside = mkdtempSync(join(tmpdir(), 'pc-patches-outside-'));
    writeFileSync(join(outside, 'b.patch'), OTHER);
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)), [join(outside, 'b.patch'), '../' + join('..', outside, 'b.patch')])], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
    symlinkSync(join(outside, 'b.patch'), join(dir, 'patches', 'link.patch'));
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/link.patch'])], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch'])], undefined).get('good@1.0.0')?.mayAddScripts).toBe(true);
    // Hostile settings: not strings, not a mapping.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies: [1, {a: 2}]\n');
    writeFileSync(join(dir, 'package.json'), '{"pnpm": {"patchedDependencies": {"__proto__": 3}}}');
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
  });

  it('r43b: a package the settings name is patched whatever the lockfile says: its file judged as named, by key (name, name@version, name@range)', () => {
    const dir = project();
    const plain: PackageNode = { id: 'good@1.0.0', name: 'good', version: '1.0.0', source: 'registry', aliases: [], paths: [], dependents: [] };
    expect(projectNamesPatches(dir)).toBe(false);
    expect(gatherPatches([plain], dir).size).toBe(0);
    writeFileSync(join(dir, 'patches', 'a.patch'), SCRIPTS);
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    for (const key of ['good@1.0.0', 'good', 'good@^1.0.0']) {
      writeFileSync(join(dir, 'pnpm-workspace.yaml'), `patchedDependencies:\n  ${JSON.stringify(key)}: patches/a.patch\n`);
      expect(gatherPatches([plain], dir).get('good@1.0.0'), key).toEqual({ mayAddScripts: true, reason: 'its patch patches/a.patch changes package.json or binding.gyp' });
    }
    expect(projectNamesPatches(dir)).toBe(true);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@2.0.0: patches/a.patch\n  other: patches/a.patch\n');
    expect(gatherPatches([plain], dir).size).toBe(0);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n');
    expect(gatherPatches([plain], dir).get('good@1.0.0')?.mayAddScripts).toBe(false);
    // package.json's pnpm field, and a file that is not there (or outside the project): may add scripts.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ pnpm: { patchedDependencies: { good: 'patches/missing.patch' } } }));
    expect(gatherPatches([plain], dir).get('good@1.0.0')).toMatchObject({ mayAddScripts: true, reason: expect.stringContaining('no readable file inside the project') });
    // With the lockfile's own benign patch too: the settings' file still decides when it may add scripts.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ pnpm: { patchedDependencies: { good: 'patches/a.patch' } } }));
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch'])], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
  });
});
