import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProjectSnapshot, workspaceManifests } from './project-files.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-npm-files-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const pkg = (extra: Record<string, unknown> = {}) => JSON.stringify({ name: 'x', version: '1.0.0', ...extra });

describe('workspaceManifests', () => {
  it('finds every member a glob may match, no deeper than the glob, never in node_modules', () => {
    const root = tree({
      'package.json': pkg({ workspaces: ['packages/*', './tools/cli', '!packages/skipped'] }),
      'packages/a/package.json': pkg(),
      'packages/skipped/package.json': pkg(),
      'packages/a/deeper/package.json': pkg(),
      'packages/node_modules/package.json': pkg(),
      'tools/cli/package.json': pkg(),
      'other/package.json': pkg(),
    });
    const found = workspaceManifests(root).map((f) => f.slice(root.length + 1)).sort();
    // negations are ignored (a superset), depth is the glob's
    expect(found).toEqual(['packages/a/package.json', 'packages/skipped/package.json', 'tools/cli/package.json']);
  });

  it('walks without a depth limit under `**`, and reads `workspaces.packages`', () => {
    const root = tree({ 'package.json': pkg({ workspaces: { packages: ['libs/**'] } }), 'libs/a/b/c/package.json': pkg(), 'libs/a/node_modules/x/package.json': pkg() });
    expect(workspaceManifests(root).map((f) => f.slice(root.length + 1))).toEqual(['libs/a/b/c/package.json']);
  });

  it('no workspaces, or an unreadable package.json: nothing; workspaces that are not a list of globs: refused', () => {
    expect(workspaceManifests(tree({ 'package.json': pkg() }))).toEqual([]);
    expect(workspaceManifests(tree({ 'package.json': '{' }))).toEqual([]);
    expect(() => workspaceManifests(tree({ 'package.json': pkg({ workspaces: 'packages/*' }) }))).toThrow(/not a list of globs/);
  });
});

describe('ProjectSnapshot', () => {
  it('restores the root files, the hidden lockfile and members byte for byte, and removes files that did not exist', () => {
    const root = tree({ 'package.json': pkg({ workspaces: ['packages/*'] }), 'packages/a/package.json': '{"name":"a"}\r\n', 'node_modules/.package-lock.json': 'hidden' });
    const snapshot = ProjectSnapshot.take(root);
    writeFileSync(join(root, 'packages/a/package.json'), '{}');
    writeFileSync(join(root, 'node_modules/.package-lock.json'), 'changed');
    writeFileSync(join(root, 'package-lock.json'), '{}');
    snapshot.restore();
    expect(readFileSync(join(root, 'packages/a/package.json'), 'utf8')).toBe('{"name":"a"}\r\n');
    expect(readFileSync(join(root, 'node_modules/.package-lock.json'), 'utf8')).toBe('hidden');
    expect(() => readFileSync(join(root, 'package-lock.json'))).toThrow();
  });
});
