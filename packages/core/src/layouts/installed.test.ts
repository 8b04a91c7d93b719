import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Lockfile, PackageNode } from '../model.js';
import { installedManifestReader, installedStamp, mergedCopies, readInstalledFiles } from './installed.js';

const pkg: PackageNode = { id: 'left-pad@1.0.0', name: 'left-pad', version: '1.0.0', integrity: 'sha512-x', source: 'registry', registry: 'http://127.0.0.1:4998/', aliases: [], paths: ['node_modules/left-pad'], dependents: ['.'] };
const lockfile = { kind: 'npm', path: 'package-lock.json', packages: [pkg] } as unknown as Lockfile;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-installed-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('installed copies', () => {
  it('reads the manifest of the copy that is the package: scripts, binding.gyp and its hash', () => {
    const dir = project({
      'node_modules/left-pad/package.json': JSON.stringify({ name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'node x.js', test: 1 }, gypfile: false }),
      'node_modules/left-pad/binding.gyp': '{}',
    });
    const read = installedManifestReader(lockfile, dir);
    expect(read(pkg)).toEqual({ scripts: { postinstall: 'node x.js' }, bindingGyp: true, gypfile: false, bindingGypHash: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' });
    expect(read.at!(pkg, 'node_modules/left-pad')).toHaveProperty('manifest');
  });

  it('one reader reads each copy once: the judgement, the mismatch check and the build plan see the same bytes', () => {
    const dir = project({ 'node_modules/left-pad/package.json': JSON.stringify({ name: 'left-pad', version: '1.0.0' }) });
    const read = installedManifestReader(lockfile, dir);
    expect(read(pkg)?.scripts).toEqual({});
    // Rewritten after it was judged: this judgement keeps what it read; the next one (a new reader) reads anew.
    writeFileSync(join(dir, 'node_modules/left-pad/package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'node evil.js' } }));
    expect(read(pkg)?.scripts).toEqual({});
    expect(read.at!(pkg, 'node_modules/left-pad')).toEqual({ manifest: { scripts: {}, bindingGyp: false, gypfile: undefined } });
    expect(installedManifestReader(lockfile, dir)(pkg)?.scripts).toEqual({ postinstall: 'node evil.js' });
  });

  it('tells a folder that is not there from one that holds something else', () => {
    const dir = project({
      'node_modules/other/package.json': JSON.stringify({ name: 'left-pad', version: '2.0.0' }),
      'node_modules/no-manifest/index.js': '',
      'node_modules/broken/package.json': '{"name": "left-pad",',
      'node_modules/array/package.json': 'null',
      'node_modules/big/package.json': '',
      'node_modules/folder/package.json/x': '',
    });
    truncateSync(join(dir, 'node_modules/big/package.json'), 4 * 1024 * 1024 + 1);
    const read = installedManifestReader(lockfile, dir);
    expect(read(pkg)).toBeNull();
    expect(read.at!(pkg, 'node_modules/missing')).toEqual({ absent: true });
    expect(read.at!(pkg, 'node_modules/other')).toEqual({ differs: 'its package.json names left-pad@2.0.0' });
    expect(read.at!(pkg, 'node_modules/no-manifest')).toEqual({ differs: 'it has no readable package.json' });
    expect(read.at!(pkg, 'node_modules/broken')).toEqual({ differs: 'it has no readable package.json' });
    expect(read.at!(pkg, 'node_modules/array')).toEqual({ differs: 'its package.json is not an object' });
    expect(read.at!(pkg, 'node_modules/big')).toEqual({ differs: 'its package.json is too large to read' });
    expect(read.at!(pkg, 'node_modules/folder')).toEqual({ differs: 'it has no readable package.json' });
    expect(read.at!(pkg, '../outside')).toEqual({ differs: 'its path leaves the project' });
  });

  it('finds a copy by any spelling of its path that stays in the project, and none that leaves it; the stamp looks where the reads do', () => {
    const outside = project({ 'left-pad/package.json': JSON.stringify({ name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'node evil.js' } }) });
    const dir = join(outside, 'project');
    mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/left-pad/package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0' }));
    const read = installedManifestReader(lockfile, dir);
    // Plain paths are joined as they are; the others are resolved, and read when they stay inside.
    for (const path of ['node_modules/left-pad', './node_modules/left-pad', 'node_modules//left-pad', 'node_modules/x/../left-pad', 'node_modules/left-pad/']) {
      expect(read.at!(pkg, path), path).toEqual({ manifest: { scripts: {}, bindingGyp: false, gypfile: undefined } });
    }
    for (const path of ['../left-pad', 'node_modules/../../left-pad', join(outside, 'left-pad'), 'node_modules/a/../../../left-pad']) {
      expect(read.at!(pkg, path), path).toEqual({ differs: 'its path leaves the project' });
    }
    // A colon (a Windows drive, `C:x`) is never joined as it is: resolved, and here a folder of the project that is not there.
    expect(read.at!(pkg, 'C:left-pad')).toEqual({ absent: true });
    // The stamp covers the files the reads found, whatever the spelling, and nothing outside the project.
    const stamps = (now: number) => ['node_modules/left-pad', './node_modules/left-pad', 'node_modules/x/../left-pad', '../left-pad'].map((path) => installedStamp(dir, [path], now));
    const before = stamps(Date.now() + 10_000);
    expect(before.every((stamp) => stamp !== undefined)).toBe(true);
    writeFileSync(join(outside, 'left-pad/package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'node evil2.js' } }));
    expect(stamps(Date.now() + 10_000)).toEqual(before);
    writeFileSync(join(dir, 'node_modules/left-pad/package.json'), JSON.stringify({ name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'node x.js' } }));
    const after = stamps(Date.now() + 10_000);
    for (let i = 0; i < 3; i++) expect(after[i]).not.toBe(before[i]);
    expect(after[3]).toBe(before[3]);
  });
});

describe('installed files read up front (readInstalledFiles)', () => {
  const manifest = (extra: Record<string, unknown> = {}) => JSON.stringify({ name: 'left-pad', version: '1.0.0', scripts: { postinstall: 'node x.js' }, ...extra });
  const paths = ['', 'node_modules/left-pad', 'node_modules/missing', 'node_modules/no-manifest', '../outside'];
  /** A project in a folder of its own, beside another folder (`../outside`) with a package.json. */
  const setUp = () => {
    const dir = join(project({ 'outside/package.json': manifest() }), 'project');
    for (const [path, text] of Object.entries({ 'package.json': JSON.stringify({ name: 'app', version: '1.0.0' }), 'node_modules/left-pad/package.json': manifest(), 'node_modules/no-manifest/index.js': '' })) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };

  it('one digest for the same bytes; any byte, binding.gyp or folder that differs gives another', () => {
    const dir = setUp();
    const digest = () => readInstalledFiles(dir, paths)!.digest;
    const first = digest();
    expect(digest()).toBe(first);
    const seen = new Set([first]);
    const differs = (why: string) => {
      const now = digest();
      expect(seen.has(now), why).toBe(false);
      seen.add(now);
    };
    const file = join(dir, 'node_modules/left-pad/package.json');
    writeFileSync(file, manifest().replace('x.js', 'y.js'));
    differs('another command, same length');
    writeFileSync(join(dir, 'node_modules/left-pad/binding.gyp'), '{}');
    differs('a binding.gyp added');
    writeFileSync(join(dir, 'node_modules/left-pad/binding.gyp'), '[]');
    differs('the binding.gyp changed');
    writeFileSync(join(dir, 'node_modules/no-manifest/package.json'), manifest());
    differs('a package.json appeared');
    rmSync(join(dir, 'node_modules/no-manifest'), { recursive: true });
    differs('a folder without a readable package.json is gone');
    expect(readInstalledFiles(dir, [...paths, 'node_modules/left-pad'])!.digest, 'a path listed twice is read once').toBe(digest());
    // The paths themselves count: the same files under another path are another reading.
    expect(readInstalledFiles(dir, ['node_modules/left-pad'])!.digest).not.toBe(readInstalledFiles(dir, ['node_modules/./left-pad'])!.digest);
  });

  it('holds at most a bounded number of bytes: beyond it, nothing is read up front', () => {
    const dir = setUp();
    const size = Buffer.byteLength(manifest()) + Buffer.byteLength(JSON.stringify({ name: 'app', version: '1.0.0' }));
    expect(readInstalledFiles(dir, paths, size)).toBeDefined();
    expect(readInstalledFiles(dir, paths, size - 1)).toBeUndefined();
  });

  it('never reads outside the project, whatever is there', () => {
    const dir = setUp();
    const before = readInstalledFiles(dir, ['../outside'])!;
    writeFileSync(join(dir, '../outside/package.json'), manifest({ scripts: { postinstall: 'node evil.js' } }));
    expect(readInstalledFiles(dir, ['../outside'])!.digest).toBe(before.digest);
    expect(installedManifestReader(lockfile, dir, before).at!(pkg, '../outside')).toEqual({ differs: 'its path leaves the project' });
  });

  it('a reader given them judges exactly those bytes, and reads only the paths they do not hold', () => {
    const dir = setUp();
    const files = readInstalledFiles(dir, ['node_modules/left-pad', 'node_modules/missing'])!;
    // Changed on disk after the reading: the judgement still sees what the digest covers.
    writeFileSync(join(dir, 'node_modules/left-pad/package.json'), manifest({ scripts: { postinstall: 'node evil.js' } }));
    writeFileSync(join(dir, 'node_modules/left-pad/binding.gyp'), '{}');
    mkdirSync(join(dir, 'node_modules/missing'));
    writeFileSync(join(dir, 'node_modules/missing/package.json'), manifest());
    const read = installedManifestReader(lockfile, dir, files);
    expect(read(pkg)).toEqual({ scripts: { postinstall: 'node x.js' }, bindingGyp: false, gypfile: undefined });
    expect(read.at!(pkg, 'node_modules/missing')).toEqual({ absent: true });
    // A path the reading did not cover is read from disk.
    expect(read.at!(pkg, 'node_modules/no-manifest')).toEqual({ differs: 'it has no readable package.json' });
    // Without them, the disk as it is now.
    expect(installedManifestReader(lockfile, dir)(pkg)).toMatchObject({ scripts: { postinstall: 'node evil.js' }, bindingGyp: true });
  });
});

describe('a package installed at several paths', () => {
  const manifest = (name: string, version: string, scripts: Record<string, string> = {}) => JSON.stringify({ name, version, scripts });

  it('npm: every path the lockfile names is read, so a copy edited at the second path counts as one at the first does', () => {
    const twice: PackageNode = { ...pkg, paths: ['node_modules/a/node_modules/left-pad', 'node_modules/b/node_modules/left-pad'] };
    const dir = project({
      'node_modules/a/node_modules/left-pad/package.json': manifest('left-pad', '1.0.0'),
      'node_modules/b/node_modules/left-pad/package.json': manifest('left-pad', '1.0.0', { postinstall: 'node evil.js' }),
    });
    expect(installedManifestReader({ ...lockfile, packages: [twice] }, dir)(twice)?.scripts).toEqual({ postinstall: 'node evil.js' });
  });

  it('pnpm: each folder of the virtual store that holds the version is read, peers and patches in its name, shortened names too', () => {
    const qq: PackageNode = { ...pkg, id: 'qq@1.0.0', name: 'qq', version: '1.0.0', paths: ['qq@1.0.0(aaa@1.0.0)', 'qq@1.0.0(aaa@2.0.0)'] };
    const pnpm = { kind: 'pnpm', path: 'pnpm-lock.yaml', packages: [qq] } as unknown as Lockfile;
    const files: Record<string, string> = {
      // A variant without peers is not there: only the two with peers are.
      'node_modules/.pnpm/qq@1.0.0_aaa@1.0.0/node_modules/qq/package.json': manifest('qq', '1.0.0'),
      'node_modules/.pnpm/qq@1.0.0_aaa@2.0.0/node_modules/qq/package.json': manifest('qq', '1.0.0', { postinstall: 'node evil.js' }),
      // Another version whose name begins the same, and another package: not read as qq@1.0.0.
      'node_modules/.pnpm/qq@1.0.0-beta.1/node_modules/qq/package.json': manifest('qq', '1.0.0-beta.1', { preinstall: 'x' }),
      'node_modules/.pnpm/qqq@1.0.0/node_modules/qqq/package.json': manifest('qqq', '1.0.0', { install: 'x' }),
    };
    const dir = project(files);
    expect(installedManifestReader(pnpm, dir)(qq)?.scripts).toEqual({ postinstall: 'node evil.js' });

    // A name pnpm shortens with a hash (too long, or not lower case): its front is the name, the version, maybe peers.
    const upper: PackageNode = { ...pkg, id: 'JSONStream@1.3.5', name: 'JSONStream', version: '1.3.5', paths: ['JSONStream@1.3.5'] };
    const long: PackageNode = { ...pkg, id: 'x', name: `@scope/${'l'.repeat(80)}`, version: '2.0.0', paths: [] };
    const shortened = project({
      'node_modules/.pnpm/JSONStream@1.3.5_3iad3o6fcbqnlv2tx4nm6lhf5y/node_modules/JSONStream/package.json': manifest('JSONStream', '1.3.5', { install: 'x' }),
      [`node_modules/.pnpm/@scope+${'l'.repeat(80)}@2._abcdefghijklmnopqrstuvwxyz/node_modules/@scope/${'l'.repeat(80)}/package.json`]: manifest(long.name, '2.0.0', { postinstall: 'y' }),
    });
    const read = installedManifestReader({ ...pnpm, packages: [upper, long] } as Lockfile, shortened);
    expect(read(upper)?.scripts).toEqual({ install: 'x' });
    expect(read(long)?.scripts).toEqual({ postinstall: 'y' });
  });

  it('Yarn: every location its node-modules linker recorded for the locator, nested copies too', () => {
    const aaa: PackageNode = { ...pkg, id: 'aaa@1.0.0', name: 'aaa', version: '1.0.0', paths: ['aaa@npm:1.0.0'] };
    const yarn = { kind: 'yarn', path: 'yarn.lock', packages: [aaa] } as unknown as Lockfile;
    const dir = project({
      'node_modules/.yarn-state.yml': ['__metadata:', '  version: 1', '  nmMode: classic', '', '"aaa@npm:1.0.0":', '  locations:', '    - "node_modules/yy/node_modules/aaa"', '    - "node_modules/xx/node_modules/aaa"', '    - "../outside/aaa"', ''].join('\n'),
      'node_modules/aaa/package.json': manifest('aaa', '2.0.0', { install: 'another version' }),
      'node_modules/yy/node_modules/aaa/package.json': manifest('aaa', '1.0.0'),
      'node_modules/xx/node_modules/aaa/package.json': manifest('aaa', '1.0.0', { postinstall: 'node evil.js' }),
    });
    expect(installedManifestReader(yarn, dir)(aaa)?.scripts).toEqual({ postinstall: 'node evil.js' });
    // Without the record (another linker, or removed): by name, as before.
    rmSync(join(dir, 'node_modules/.yarn-state.yml'));
    expect(installedManifestReader(yarn, dir)(aaa)).toBeNull();
  });

  it('pnpm without a virtual store to list (another linker): the project\'s own node_modules, as before', () => {
    const hoisted = project({ 'node_modules/left-pad/package.json': manifest('left-pad', '1.0.0', { install: 'x' }) });
    const pnpm = { kind: 'pnpm', path: 'pnpm-lock.yaml', packages: [pkg] } as unknown as Lockfile;
    expect(installedManifestReader(pnpm, hoisted)(pkg)?.scripts).toEqual({ install: 'x' });
  });

  it('copies that disagree: every script counts, a command line or binding.gyp they disagree about is unknown', () => {
    const a = { scripts: { postinstall: 'node a.js' }, bindingGyp: true, gypfile: false, bindingGypHash: 'sha256:1' };
    const b = { scripts: { postinstall: 'node b.js', preinstall: 'node p.js' }, bindingGyp: true, gypfile: undefined, bindingGypHash: 'sha256:2' };
    expect(mergedCopies([a, a])).toEqual(a);
    const merged = mergedCopies([a, b]);
    expect({ ...merged.scripts }).toEqual({ postinstall: '', preinstall: 'node p.js' });
    expect(merged.bindingGyp).toBe(true);
    expect(merged.gypfile).toBeUndefined();
    expect(merged.bindingGypHash).toBeUndefined();
    expect(mergedCopies([{ ...a, bindingGyp: false, bindingGypHash: undefined }, a]).bindingGypHash).toBe('sha256:1');
  });

  it('a package.json declaring workspaces is said so, and any copy that declares them counts (tenth wave G2)', () => {
    const dir = project({ 'node_modules/left-pad/package.json': JSON.stringify({ name: 'left-pad', version: '1.0.0', workspaces: [] }) });
    const npm = { kind: 'npm', path: 'package-lock.json', packages: [{ ...pkg, paths: ['node_modules/left-pad'] }] } as unknown as Lockfile;
    expect(installedManifestReader(npm, dir)({ ...pkg, paths: ['node_modules/left-pad'] })?.workspaces).toBe(true);
    const plain = { scripts: {}, bindingGyp: false, gypfile: undefined };
    expect(mergedCopies([plain, { ...plain, workspaces: true as const }]).workspaces).toBe(true);
    expect(mergedCopies([plain, plain]).workspaces).toBeUndefined();
  });
});

describe('the stat of installed files (installedStamp)', () => {
  // Every file is "settled" for a clock this far ahead; a change made now still is, and must give another stamp.
  const later = () => Date.now() + 60_000;
  function tree() {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-stamp-'));
    for (const name of ['a', 'b']) {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
    }
    return { dir, paths: ['node_modules/a', 'node_modules/b', 'node_modules/gone'] };
  }

  it('the same files give the same stamp; files changed within the last 3 s give none', () => {
    const { dir, paths } = tree();
    expect(installedStamp(dir, paths, later())).toBe(installedStamp(dir, paths, later()));
    expect(installedStamp(dir, paths, Date.now())).toBeUndefined();
  });

  it('every change a judgement could read gives another stamp: a package.json rewritten, a binding.gyp added or changed, a folder replaced, removed or appearing', () => {
    const changes: Array<[string, (dir: string) => void]> = [
      ['package.json rewritten', (dir) => writeFileSync(join(dir, 'node_modules/a/package.json'), JSON.stringify({ name: 'a', version: '1.0.0' }))],
      ['binding.gyp added', (dir) => writeFileSync(join(dir, 'node_modules/a/binding.gyp'), '{}')],
      [
        'folder replaced by another',
        (dir) => {
          mkdirSync(join(dir, 'other'));
          writeFileSync(join(dir, 'other/package.json'), JSON.stringify({ name: 'a', version: '1.0.0' }));
          rmSync(join(dir, 'node_modules/a'), { recursive: true });
          renameSync(join(dir, 'other'), join(dir, 'node_modules/a'));
        },
      ],
      ['folder removed', (dir) => rmSync(join(dir, 'node_modules/b'), { recursive: true })],
      ['folder without package.json appearing', (dir) => mkdirSync(join(dir, 'node_modules/gone'))],
      ['folder replaced by a link to another', (dir) => {
        mkdirSync(join(dir, 'elsewhere'));
        writeFileSync(join(dir, 'elsewhere/package.json'), JSON.stringify({ name: 'b', version: '1.0.0' }));
        rmSync(join(dir, 'node_modules/b'), { recursive: true });
        symlinkSync(join(dir, 'elsewhere'), join(dir, 'node_modules/b'));
      }],
    ];
    for (const [what, change] of changes) {
      const { dir, paths } = tree();
      writeFileSync(join(dir, 'node_modules/b/binding.gyp'), '{}');
      const before = installedStamp(dir, paths, later());
      expect(before, what).toBeDefined();
      change(dir);
      expect(installedStamp(dir, paths, later()), what).not.toBe(before);
    }
    // A binding.gyp that was there, rewritten.
    const { dir, paths } = tree();
    writeFileSync(join(dir, 'node_modules/b/binding.gyp'), '{}');
    const before = installedStamp(dir, paths, later());
    writeFileSync(join(dir, 'node_modules/b/binding.gyp'), '{"targets":[]}');
    expect(installedStamp(dir, paths, later())).not.toBe(before);
  });

  it('never throws, and changes nothing on disk, whatever the paths and the project folder', () => {
    const { dir, paths } = tree();
    const before = installedStamp(dir, paths, later());
    // Paths that leave the project, go through a file, or are empty; a project folder that is not there.
    const odd = ['../../etc', 'node_modules/a/package.json/inner', '', 'node_modules/../../x'];
    expect(() => installedStamp(dir, odd, later())).not.toThrow();
    expect(() => installedStamp(join(dir, 'missing'), paths, later())).not.toThrow();
    expect(installedStamp(dir, paths, later())).toBe(before);
  });
});
