import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { gatherPatches, patchesHold, PatchFiles, pnpmPatchHash, rememberedPatches } from './patches.js';

const SCRIPTS = 'diff --git a/package.json b/package.json\n--- a/package.json\n+++ b/package.json\n@@ -1 +1 @@\n-{}\n+{"scripts":{"postinstall":"x"}}\n';
const OTHER = 'diff --git a/index.js b/index.js\n--- a/index.js\n+++ b/index.js\n@@ -1 +1 @@\n-a\n+b\n';
const node = (hash: string, files: string[] = []): PackageNode => ({ id: 'good@1.0.0', name: 'good', version: '1.0.0', source: 'registry', aliases: [], paths: [], dependents: [], patches: [{ hash, files }] });

/** The evidence of a fresh reader (one decider's) in `dir`, or with no project folder. */
const gather = (packages: PackageNode[], dir: string | undefined) => gatherPatches(packages, dir === undefined ? undefined : new PatchFiles(dir));
/** Whether the project's settings name any patch (a fresh reader's entries). */
const projectNamesPatches = (dir: string) => new PatchFiles(dir).named().length > 0;

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
    expect(gather([node(pnpmPatchHash(Buffer.from(SCRIPTS)), ['patches/a.patch'])], dir).get('good@1.0.0')).toEqual({ mayAddScripts: true, reason: 'its patch patches/a.patch changes package.json or binding.gyp' });
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch'])], dir).get('good@1.0.0')?.mayAddScripts).toBe(false);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n');
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(false);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ pnpm: { patchedDependencies: { 'good@1.0.0': 'patches/a.patch' } } }));
    expect(gather([node(pnpmPatchHash(Buffer.from(SCRIPTS)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
  });

  it('fails closed: a file whose hash is not the lockfile\'s, none at all, outside the project (path or link), or no project folder', () => {
    const dir = project();
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    // The file was changed after the lockfile recorded its hash: it is not that patch.
    expect(gather([node('0'.repeat(64), ['patches/b.patch'])], dir).get('good@1.0.0')).toMatchObject({ mayAddScripts: true });
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
    const outside = mkdtempSync(join(tmpdir(), 'pc-patches-outside-'));
    writeFileSync(join(outside, 'b.patch'), OTHER);
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)), [join(outside, 'b.patch'), '../' + join('..', outside, 'b.patch')])], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
    symlinkSync(join(outside, 'b.patch'), join(dir, 'patches', 'link.patch'));
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/link.patch'])], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch'])], undefined).get('good@1.0.0')?.mayAddScripts).toBe(true);
    // Hostile settings: not strings, not a mapping.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies: [1, {a: 2}]\n');
    writeFileSync(join(dir, 'package.json'), '{"pnpm": {"patchedDependencies": {"__proto__": 3}}}');
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)))], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
  });

  it('r43b: a package the settings name is patched whatever the lockfile says: its file judged as named, by key (name, name@version, name@range)', () => {
    const dir = project();
    const plain: PackageNode = { id: 'good@1.0.0', name: 'good', version: '1.0.0', source: 'registry', aliases: [], paths: [], dependents: [] };
    expect(projectNamesPatches(dir)).toBe(false);
    expect(gather([plain], dir).size).toBe(0);
    writeFileSync(join(dir, 'patches', 'a.patch'), SCRIPTS);
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    for (const key of ['good@1.0.0', 'good', 'good@^1.0.0']) {
      writeFileSync(join(dir, 'pnpm-workspace.yaml'), `patchedDependencies:\n  ${JSON.stringify(key)}: patches/a.patch\n`);
      expect(gather([plain], dir).get('good@1.0.0'), key).toEqual({ mayAddScripts: true, reason: 'its patch patches/a.patch changes package.json or binding.gyp' });
    }
    expect(projectNamesPatches(dir)).toBe(true);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@2.0.0: patches/a.patch\n  other: patches/a.patch\n');
    expect(gather([plain], dir).size).toBe(0);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n');
    expect(gather([plain], dir).get('good@1.0.0')?.mayAddScripts).toBe(false);
    // package.json's pnpm field, and a file that is not there (or outside the project): may add scripts.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ pnpm: { patchedDependencies: { good: 'patches/missing.patch' } } }));
    expect(gather([plain], dir).get('good@1.0.0')).toMatchObject({ mayAddScripts: true, reason: expect.stringContaining('no readable file inside the project') });
    // With the lockfile's own benign patch too: the settings' file still decides when it may add scripts.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ pnpm: { patchedDependencies: { good: 'patches/a.patch' } } }));
    expect(gather([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch'])], dir).get('good@1.0.0')?.mayAddScripts).toBe(true);
  });

  it('keeps what it read (settings and each file, bytes judged), and a remembered copy holds only while each reads the same', () => {
    const dir = project();
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n');
    const files = new PatchFiles(dir);
    expect(gatherPatches([node(pnpmPatchHash(Buffer.from(OTHER)), ['patches/b.patch', 'patches/missing.patch'])], files).get('good@1.0.0')?.mayAddScripts).toBe(false);
    const reads = files.reads();
    expect(reads.files).toEqual([[join(dir, 'patches', 'b.patch'), Buffer.from(OTHER)]]);
    const remembered = rememberedPatches(reads);
    expect(patchesHold(dir, remembered)?.files).toEqual(reads.files);
    // The file changed (even to a patch of other files only): no longer holds.
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER + '\n');
    expect(patchesHold(dir, remembered)).toBeUndefined();
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    expect(patchesHold(dir, remembered)).toBeDefined();
    // Another settings entry (here: one more package named), or the settings' file moved to package.json: no longer holds.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n  other: patches/b.patch\n');
    expect(patchesHold(dir, remembered)).toBeUndefined();
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), '');
    expect(patchesHold(dir, remembered)).toBeUndefined();
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good@1.0.0: patches/b.patch\n');
    // A candidate that was not there appears; one read is replaced by a link out of the project.
    const missing = new PatchFiles(dir);
    gatherPatches([node('0'.repeat(64), ['patches/missing.patch'])], missing);
    const none = rememberedPatches(missing.reads());
    expect(none.files).toContainEqual([join(dir, 'patches', 'missing.patch'), null]);
    expect(patchesHold(dir, none)).toBeDefined();
    writeFileSync(join(dir, 'patches', 'missing.patch'), OTHER);
    expect(patchesHold(dir, none)).toBeUndefined();
    const outside = mkdtempSync(join(tmpdir(), 'pc-patches-outside-'));
    writeFileSync(join(outside, 'b.patch'), OTHER);
    rmSync(join(dir, 'patches', 'b.patch'));
    symlinkSync(join(outside, 'b.patch'), join(dir, 'patches', 'b.patch'));
    expect(patchesHold(dir, remembered)).toBeUndefined();
  });

  it('reads the settings and each file once per reader (one decider: every batch of an install)', () => {
    const dir = project();
    writeFileSync(join(dir, 'patches', 'b.patch'), OTHER);
    const files = new PatchFiles(dir);
    const hash = pnpmPatchHash(Buffer.from(OTHER));
    expect(gatherPatches([node(hash, ['patches/b.patch'])], files).get('good@1.0.0')?.mayAddScripts).toBe(false);
    // Changed after the first read: the reader keeps judging by what it read (the bytes its reads say).
    writeFileSync(join(dir, 'patches', 'b.patch'), SCRIPTS);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'patchedDependencies:\n  good: patches/b.patch\n');
    expect(gatherPatches([node(hash, ['patches/b.patch'])], files).get('good@1.0.0')?.mayAddScripts).toBe(false);
    expect(files.reads().files).toEqual([[join(dir, 'patches', 'b.patch'), Buffer.from(OTHER)]]);
    expect(patchesHold(dir, rememberedPatches(files.reads()))).toBeUndefined();
  });
});
