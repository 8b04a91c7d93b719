import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PortcullisError } from '../errors.js';
import { buildAdvisoryIndex } from './index.js';

// Counts the reads of record files: a cache hit must not read one.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, readFileSync: vi.fn(actual.readFileSync), readdirSync: vi.fn(actual.readdirSync) };
});

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'osv');

let dir: string;
let osv: string;
let cacheDir: string;
const secret = randomBytes(32);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-advisories-'));
  osv = join(dir, 'osv');
  cacheDir = join(dir, 'cache');
  cpSync(FIXTURES, osv, { recursive: true });
  vi.mocked(fs.readFileSync).mockClear();
  vi.mocked(fs.readdirSync).mockClear();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const walks = () => vi.mocked(fs.readdirSync).mock.calls.filter(([path]) => String(path) === osv).length;
const recordReads = () => vi.mocked(fs.readFileSync).mock.calls.filter(([path]) => String(path).startsWith(osv)).length;
const ids = (index: { lookup(n: string, v: string): Array<{ id: string }> }, name: string, version: string) => index.lookup(name, version).map((a) => a.id);
const cacheFiles = () => readdirSync(join(cacheDir, 'advisories-v1')).filter((f) => f.endsWith('.idx'));
const STEALER = 'osv/malicious/npm/portcullis-fake-stealer/MAL-2025-1001.json';

describe('buildAdvisoryIndex', () => {
  it('finds exact versions and versions in ranges, and nothing else', () => {
    const index = buildAdvisoryIndex([osv]);
    expect(index.records).toBe(3);
    expect(index.lookup('portcullis-fake-stealer', '1.2.3')).toEqual([{ id: 'MAL-2025-1001', summary: 'Malicious code in portcullis-fake-stealer (npm)', modified: '2025-09-08T14:05:11Z' }]);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3+build.5')).toEqual(['MAL-2025-1001']);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.4')).toEqual([]);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3-0')).toEqual([]);
    for (const version of ['0.0.1', '1.0.0', '99.0.0-rc.1']) expect(ids(index, '@portcullis-fake/typo-lib', version)).toEqual(['MAL-2025-1002']);
    for (const version of ['2.0.0', '2.0.1', '2.0.2-rc.1', '3.1.0', '3.1.4']) expect({ version, ids: ids(index, 'portcullis-fake-compromised', version) }).toEqual({ version, ids: ['MAL-2025-1003'] });
    for (const version of ['1.9.9', '2.0.0-beta', '2.0.2', '3.0.9', '3.1.5', '3.1.5-0']) expect({ version, ids: ids(index, 'portcullis-fake-compromised', version) }).toEqual({ version, ids: [] });
    expect(ids(index, 'portcullis-fake-unlisted', '1.0.0')).toEqual([]);
    expect(ids(index, 'Portcullis-Fake-Stealer', '1.2.3')).toEqual([]); // names are exact
    expect(ids(index, '../portcullis-fake-stealer', '1.2.3')).toEqual([]);
  });

  it('ignores withdrawn records and other ecosystems', () => {
    const index = buildAdvisoryIndex([osv]);
    expect(ids(index, 'portcullis-fake-withdrawn', '1.0.0')).toEqual([]);
    expect(ids(index, 'portcullis-fake-stealer', '9.9.9')).toEqual([]); // the PyPI record's version
  });

  it('skips malformed records with a reason instead of failing', () => {
    const index = buildAdvisoryIndex([osv]);
    expect(index.problems).toEqual([
      { source: `${osv}/malicious/npm/portcullis-fake-badshape/MAL-2025-1007.json`, reason: `MAL-2025-1007 has an "affected" that is not a list; skipped` },
      { source: `${osv}/malicious/npm/portcullis-fake-truncated/MAL-2025-1006.json`, reason: 'not JSON; skipped' },
    ]);
    expect(index.problemCount).toBe(2);
  });

  it('reads single files as well as folders, and the union of several sources', () => {
    const single = buildAdvisoryIndex([join(dir, STEALER)]);
    expect(single.records).toBe(1);
    expect(ids(single, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, readFileSync(join(dir, STEALER), 'utf8').replace('"1.2.3"', '"1.2.4"'));
    const both = buildAdvisoryIndex([join(dir, STEALER), copy]);
    expect(ids(both, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
    expect(ids(both, 'portcullis-fake-stealer', '1.2.4')).toEqual(['MAL-2025-1001']);
  });

  it('reads a bundle: one file holding a list of records', () => {
    const bundle = join(dir, 'bundle.json');
    const stealer = JSON.parse(readFileSync(join(dir, STEALER), 'utf8')) as unknown;
    const pypi = JSON.parse(readFileSync(join(osv, 'malicious/pypi/portcullis-fake-stealer/MAL-2025-1005.json'), 'utf8')) as unknown;
    writeFileSync(bundle, JSON.stringify([pypi, stealer, 'not a record']));
    const index = buildAdvisoryIndex([bundle]);
    expect(index.records).toBe(1);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
    expect(ids(index, 'portcullis-fake-stealer', '9.9.9')).toEqual([]);
    expect(index.problems).toEqual([{ source: `${bundle}#2`, reason: 'not a JSON object; skipped' }]);
  });

  it('reads a bundle record by record: a malformed record is skipped alone, a broken list is not read at all', () => {
    const stealer = readFileSync(join(dir, STEALER), 'utf8').trim();
    const bundle = join(dir, 'bundle.json');
    // A string with brackets, braces, a comma and an escaped quote in the record before; then a broken record.
    const tricky = JSON.stringify({ id: 'MAL-2025-9', summary: 'x"],}{[,', affected: [{ package: { ecosystem: 'npm', name: 'other-pkg' }, versions: ['1.0.0'] }] });
    writeFileSync(bundle, `\ufeff [ ${tricky} ,\n${stealer},{"id": },\t"not a record" ]\n`);
    const index = buildAdvisoryIndex([bundle]);
    expect(index.records).toBe(2);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
    expect(ids(index, 'other-pkg', '1.0.0')).toEqual(['MAL-2025-9']);
    expect(index.problems).toEqual([
      { source: `${bundle}#2`, reason: 'not JSON; skipped' },
      { source: `${bundle}#3`, reason: 'not a JSON object; skipped' },
    ]);
    for (const broken of [`[${stealer}`, `[${stealer}}`, `[${stealer}] x`, `["unterminated, ${stealer}]`]) {
      writeFileSync(bundle, broken);
      const none = buildAdvisoryIndex([bundle]);
      expect(none.records, broken.slice(-12)).toBe(0);
      expect(none.problems).toEqual([{ source: bundle, reason: 'not JSON; skipped' }]);
    }
  });

  it('follows symbolic links to folders and files, never around a cycle', () => {
    const linked = join(dir, 'linked');
    mkdirSync(join(linked, 'deeper'), { recursive: true });
    cpSync(join(dir, STEALER), join(linked, 'deeper', 'MAL-2025-1001.json'));
    const source = join(dir, 'source');
    mkdirSync(source);
    symlinkSync(linked, join(source, 'data'));
    symlinkSync(source, join(linked, 'deeper', 'back-to-source')); // a cycle
    symlinkSync(join(osv, 'malicious/npm/@portcullis-fake/typo-lib/MAL-2025-1002.json'), join(source, 'one.json'));
    const index = buildAdvisoryIndex([source]);
    expect(index.records).toBe(2);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
    expect(ids(index, '@portcullis-fake/typo-lib', '1.0.0')).toEqual(['MAL-2025-1002']);
  });

  it('refuses a source that does not exist (never silently without advisories)', () => {
    const attempt = () => buildAdvisoryIndex([osv, join(dir, 'missing')]);
    expect(attempt).toThrow(PortcullisError);
    expect(attempt).toThrow(/advisory source .*missing cannot be read \(ENOENT\)/);
    try {
      attempt();
    } catch (error) {
      expect((error as PortcullisError).code).toBe('ADVISORIES_UNAVAILABLE');
      expect((error as PortcullisError).exitCode).toBe(3);
    }
  });

  it('refuses a source file past the size bound instead of skipping its records', () => {
    writeFileSync(join(osv, 'huge.json'), '');
    truncateSync(join(osv, 'huge.json'), 257 * 1024 * 1024); // sparse: nothing is written or read
    expect(() => buildAdvisoryIndex([osv])).toThrow(/huge\.json is larger than 256 MiB/);
  });

  it('has a content id: the same records elsewhere give the same id, other records another', () => {
    const a = buildAdvisoryIndex([osv]);
    const elsewhere = join(dir, 'elsewhere');
    cpSync(osv, elsewhere, { recursive: true });
    expect(buildAdvisoryIndex([elsewhere]).id).toBe(a.id);
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    rmSync(join(elsewhere, 'malicious/npm/portcullis-fake-stealer'), { recursive: true });
    expect(buildAdvisoryIndex([elsewhere]).id).not.toBe(a.id);
  });
});

describe('the index cache', () => {
  it('a cache hit reads no record file and answers the same', () => {
    const built = buildAdvisoryIndex([osv], { cacheDir, secret });
    expect(built.origin).toBe('built');
    expect(recordReads()).toBe(7); // every record file, once
    expect(cacheFiles()).toHaveLength(1);

    vi.mocked(fs.readFileSync).mockClear();
    const cached = buildAdvisoryIndex([osv], { cacheDir, secret });
    expect(cached.origin).toBe('cache');
    expect(recordReads()).toBe(0);
    expect([cached.id, cached.records, cached.problems, cached.problemCount]).toEqual([built.id, built.records, built.problems, built.problemCount]);
    for (const [name, version] of [
      ['portcullis-fake-stealer', '1.2.3'],
      ['portcullis-fake-compromised', '3.1.4'],
      ['@portcullis-fake/typo-lib', '0.0.0-0'],
    ] as const) {
      expect(cached.lookup(name, version)).toEqual(built.lookup(name, version));
      expect(cached.lookup(name, version)).toHaveLength(1);
    }
  });

  it('is rebuilt when a record file changes', () => {
    buildAdvisoryIndex([osv], { cacheDir, secret });
    const file = join(dir, STEALER);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"1.2.3"', '"1.2.9"'));
    const index = buildAdvisoryIndex([osv], { cacheDir, secret });
    expect(index.origin).toBe('built');
    expect(ids(index, 'portcullis-fake-stealer', '1.2.9')).toEqual(['MAL-2025-1001']);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual([]);
  });

  it('is rebuilt when a file changes with the same size and mtime, or a file is added', () => {
    const file = join(dir, STEALER);
    utimesSync(file, 1_700_000_000, 1_700_000_000); // whole seconds: restored exactly below
    buildAdvisoryIndex([osv], { cacheDir, secret });
    writeFileSync(file, readFileSync(file, 'utf8').replace('"1.2.3"', '"1.2.7"'));
    utimesSync(file, 1_700_000_000, 1_700_000_000); // same size, same mtime: only ctime moves
    expect(buildAdvisoryIndex([osv], { cacheDir, secret }).origin).toBe('built');
    expect(buildAdvisoryIndex([osv], { cacheDir, secret }).origin).toBe('cache');
    writeFileSync(join(osv, 'malicious/npm/portcullis-fake-stealer/MAL-2025-1008.json'), readFileSync(file, 'utf8').replace('MAL-2025-1001', 'MAL-2025-1008'));
    const index = buildAdvisoryIndex([osv], { cacheDir, secret });
    expect(index.origin).toBe('built');
    expect(ids(index, 'portcullis-fake-stealer', '1.2.7')).toEqual(['MAL-2025-1001', 'MAL-2025-1008']);
  });

  it('does not trust a tampered cache file', () => {
    const built = buildAdvisoryIndex([osv], { cacheDir, secret });
    const [name] = cacheFiles();
    const file = join(cacheDir, 'advisories-v1', name!);
    const bytes = readFileSync(file);
    // Rename the listed package inside the index, so that the real one would not be found.
    const at = bytes.indexOf('portcullis-fake-stealer\n');
    expect(at).toBeGreaterThan(0);
    bytes.write('X', at);
    writeFileSync(file, bytes);
    const index = buildAdvisoryIndex([osv], { cacheDir, secret });
    expect(index.origin).toBe('built');
    expect(index.id).toBe(built.id);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
  });

  it('does not trust an index another secret made, nor an older authentic index put in place of the current one', () => {
    buildAdvisoryIndex([osv], { cacheDir, secret: randomBytes(32) });
    expect(buildAdvisoryIndex([osv], { cacheDir, secret }).origin).toBe('built');

    // The authentic index of the data without MAL-2025-1001, copied over the name of the data with it.
    const old = join(dir, 'old-cache');
    const file = join(dir, STEALER);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('"npm"', '"PyPI"'));
    const without = buildAdvisoryIndex([osv], { cacheDir: old, secret });
    expect(ids(without, 'portcullis-fake-stealer', '1.2.3')).toEqual([]);
    writeFileSync(file, original);
    const current = buildAdvisoryIndex([osv], { cacheDir, secret });
    const [oldName] = readdirSync(join(old, 'advisories-v1'));
    const currentFiles = cacheFiles().filter((f) => f !== oldName);
    for (const f of currentFiles) fs.copyFileSync(join(old, 'advisories-v1', oldName!), join(cacheDir, 'advisories-v1', f));
    const index = buildAdvisoryIndex([osv], { cacheDir, secret });
    expect(index.origin).toBe('built');
    expect(index.id).toBe(current.id);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
  });

  it('does not cache without a secret, and keeps only the last few indexes', () => {
    buildAdvisoryIndex([osv], { cacheDir, secret: null });
    expect(fs.existsSync(join(cacheDir, 'advisories-v1'))).toBe(false);
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(osv, `extra-${i}.json`), '{}');
      buildAdvisoryIndex([osv], { cacheDir, secret });
    }
    expect(cacheFiles()).toHaveLength(4);
  });
});

describe('trusting a recent walk (trustWalkForMs)', () => {
  const HOUR = 3_600_000;
  const at = (t: number) => ({ cacheDir, secret, trustWalkForMs: HOUR, now: () => t });

  it('within the window and with unchanged roots, loads without walking or reading any record', () => {
    expect(buildAdvisoryIndex([osv], at(1_000)).origin).toBe('built');
    expect(walks()).toBe(1);
    vi.mocked(fs.readdirSync).mockClear();
    vi.mocked(fs.readFileSync).mockClear();
    const index = buildAdvisoryIndex([osv], at(1_000 + HOUR - 1));
    expect([index.origin, walks(), recordReads()]).toEqual(['cache', 0, 0]);
    expect(ids(index, 'portcullis-fake-stealer', '1.2.3')).toEqual(['MAL-2025-1001']);
  });

  it('walks again when the window is over (an in-place edit is seen then), or with a clock set back', () => {
    buildAdvisoryIndex([osv], at(1_000));
    const file = join(dir, STEALER);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"1.2.3"', '"1.2.8"'));
    // The documented trade-off: inside the window, the edit is not seen.
    expect(ids(buildAdvisoryIndex([osv], at(2_000)), 'portcullis-fake-stealer', '1.2.8')).toEqual([]);
    vi.mocked(fs.readdirSync).mockClear();
    expect(buildAdvisoryIndex([osv], at(500)).origin).toBe('built');
    expect(walks()).toBe(1);
    const later = buildAdvisoryIndex([osv], at(1_000 + HOUR));
    expect(walks()).toBe(2);
    expect(ids(later, 'portcullis-fake-stealer', '1.2.8')).toEqual(['MAL-2025-1001']);
  });

  it('walks again at once when a source root or the git checkout around it changes', () => {
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, '.git', 'index'), 'one');
    buildAdvisoryIndex([osv], at(1_000));
    buildAdvisoryIndex([osv], at(1_001));
    vi.mocked(fs.readdirSync).mockClear();
    writeFileSync(join(dir, '.git', 'index'), 'two'); // a pull, checkout or reset
    buildAdvisoryIndex([osv], at(1_002));
    expect(walks()).toBe(1);
    writeFileSync(join(osv, 'new.json'), '{}'); // a file added at the top of a source
    buildAdvisoryIndex([osv], at(1_003));
    expect(walks()).toBe(2);
    buildAdvisoryIndex([osv], at(1_004));
    expect(walks()).toBe(2);
  });

  it('does not trust a tampered or foreign walk stamp', () => {
    buildAdvisoryIndex([osv], at(1_000));
    const [stamp] = readdirSync(join(cacheDir, 'advisories-v1')).filter((f) => f.endsWith('.walk'));
    const file = join(cacheDir, 'advisories-v1', stamp!);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/"walkedAt":\d+/, '"walkedAt":2000'));
    vi.mocked(fs.readdirSync).mockClear();
    buildAdvisoryIndex([osv], at(2_500));
    expect(walks()).toBe(1);
    writeFileSync(file, original);
    buildAdvisoryIndex([osv], { ...at(1_500), secret: randomBytes(32) });
    expect(walks()).toBe(2);
  });
});
