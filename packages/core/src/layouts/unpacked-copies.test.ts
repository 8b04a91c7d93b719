import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { treeStamp, unpackedCopies } from './unpacked-copies.js';

let root: string;
let folder: string;
let stateDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'portcullis-unpacked-'));
  folder = join(root, 'project', '.yarn', 'unplugged');
  stateDir = join(root, 'state');
  mkdirSync(folder, { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An unpacked package folder as Yarn's PnP linker leaves it. */
function unpack(entry: string, name: string, files: Record<string, string> = { 'package.json': `{"name":"${name}","version":"1.0.0"}`, 'index.js': 'module.exports = 1;\n', '.ready': '' }): string {
  const dir = join(folder, entry, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

describe('unpackedCopies', () => {
  it('vouches for nothing without a record: a committed folder (with its .ready) is to be removed', () => {
    unpack('good-npm-1.0.0-4e70d39c34', 'good');
    expect(unpackedCopies({ stateDir, folder }).unvouched()).toEqual([join(folder, 'good-npm-1.0.0-4e70d39c34')]);
  });

  it('vouches for what this user\'s last install left, entry by entry', () => {
    unpack('a-npm-1.0.0-1', 'a');
    unpack('b-npm-1.0.0-2', 'b');
    unpackedCopies({ stateDir, folder }).remember();
    expect(unpackedCopies({ stateDir, folder }).unvouched()).toEqual([]);
    // A later folder (committed, or unpacked by an install without the plugin) is not vouched for.
    unpack('c-npm-1.0.0-3', 'c');
    expect(unpackedCopies({ stateDir, folder }).unvouched()).toEqual([join(folder, 'c-npm-1.0.0-3')]);
  });

  it('a file rewritten, replaced, added or removed inside a remembered folder makes it unvouched (same size, same text put back)', () => {
    const dir = unpack('a-npm-1.0.0-1', 'a');
    const copies = unpackedCopies({ stateDir, folder });
    for (const change of [
      () => writeFileSync(join(dir, 'index.js'), 'module.exports = 2;\n'),
      () => writeFileSync(join(dir, 'index.js'), 'module.exports = 1;\n'),
      () => {
        rmSync(join(dir, 'package.json'));
        writeFileSync(join(dir, 'package.json'), '{"name":"a","version":"1.0.0"}');
      },
      () => writeFileSync(join(dir, 'install.js'), ''),
      () => rmSync(join(dir, '.ready')),
      () => chmodSync(join(dir, 'index.js'), 0o755),
      () => symlinkSync('/etc', join(dir, 'link')),
    ]) {
      copies.remember();
      expect(copies.unvouched()).toEqual([]);
      change();
      expect(copies.unvouched()).toEqual([join(folder, 'a-npm-1.0.0-1')]);
    }
  });

  it('a record that is not this user\'s own file, or not well-formed, vouches for nothing', () => {
    unpack('a-npm-1.0.0-1', 'a');
    const copies = unpackedCopies({ stateDir, folder });
    copies.remember();
    const records = join(stateDir, 'unpacked-v1');
    const [file] = readdirSync(records);
    chmodSync(join(records, file!), 0o666);
    expect(copies.unvouched()).toHaveLength(1);
    writeFileSync(join(records, file!), '{"stamps": [1, 2]}', { mode: 0o600 });
    chmodSync(join(records, file!), 0o600);
    expect(copies.unvouched()).toHaveLength(1);
    writeFileSync(join(records, file!), 'not json');
    expect(copies.unvouched()).toHaveLength(1);
  });

  it('only entries named as `entry` says are judged: nothing else in the folder is ever listed for removal', () => {
    unpack('good-npm-1.0.0-4e70d39c34', 'good');
    mkdirSync(join(folder, 'src'));
    writeFileSync(join(folder, 'notes.txt'), '');
    expect(unpackedCopies({ stateDir, folder, entry: /-[0-9a-f]{10}$/ }).unvouched()).toEqual([join(folder, 'good-npm-1.0.0-4e70d39c34')]);
  });

  it('no folder: nothing to remove', () => {
    expect(unpackedCopies({ stateDir, folder: join(root, 'none') }).unvouched()).toEqual([]);
  });

  it('treeStamp: undefined for a path that is not there', () => {
    expect(treeStamp(join(root, 'none'))).toBeUndefined();
  });
});
