import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { findAllowlists, lavamoatAllowScripts, pinImported, writeImportedApprovals } from './allowlists.js';
import type { ProjectFiles } from './detect.js';

const files = (entries: Record<string, string>): ProjectFiles => ({ exists: (name) => Object.hasOwn(entries, name), read: (name) => (Object.hasOwn(entries, name) ? entries[name] : undefined) });
const pkg = (name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode => ({ id: `${name}@${version}`, name, version, source: 'registry', aliases: [], paths: [], dependents: [], ...extra });

describe('findAllowlists: every allowlist pnpm, npm, Yarn and LavaMoat read', () => {
  it('reads each place, true entries only, and says where each came from', () => {
    const found = findAllowlists(
      files({
        'pnpm-workspace.yaml': 'allowBuilds:\n  esbuild: true\n  evil: false\nonlyBuiltDependencies:\n  - sharp\n',
        '.npmrc': 'registry=http://127.0.0.1:4873/\nonly-built-dependencies[]=better-sqlite3\n',
        'package.json': JSON.stringify({
          packageManager: 'pnpm@10.34.8',
          pnpm: { onlyBuiltDependencies: ['bcrypt'], allowBuilds: { 'core-js': true } },
          allowScripts: { 'node-sass@9.0.0': true, denied: false },
          dependenciesMeta: { fsevents: { built: true }, nope: { built: false } },
          lavamoat: { allowScripts: { 'webpack>watchpack>chokidar>fsevents': true, 'keccak': true, 'secp256k1': false } },
        }),
      }),
    );
    expect(found.entries).toEqual([
      { entry: 'esbuild', from: 'pnpm-workspace.yaml' },
      { entry: 'sharp', from: 'pnpm-workspace.yaml' },
      { entry: 'better-sqlite3', from: '.npmrc only-built-dependencies' },
      { entry: 'core-js', from: 'package.json pnpm' },
      { entry: 'bcrypt', from: 'package.json pnpm' },
      { entry: 'node-sass@9.0.0', from: 'package.json allowScripts' },
      { entry: 'fsevents', from: 'package.json dependenciesMeta' },
      { entry: 'fsevents', from: 'package.json lavamoat.allowScripts' },
      { entry: 'keccak', from: 'package.json lavamoat.allowScripts' },
    ]);
    expect(found.skipped).toEqual([]);
  });

  it('onlyBuiltDependencies (pnpm-workspace.yaml, package.json, .npmrc) is not carried over when package.json declares pnpm 11+, which ignores it; allowBuilds is', () => {
    const sources = {
      'pnpm-workspace.yaml': 'allowBuilds:\n  esbuild: true\nonlyBuiltDependencies:\n  - sharp\n',
      '.npmrc': 'only-built-dependencies[]=better-sqlite3\n',
    };
    for (const packageManager of ['pnpm@11.28.0', 'pnpm@12.21.0']) {
      const found = findAllowlists(files({ ...sources, 'package.json': JSON.stringify({ packageManager, pnpm: { onlyBuiltDependencies: ['bcrypt'] } }) }));
      expect(found.entries).toEqual([{ entry: 'esbuild', from: 'pnpm-workspace.yaml' }]);
      expect(found.skipped).toEqual([
        'sharp (onlyBuiltDependencies: the pnpm this repository declares ignores it; only pnpm 10 reads it) (pnpm-workspace.yaml)',
        'better-sqlite3 (onlyBuiltDependencies: the pnpm this repository declares ignores it; only pnpm 10 reads it) (.npmrc only-built-dependencies)',
        'bcrypt (onlyBuiltDependencies: the pnpm this repository declares ignores it; only pnpm 10 reads it) (package.json pnpm)',
      ]);
    }
    expect(findAllowlists(files({ ...sources, 'package.json': JSON.stringify({ packageManager: 'pnpm@10.34.8' }) })).entries.map((e) => e.entry)).toEqual(['esbuild', 'sharp', 'better-sqlite3']);
    expect(findAllowlists(files({ ...sources, 'package.json': '{}' })).entries.map((e) => e.entry)).toEqual(['esbuild', 'sharp', 'better-sqlite3']);
  });

  it('never widens: scope wildcards and allow-all are not carried over; broken files are skipped with a note', () => {
    const found = findAllowlists(files({ 'pnpm-workspace.yaml': 'onlyBuiltDependencies:\n  - "@acme/*"\ndangerouslyAllowAllBuilds: true\n', 'package.json': '{ not json' }));
    expect(found.entries).toEqual([]);
    expect(found.skipped.join('\n')).toContain('@acme/*');
    expect(found.skipped.join('\n')).toContain('dangerouslyAllowAllBuilds');
    expect(found.skipped).toContain('package.json (not valid JSON)');
    expect(findAllowlists(files({ 'pnpm-workspace.yaml': 'a: [\n' })).entries).toEqual([]);
    expect(lavamoatAllowScripts({ lavamoat: { allowScripts: { '>': true, 'a>@x/*': true } } }).allow).toEqual([]);
  });
});

describe('pinImported', () => {
  it('pins to every version the lockfile installs, keeps an entry the lockfile does not have as written, and merges origins', () => {
    const packages = [pkg('esbuild', '0.25.0'), pkg('esbuild', '0.24.2'), pkg('sharp', '0.34.5'), pkg('mine', '1.0.0', { source: 'workspace' })];
    expect(
      pinImported(
        [
          { entry: 'esbuild', from: 'a' },
          { entry: 'sharp@^0.34.0', from: 'b' },
          { entry: 'sharp', from: 'c' },
          { entry: 'gone', from: 'a' },
          { entry: 'mine', from: 'a' },
        ],
        packages,
      ),
    ).toEqual([
      { entry: 'esbuild@0.24.2', from: ['a'] },
      { entry: 'esbuild@0.25.0', from: ['a'] },
      { entry: 'gone', from: ['a'] },
      { entry: 'mine', from: ['a'] },
      { entry: 'sharp@0.34.5', from: ['b', 'c'] },
    ]);
    expect(pinImported([{ entry: 'esbuild', from: 'a' }], [])).toEqual([{ entry: 'esbuild', from: ['a'] }]);
  });
});

describe('writeImportedApprovals', () => {
  it('creates a starter policy, then adds only what is missing, and writes nothing when nothing is', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pc-import-')), 'portcullis.json');
    expect(writeImportedApprovals(file, ['a@1.0.0'])).toEqual({ file, created: true, added: ['a@1.0.0'] });
    expect(existsSync(file)).toBe(true);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"a@1.0.0"', '"a@1.0.0"'));
    expect(writeImportedApprovals(file, ['a@1.0.0', 'b@2.0.0']).added).toEqual(['b@2.0.0']);
    const after = readFileSync(file, 'utf8');
    expect(writeImportedApprovals(file, ['b@2.0.0', 'a@1.0.0'])).toEqual({ file, created: false, added: [] });
    expect(readFileSync(file, 'utf8')).toBe(after);
  });
});
