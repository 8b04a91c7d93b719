import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';

describe('writeFileAtomic', () => {
  const folder = () => mkdtempSync(join(tmpdir(), 'portcullis-atomic-'));

  it('writes a text, bytes, or parts one after the other, with the mode asked, replacing what was there', () => {
    const dir = folder();
    const file = join(dir, 'f');
    writeFileAtomic(file, 'old', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('old');
    writeFileAtomic(file, Buffer.from('bytes'), 0o600);
    expect(readFileSync(file, 'utf8')).toBe('bytes');
    const big = Buffer.alloc(300_000, 0x62);
    writeFileAtomic(file, [Buffer.from('head\n'), new Uint8Array(0), big, Buffer.from('\ntail')], 0o600);
    expect(readFileSync(file)).toEqual(Buffer.concat([Buffer.from('head\n'), big, Buffer.from('\ntail')]));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // No temporary file left beside it.
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('throws when the folder is missing, and leaves nothing behind', () => {
    const dir = folder();
    expect(() => writeFileAtomic(join(dir, 'absent', 'f'), [Buffer.from('x')])).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(join(dir, 'kept'), 'kept');
    expect(() => writeFileAtomic(join(dir, 'kept', 'f'), 'x')).toThrow();
    expect(existsSync(join(dir, 'kept'))).toBe(true);
  });
});
