import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpmArguments } from './arguments.js';
import type { NpmBinary } from './npm-process.js';
import { findNpmProject } from './project-root.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-npm-root-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** An "npm" that prints a fixed answer for `npm prefix`, or fails. */
function fakeNpm(dir: string, answer: string | null): NpmBinary {
  const file = join(dir, 'fake-npm.cjs');
  writeFileSync(file, answer === null ? 'process.stderr.write("npm error boom\\n"); process.exit(1);' : `process.stdout.write(${JSON.stringify(`${answer}\n`)});`);
  return { command: process.execPath, prefixArgs: [file], version: '11.0.0' };
}

const unusable: NpmBinary = { command: '/nonexistent/npm', prefixArgs: [], version: '11.0.0' };

describe('findNpmProject', () => {
  it('the nearest package.json when no folder above declares workspaces (npm is not asked)', async () => {
    const root = tree({ 'package.json': '{}', 'src/deep/x.js': '' });
    const found = await findNpmProject(parseNpmArguments(['ci']), join(root, 'src', 'deep'), {}, unusable);
    expect(found).toEqual({ root, via: 'nearest', nearest: root });
  });

  it('--prefix / -C win, resolved against the working directory', async () => {
    const root = tree({ 'package.json': '{}', 'sub/package.json': '{}' });
    expect((await findNpmProject(parseNpmArguments(['ci', '--prefix', 'sub']), root, {}, unusable)).root).toBe(join(root, 'sub'));
    expect((await findNpmProject(parseNpmArguments(['-C', 'sub', 'ci']), root, {}, unusable)).via).toBe('prefix');
  });

  it('a workspace root above the member: npm is asked, and its answer must be that root or the member', async () => {
    const root = tree({ 'package.json': '{"workspaces":["packages/*"]}', 'packages/a/package.json': '{}', 'packages/a/src/x.js': '' });
    const member = join(root, 'packages', 'a');
    expect(await findNpmProject(parseNpmArguments(['ci']), join(member, 'src'), {}, fakeNpm(root, root))).toEqual({ root, via: 'workspace', nearest: member });
    expect((await findNpmProject(parseNpmArguments(['ci', '--no-workspaces']), member, {}, fakeNpm(root, member))).via).toBe('nearest');
    await expect(findNpmProject(parseNpmArguments(['ci']), member, {}, fakeNpm(root, '/elsewhere'))).rejects.toThrow(/neither the nearest project/);
    await expect(findNpmProject(parseNpmArguments(['ci']), member, {}, fakeNpm(root, null))).rejects.toThrow(/npm prefix.*exit 1.*boom/);
  });

  it('a package.json above that is not JSON may still be npm\'s workspace root: npm is asked', async () => {
    const root = tree({ 'package.json': '\uFEFF{"workspaces":["a"]}x', 'a/package.json': '{}' });
    await expect(findNpmProject(parseNpmArguments(['ci']), join(root, 'a'), {}, unusable)).rejects.toThrow();
  });
});

describe('parseNpmArguments: a boolean option takes a following true/false, as npm does', () => {
  it('--workspaces false install x is install', () => {
    const cmd = parseNpmArguments(['--workspaces', 'false', 'install', 'x']);
    expect(cmd.command).toBe('install');
    expect(cmd.positionals).toEqual(['x']);
    expect(cmd.options.get('workspaces')).toBe('false');
    expect(cmd.optionArgs).toEqual(['--workspaces', 'false']);
  });

  it('-g true is global; -s false keeps false as a word (it is --loglevel silent)', () => {
    expect(parseNpmArguments(['-g', 'true', 'install']).command).toBe('install');
    expect(parseNpmArguments(['install', '-s', 'false']).positionals).toEqual(['false']);
  });
});
