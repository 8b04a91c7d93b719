import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBounded, readFront, readRange } from './read-bounded.js';

const folder = () => mkdtempSync(join(tmpdir(), 'portcullis-read-bounded-'));

describe('readBounded', () => {
  it('reads a whole plain file up to its bound; anything else is undefined', () => {
    const dir = folder();
    writeFileSync(join(dir, 'f'), 'hello');
    expect(readBounded(join(dir, 'f'), 5)?.toString()).toBe('hello');
    expect(readBounded(join(dir, 'f'), 4)).toBeUndefined();
    expect(readBounded(join(dir, 'absent'), 5, { oftenMissing: true })).toBeUndefined();
    expect(readBounded(dir, 5)).toBeUndefined();
  });
});

describe('readFront and readRange', () => {
  const text = 'front|index|' + 'x'.repeat(1000) + '|document|';

  it('reads the first bytes, then as many more from the start as asked for after seeing them; a small file whole', () => {
    const dir = folder();
    const file = join(dir, 'f');
    writeFileSync(file, text);
    const seen: Array<[string, number]> = [];
    const front = readFront(file, 1 << 20, 6, (first, size) => {
      seen.push([first.toString(), size]);
      return 12;
    });
    expect(seen).toEqual([['front|', text.length]]);
    expect(front?.bytes.toString()).toBe('front|index|');
    expect(front?.size).toBe(text.length);
    // No more than the first read when that is enough; the whole file when it is no larger than the first read.
    expect(readFront(file, 1 << 20, 6, () => 3)?.bytes.toString()).toBe('front|');
    expect(readFront(file, 1 << 20, 1 << 16, () => 0)?.bytes.toString()).toBe(text);
    // The rest, by range, from that same file.
    const at = text.indexOf('document');
    expect(readRange(file, front!.identity, at, at + 8)?.toString()).toBe('document');
  });

  it('reads nothing from a file that is not what was asked for: too large, refused, asking past its end, not a file', () => {
    const dir = folder();
    const file = join(dir, 'f');
    writeFileSync(file, text);
    expect(readFront(file, text.length - 1, 6, () => 6)).toBeUndefined();
    expect(readFront(file, 1 << 20, 6, () => undefined)).toBeUndefined();
    expect(readFront(file, 1 << 20, 6, () => text.length + 1)).toBeUndefined();
    expect(readFront(dir, 1 << 20, 6, () => 6)).toBeUndefined();
    expect(readFront(join(dir, 'absent'), 1 << 20, 6, () => 6, { oftenMissing: true })).toBeUndefined();
    const front = readFront(file, 1 << 20, 6, () => 6)!;
    expect(readRange(file, front.identity, 0, text.length + 1)).toBeUndefined();
    expect(readRange(file, front.identity, 5, 5)).toBeUndefined();
    expect(readRange(file, front.identity, -1, 5)).toBeUndefined();
  });

  it('never reads a range from a file changed or replaced since its front was read', () => {
    const dir = folder();
    const file = join(dir, 'f');
    writeFileSync(file, text);
    const at = text.indexOf('document');
    // Replaced by another file with the same bytes (pnpm writes a new file and renames it over the old one).
    const replaced = readFront(file, 1 << 20, 6, () => 6)!;
    writeFileSync(join(dir, 'g'), text);
    renameSync(join(dir, 'g'), file);
    expect(readRange(file, replaced.identity, at, at + 8)).toBeUndefined();
    // Written to in place.
    const appended = readFront(file, 1 << 20, 6, () => 6)!;
    appendFileSync(file, 'more');
    expect(readRange(file, appended.identity, at, at + 8)).toBeUndefined();
    // Unchanged: read.
    const kept = readFront(file, 1 << 20, 6, () => 6)!;
    expect(readRange(file, kept.identity, at, at + 8)?.toString()).toBe('document');
    // Gone.
    rmSync(file);
    expect(readRange(file, kept.identity, at, at + 8)).toBeUndefined();
  });
});
