import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { findLockfile, pnpmBranchLockfiles, readLockfile } from './index.js';

const registryFor = () => 'https://npm.example.corp/';
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const project = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-lockfile-'));
  for (const [name, from] of Object.entries(files)) copyFileSync(fixture(from), join(dir, name));
  return dir;
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as PortcullisError).code;
  }
  return 'no error';
};

describe('findLockfile', () => {
  it('finds the one lockfile: npm-shrinkwrap.json or package-lock.json', () => {
    for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
      const dir = project({ [name]: 'npm11-v3.package-lock.json' });
      expect(findLockfile(dir)).toEqual({ kind: 'npm', path: join(dir, name) });
    }
  });

  it('asks which npm lockfile when both are there: npm 10 and 11 install npm-shrinkwrap.json, npm 12 package-lock.json', () => {
    const dir = project({ 'package-lock.json': 'npm11-v3.package-lock.json', 'npm-shrinkwrap.json': 'npm11-v2.package-lock.json' });
    for (const kind of [undefined, 'npm'] as const) {
      expect(code(() => findLockfile(dir, kind))).toBe('USAGE');
      expect(() => findLockfile(dir, kind)).toThrow(/npm 12 from package-lock.json only/);
    }
  });

  it('asks which one when several package managers left lockfiles, unless told', () => {
    const dir = project({ 'pnpm-lock.yaml': 'pnpm10.pnpm-lock.yaml', 'yarn.lock': 'yarn4.yarn.lock' });
    expect(() => findLockfile(dir)).toThrow(/pnpm-lock.yaml and yarn.lock/);
    expect(code(() => findLockfile(dir))).toBe('USAGE');
    expect(findLockfile(dir, 'yarn').path).toBe(join(dir, 'yarn.lock'));
  });

  it('asks to merge or delete pnpm git-branch lockfiles beside pnpm-lock.yaml: which one pnpm installs depends on the branch and settings', () => {
    const dir = project({ 'pnpm-lock.yaml': 'pnpm10.pnpm-lock.yaml', 'pnpm-lock.main.yaml': 'pnpm10.pnpm-lock.yaml', 'pnpm-lock.feature!x.yaml': 'pnpm10.pnpm-lock.yaml' });
    for (const kind of [undefined, 'pnpm'] as const) {
      expect(code(() => findLockfile(dir, kind))).toBe('USAGE');
      expect(() => findLockfile(dir, kind)).toThrow(/pnpm-lock\.feature!x\.yaml, pnpm-lock\.main\.yaml/);
      expect(() => findLockfile(dir, kind)).toThrow(/pnpm install --merge-git-branch-lockfiles/);
    }
    // Only pnpm's own name pattern: another file beside it is not a branch lockfile.
    const other = project({ 'pnpm-lock.yaml': 'pnpm10.pnpm-lock.yaml', 'pnpm-lock.yaml.orig': 'pnpm10.pnpm-lock.yaml', 'pnpm-lockfile.yaml': 'pnpm10.pnpm-lock.yaml' });
    expect(findLockfile(other)).toEqual({ kind: 'pnpm', path: join(other, 'pnpm-lock.yaml') });
    expect(pnpmBranchLockfiles(dir)).toEqual(['pnpm-lock.feature!x.yaml', 'pnpm-lock.main.yaml']);
  });

  it('says LOCKFILE_NOT_FOUND when there is none', () => {
    expect(code(() => findLockfile(mkdtempSync(join(tmpdir(), 'portcullis-empty-'))))).toBe('LOCKFILE_NOT_FOUND');
  });
});

describe('readLockfile', () => {
  it('dispatches by file name and takes the lockfile folder as the project', () => {
    const dir = project({ 'package-lock.json': 'npm11-v3.package-lock.json', 'pnpm-lock.yaml': 'pnpm10.pnpm-lock.yaml', 'yarn.lock': 'yarn4.yarn.lock' });
    for (const [name, kind] of [['package-lock.json', 'npm'], ['pnpm-lock.yaml', 'pnpm'], ['yarn.lock', 'yarn']] as const) {
      const lockfile = readLockfile(join(dir, name), { registryFor });
      expect(lockfile).toMatchObject({ kind, path: join(dir, name) });
      expect(lockfile.packages.find((p) => p.name === 'local-dep')?.insideProject).toBe(true);
    }
  });

  it('refuses files over the size limit before reading them', () => {
    const dir = project({ 'yarn.lock': 'yarn4.yarn.lock' });
    expect(code(() => readLockfile(join(dir, 'yarn.lock'), { registryFor, maxBytes: 100 }))).toBe('INPUT_TOO_LARGE');
  });

  it('reports a missing file, an unknown name and broken content with distinct codes', () => {
    const dir = project({});
    expect(code(() => readLockfile(join(dir, 'pnpm-lock.yaml'), { registryFor }))).toBe('LOCKFILE_NOT_FOUND');
    expect(code(() => readLockfile(join(dir, 'bun.lock'), { registryFor }))).toBe('USAGE');
    writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion": 3, "packages": [');
    expect(code(() => readLockfile(join(dir, 'package-lock.json'), { registryFor }))).toBe('LOCKFILE_INVALID');
  });
});
