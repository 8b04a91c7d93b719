import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NPM_PACK_MTIME, integrityOf, packRawTarball, packTar, packTarball, readTarball, shasumOf, type TarballEntry } from './tarball.js';

const files: TarballEntry[] = [
  { path: 'package.json', content: Buffer.from('{"name":"x","version":"1.0.0"}\n'), mode: 0o644 },
  { path: 'bin/cli.js', content: Buffer.from('#!/usr/bin/env node\n'), mode: 0o755 },
  { path: 'data/empty.txt', content: Buffer.alloc(0), mode: 0o644 },
  { path: 'big.bin', content: Buffer.alloc(1300, 7), mode: 0o644 },
];

describe('packTarball', () => {
  it('round-trips files under package/, sorted', () => {
    const back = readTarball(packTarball(files));
    expect(back.map((entry) => entry.path)).toEqual(['big.bin', 'bin/cli.js', 'data/empty.txt', 'package.json']);
    for (const entry of files) {
      const found = back.find((candidate) => candidate.path === entry.path)!;
      expect(found.content.equals(entry.content)).toBe(true);
      expect(found.mode).toBe(entry.mode);
    }
  });

  it('writes valid ustar headers: prefix package/, magic, checksum, fixed mtime, 512-byte blocks', () => {
    const tar = gunzipSync(packTarball(files));
    expect(tar.length % 512).toBe(0);
    const header = tar.subarray(0, 512);
    expect(header.toString('utf8', 0, 16)).toBe('package/big.bin\0');
    expect(header.toString('ascii', 257, 265)).toBe('ustar\u000000');
    expect(parseInt(header.toString('ascii', 136, 147), 8)).toBe(NPM_PACK_MTIME);
    expect(parseInt(header.toString('ascii', 124, 135), 8)).toBe(1300);
    const stored = parseInt(header.toString('ascii', 148, 154), 8);
    const copy = Buffer.from(header);
    copy.fill(0x20, 148, 156);
    expect(copy.reduce((sum, byte) => sum + byte, 0)).toBe(stored);
    expect(tar.subarray(-1024).every((byte) => byte === 0)).toBe(true);
  });

  it('is deterministic: same files in any order give the same bytes', () => {
    expect(packTarball(files).equals(packTarball([...files].reverse()))).toBe(true);
  });

  it('splits long paths into the ustar prefix field', () => {
    const path = `${'deep/'.repeat(25)}file.js`; // > 100 bytes
    const back = readTarball(packTar([{ path, content: Buffer.from('x'), mode: 0o644 }]));
    expect(back[0]!.path).toBe(path);
  });

  it('rejects paths that escape the package or repeat', () => {
    for (const path of ['../evil', '/abs', 'a//b', 'a/./b', '']) {
      expect(() => packTarball([{ path, content: Buffer.alloc(0), mode: 0o644 }]), path).toThrow(/invalid tarball path/);
    }
    expect(() => packTarball([files[0]!, files[0]!])).toThrow(/duplicate/);
  });
});

describe('readTarball', () => {
  it('rejects data that is not a tar archive', () => {
    expect(() => readTarball(Buffer.from('not a tar'))).toThrow(/not a tar archive/);
    expect(() => readTarball(Buffer.alloc(1024, 0x41))).toThrow(/bad header checksum/);
  });
});

describe('digests', () => {
  it('integrity is sha512 SRI over the gzipped bytes; shasum is hex sha1', () => {
    const bytes = packTarball(files);
    expect(integrityOf(bytes)).toBe(`sha512-${createHash('sha512').update(bytes).digest('base64')}`);
    expect(shasumOf(bytes)).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe('packRawTarball: an attacker\'s tarball, paths and links as given', () => {
  it('keeps `./` and `//` in paths, the order given, and link entries with their target', () => {
    const tar = gunzipSync(packRawTarball([{ path: 'package//b', content: 'x' }, { path: 'package/./a', content: 'y' }, { path: 'package/l', type: '2', linkname: '../a' }]));
    const name = (at: number) => tar.toString('utf8', at, at + 100).replace(/\0.*$/s, '');
    expect([name(0), name(1024), name(2048)]).toEqual(['package//b', 'package/./a', 'package/l']);
    expect(String.fromCharCode(tar[2048 + 156]!)).toBe('2');
    expect(tar.toString('utf8', 2048 + 157, 2048 + 161)).toBe('../a');
  });
});
