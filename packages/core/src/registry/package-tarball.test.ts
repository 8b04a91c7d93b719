import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundledManifestFiles, readTarballFiles, tarballFilePaths, TarballError } from './package-tarball.js';
import { tgz } from './tarball.fixture.js';

const LIMITS = { compressed: 1024 * 1024, uncompressed: 8 * 1024 * 1024 };

describe('tarballFilePaths: which files a package tarball holds (the copies a bundling parent ships)', () => {
  it('lists its regular files without their first segment, whatever it is named; folders and links are not files', () => {
    const archive = tgz([
      { path: 'package/package.json', content: '{}' },
      { path: 'package/node_modules/bar/package.json', content: '{}' },
      { path: 'package/node_modules/bar/node_modules/baz/package.json', content: '{}' },
      { path: 'package/node_modules/dir/', type: '5' },
      { path: 'package/node_modules/link/package.json', type: '2' },
      { path: 'other-root/node_modules/qux/package.json', content: '{}' },
    ]);
    expect([...tarballFilePaths(archive, LIMITS)].sort()).toEqual(['node_modules/bar/node_modules/baz/package.json', 'node_modules/bar/package.json', 'node_modules/qux/package.json', 'package.json']);
  });

  it('refuses what readTarballFiles refuses: paths outside the folder, more than the limits', () => {
    expect(() => tarballFilePaths(tgz([{ path: 'package/../../x/package.json', content: '{}' }]), LIMITS)).toThrow(TarballError);
    expect(() => tarballFilePaths(tgz([{ path: 'package/a', content: 'x'.repeat(4096) }]), { compressed: LIMITS.compressed, uncompressed: 1024 })).toThrow(/inflates/);
    expect(() => readTarballFiles(tgz([{ path: 'package/../x', content: '' }]), ['package/x'], { ...LIMITS, file: 10 })).toThrow(TarballError);
  });
});

describe('bundledManifestFiles: the package.json of every copy a tarball ships under its node_modules (N3)', () => {
  const limits = { ...LIMITS, file: 1024 };
  it('reads nested and scoped copies, whatever the first folder is named; nothing else', () => {
    const archive = tgz([
      { path: 'package/package.json', content: '{"name":"carrier"}' },
      { path: 'package/node_modules/a/package.json', content: '{"name":"a","version":"1.0.0"}' },
      { path: 'package/node_modules/a/node_modules/@s/b/package.json', content: '{"name":"@s/b","version":"2.0.0"}' },
      { path: 'package/node_modules/a/test/package.json', content: '{}' },
      { path: 'package/lib/node_modules/c/package.json', content: '{}' },
      { path: 'package/node_modules/a/index.js', content: '' },
    ]);
    const found = bundledManifestFiles(archive, limits);
    expect([...found.keys()].sort()).toEqual(['node_modules/a/node_modules/@s/b/package.json', 'node_modules/a/package.json']);
    expect(Buffer.from(found.get('node_modules/a/package.json')!).toString()).toBe('{"name":"a","version":"1.0.0"}');
  });

  it('reads a copy whose path is spelt with `.` or empty segments, as the clients unpack it (round 46, N3e)', () => {
    for (const path of ['package/./node_modules/a/package.json', 'package//node_modules/a/package.json', 'package/node_modules/./a/package.json', './node_modules//a/./package.json']) {
      const found = bundledManifestFiles(tgz([{ path, content: '{"name":"a","version":"1.0.0"}' }]), limits);
      expect([...found.keys()], path).toEqual(['node_modules/a/package.json']);
    }
    // Two spellings of one path are the same file given twice: which one a client keeps is not ours to guess.
    expect(() => bundledManifestFiles(tgz([{ path: 'package/node_modules/a/package.json', content: '{}' }, { path: 'package/./node_modules/a/package.json', content: '{}' }]), limits)).toThrow(/twice/);
    expect(readTarballFiles(tgz([{ path: 'package/./portcullis.json', content: '{}' }]), ['package/portcullis.json'], limits).size).toBe(1);
  });

  it('refuses a pax size other than its entry\'s header gives, which pnpm and npm unpack by (round 46, N3f)', () => {
    // The copy's entries hidden as README's bytes: the unpackers read README as empty (pax size=0), then the copy.
    const copy = gunzipSync(tgz([{ path: 'package/node_modules/a/package.json', content: '{"name":"a","version":"1.0.0"}' }])).subarray(0, -1024);
    const hiding = [{ path: 'package/PaxHeader', type: 'x', content: '9 size=0\n' }, { path: 'package/README', content: copy }];
    expect(() => bundledManifestFiles(tgz(hiding), limits)).toThrow(/another size/);
    expect(() => bundledManifestFiles(tgz([{ path: 'package/PaxHeader', type: 'x', content: '9 size=0\n' }, { path: 'package/L', type: 'L', content: 'x' }]), limits)).toThrow(/another size/);
    expect(() => bundledManifestFiles(tgz([{ path: 'package/PaxHeader', type: 'g', content: '9 size=0\n' }]), limits)).toThrow(/global pax/);
    expect(() => bundledManifestFiles(tgz([{ path: 'package/PaxHeader', type: 'g', content: '14 path=a/b/c\n' }]), limits)).toThrow(/global pax/);
    // A pax size that agrees with its header (as a packer writes it) is read as before.
    const agreed = bundledManifestFiles(tgz([{ path: 'x', type: 'x', content: '11 size=30\n' }, { path: 'package/node_modules/a/package.json', content: '{"name":"a","version":"1.0.0"}' }]), limits);
    expect([...agreed.keys()]).toEqual(['node_modules/a/package.json']);
  });

  it('keeps a GNU long name across a pax header without a path, and refuses an entry two extended headers name (round 46, N3g)', () => {
    const copy = '{"name":"a","version":"1.0.0"}';
    const kept = bundledManifestFiles(tgz([{ path: '././@LongLink', type: 'L', content: 'package/node_modules/a/package.json' }, { path: 'PaxHeader', type: 'x', content: '12 comment=\n' }, { path: 'package/README', content: copy }]), limits);
    expect([...kept.keys()]).toEqual(['node_modules/a/package.json']);
    expect(() => bundledManifestFiles(tgz([{ path: '././@LongLink', type: 'L', content: 'package/node_modules/a/package.json' }, { path: 'PaxHeader', type: 'x', content: '23 path=package/README\n' }, { path: 'package/README', content: copy }]), limits)).toThrow(/two extended headers/);
  });

  it('strips the first segment as written, `.` included, as the unpackers do (round 46, fourteenth wave P1)', () => {
    const copy = '{"name":"a","version":"1.0.0"}';
    // pnpm and node-tar strip `.` as the package's folder: `./node_modules/a` lands in the package's node_modules.
    expect([...bundledManifestFiles(tgz([{ path: './node_modules/a/package.json', content: copy }]), limits).keys()]).toEqual(['node_modules/a/package.json']);
    expect([...bundledManifestFiles(tgz([{ path: '././node_modules/a/package.json', content: copy }]), limits).keys()]).toEqual(['node_modules/a/package.json']);
    // `./package/node_modules/a` lands in the package's own `package/` folder: not a copy require finds.
    expect([...bundledManifestFiles(tgz([{ path: './package/node_modules/a/package.json', content: copy }]), limits).keys()]).toEqual([]);
    expect([...tarballFilePaths(tgz([{ path: './node_modules/a/index.js', content: '' }]), LIMITS)]).toEqual(['node_modules/a/index.js']);
  });

  it('counts a pax record\'s length in bytes, as the unpackers do, and refuses records they would split otherwise (round 46, fourteenth wave P2)', () => {
    const record = (key: string, value: string) => {
      const body = ` ${key}=${value}\n`;
      let length = Buffer.byteLength(body) + 1;
      while (String(length).length + Buffer.byteLength(body) !== length) length++;
      return `${length}${body}`;
    };
    const path = record('path', 'package/node_modules/a/package.json');
    // Counted in characters, this comment swallowed the path record after it and the entry was read as README.
    const comment = record('comment', 'é'.repeat(Buffer.byteLength(path)));
    const found = bundledManifestFiles(tgz([{ path: 'PaxHeader', type: 'x', content: comment + path }, { path: 'package/README', content: '{"name":"a","version":"1.0.0"}' }]), limits);
    expect([...found.keys()]).toEqual(['node_modules/a/package.json']);
    // node-tar splits records at newlines, pnpm goes by their lengths: a path holding a newline, or a record that does not end in one, is not read.
    expect(() => bundledManifestFiles(tgz([{ path: 'PaxHeader', type: 'x', content: record('path', 'package/x\n17 path=package/y') }, { path: 'package/README', content: '' }]), limits)).toThrow(/newline/);
    expect(() => bundledManifestFiles(tgz([{ path: 'PaxHeader', type: 'x', content: '14 path=a/b/cd' }, { path: 'package/README', content: '' }]), limits)).toThrow(/malformed/);
    expect(() => bundledManifestFiles(tgz([{ path: 'PaxHeader', type: 'x', content: '0x0e path=a/b/c\n' }, { path: 'package/README', content: '' }]), limits)).toThrow(/malformed/);
  });

  it('reads a prefix only in a POSIX ustar header, and refuses prefix bytes in an old GNU or v7 header (round 46, fourteenth wave P3)', () => {
    const copy = '{"name":"a","version":"1.0.0"}';
    const withHeader = (magic: string | null, prefix: string) => {
      const tar = gunzipSync(tgz([{ path: 'package/node_modules/a/package.json', content: copy }]));
      const header = tar.subarray(0, 512);
      if (magic === null) header.fill(0, 257, 265);
      else header.write(magic, 257, 8, 'latin1');
      header.write(prefix, 345, 155, 'utf8');
      header.fill(' ', 148, 156);
      let sum = 0;
      for (const b of header) sum += b;
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
      return gzipSync(tar);
    };
    // pnpm 12 and node-tar ignore these bytes (the copy lands in node_modules/a), pnpm 10 and 11 read them as a prefix.
    expect(() => bundledManifestFiles(withHeader('ustar  \0', 'x'), limits)).toThrow(/not POSIX ustar/);
    expect(() => bundledManifestFiles(withHeader(null, 'x'), limits)).toThrow(/not POSIX ustar/);
    expect([...bundledManifestFiles(withHeader('ustar  \0', ''), limits).keys()]).toEqual(['node_modules/a/package.json']);
    // In a POSIX ustar header every unpacker reads it: `x/package/node_modules/a` is not a copy.
    expect([...bundledManifestFiles(withHeader('ustar\u000000', 'x'), limits).keys()]).toEqual([]);
  });

  it('refuses entries after a lone zero block, which node-tar unpacks and pnpm does not (round 46, fourteenth wave P4)', () => {
    const head = gunzipSync(tgz([{ path: 'package/package.json', content: '{}' }])).subarray(0, -1024);
    const copy = gunzipSync(tgz([{ path: 'package/node_modules/a/package.json', content: '{"name":"a","version":"1.0.0"}' }]));
    expect(() => bundledManifestFiles(gzipSync(Buffer.concat([head, Buffer.alloc(512), copy])), limits)).toThrow(/after a zero block/);
    // After the two zero blocks that end an archive every unpacker stops: what follows is not read.
    expect([...bundledManifestFiles(gzipSync(Buffer.concat([head, Buffer.alloc(1024), copy])), limits).keys()]).toEqual([]);
  });

  it('reads a copy under node_modules and package.json in any case: a case-insensitive file system finds it there (round 46, fourteenth wave P5)', () => {
    const found = bundledManifestFiles(tgz([{ path: 'package/Node_Modules/a/Package.JSON', content: '{"name":"a","version":"1.0.0"}' }, { path: 'package/NODE_MODULES/b/package.json', content: '{"name":"b","version":"1.0.0"}' }]), limits);
    expect([...found.keys()].sort()).toEqual(['NODE_MODULES/b/package.json', 'Node_Modules/a/Package.JSON']);
  });

  it('refuses a copy\'s package.json that is a link, given twice or too large (fail closed)', () => {
    expect(() => bundledManifestFiles(tgz([{ path: 'package/node_modules/a/package.json', type: '2' }]), limits)).toThrow(/not a regular file/);
    expect(() => bundledManifestFiles(tgz([{ path: 'package/node_modules/a/package.json', content: '{}' }, { path: 'package/node_modules/a/package.json', content: '{}' }]), limits)).toThrow(/twice/);
    expect(() => bundledManifestFiles(tgz([{ path: 'package/node_modules/a/package.json', content: 'x'.repeat(2048) }]), limits)).toThrow(/larger/);
  });
});
