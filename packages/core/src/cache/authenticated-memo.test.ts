import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthenticatedMemo } from './authenticated-memo.js';
import { memoSecret } from './verified-versions.js';

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `portcullis-memo-${prefix}-`));
const isString = (value: unknown): value is string => typeof value === 'string';
const fileOf = (cache: string) => join(cache, 'test-v1', readdirSync(join(cache, 'test-v1'))[0]!);

function saved(cache: string, secret: Buffer, values: Record<string, string>): string {
  const memo = AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString);
  for (const [key, value] of Object.entries(values)) memo.set(key, value);
  memo.save();
  return fileOf(cache);
}

describe('AuthenticatedMemo: one tag for the whole file', () => {
  it('entries carry no tag of their own: the file-wide tag over their exact text vouches for them', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    const file = saved(cache, secret, { a: 'one', b: 'two' });
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { format: string; entries: unknown[][] };
    expect(doc.entries.map((entry) => entry.length)).toEqual([2, 2]);
    // An earlier build's file (a tag in each entry), signed as a whole with the same secret: still read.
    const older = JSON.stringify(doc.entries.map((entry) => [...entry, 'AAAAAAAAAAAAAAAAAAAAAA==']));
    const mac = createHmac('sha256', secret).update('test-v1\0file\0').update(older).digest('base64');
    writeFileSync(file, `{"format":"test-v1","mac":"${mac}","entries":${older}}`);
    const reopened = AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString);
    expect(reopened.get('a')).toBe('one');
    expect(reopened.get('b')).toBe('two');
  });

  it('one entry edited on disk and the whole file vouches for nothing', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    const file = saved(cache, secret, { a: 'one', b: 'two' });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('"one"');
    writeFileSync(file, text.replace('"one"', '"evil"'));
    const reopened = AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString);
    expect(reopened.get('a')).toBeUndefined();
    expect(reopened.get('b')).toBeUndefined();
  });

  it('a file-wide tag never vouches for entries outside the bytes it covers (a second "entries" key, another secret)', () => {
    const secret = memoSecret(temp('state'))!;
    const cache = temp('cache');
    const file = saved(cache, secret, { a: 'one' });
    const text = readFileSync(file, 'utf8');
    const forged = JSON.parse(text) as { entries: Array<[string, string]> };
    const [id] = forged.entries[0]!;
    // JSON.parse keeps the last "entries": a forged list appended after the signed one must not be read as signed.
    writeFileSync(file, `${text.slice(0, -1)},"entries":[["${id}","evil"]]}`);
    expect(AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString).get('a')).toBeUndefined();
    // Prepended before the header: the signed entries are what is read.
    writeFileSync(file, `{"entries":[["${id}","evil"]],${text.slice(1)}`);
    expect(AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString).get('a')).toBe('one');
    // Another user's secret: the file's tag does not verify.
    writeFileSync(file, text);
    expect(AuthenticatedMemo.open('test-v1', cache, '/project', memoSecret(temp('other'))!, isString).get('a')).toBeUndefined();
  });
});

describe('AuthenticatedMemo: keepUnused bounds a memo of large entries', () => {
  it('keeps what this process used and the most recent other entries, no more', () => {
    const cache = temp('cache');
    const secret = memoSecret(temp('state'))!;
    for (const key of ['a', 'b', 'c', 'd']) {
      const memo = AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString, { keepUnused: 2 });
      memo.set(key, key.toUpperCase());
      memo.save();
    }
    const reopened = AuthenticatedMemo.open('test-v1', cache, '/project', secret, isString);
    expect(['a', 'b', 'c', 'd'].map((key) => reopened.get(key))).toEqual([undefined, 'B', 'C', 'D']);
  });
});
