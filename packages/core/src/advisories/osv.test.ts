import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { inInterval, intervalsOf, npmAffectedOf, readOsvRecord, type AffectedInterval } from './osv.js';

const NPM = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'osv', 'malicious', 'npm');
const fixture = (path: string): unknown => JSON.parse(readFileSync(join(NPM, path), 'utf8'));
const record = (affected: unknown, extra: Record<string, unknown> = {}) => ({ schema_version: '1.7.3', id: 'MAL-2025-9000', modified: '2025-09-08T14:05:11Z', summary: 'Malicious code in x (npm)', affected, ...extra });
const npmEntry = (name: string, rest: Record<string, unknown>) => ({ package: { ecosystem: 'npm', name }, ...rest });
const affects = (intervals: AffectedInterval[], version: string) => intervals.some((i) => inInterval(semver.parse(version), i));

describe('npmAffectedOf', () => {
  it('reads an exact versions list', () => {
    expect(npmAffectedOf(fixture('portcullis-fake-stealer/MAL-2025-1001.json'))).toEqual({
      advisory: { id: 'MAL-2025-1001', summary: 'Malicious code in portcullis-fake-stealer (npm)', modified: '2025-09-08T14:05:11Z' },
      affected: [{ name: 'portcullis-fake-stealer', versions: ['1.2.3'], ranges: [] }],
    });
  });

  it('reads `introduced: "0"` as every version, scoped names included', () => {
    expect(npmAffectedOf(fixture('@portcullis-fake/typo-lib/MAL-2025-1002.json'))?.affected).toEqual([{ name: '@portcullis-fake/typo-lib', versions: [], ranges: [{}] }]);
  });

  it('turns SEMVER events into intervals and ignores GIT ranges', () => {
    expect(npmAffectedOf(fixture('portcullis-fake-compromised/MAL-2025-1003.json'))?.affected).toEqual([
      { name: 'portcullis-fake-compromised', versions: [], ranges: [{ introduced: '2.0.0', fixed: '2.0.2' }, { introduced: '3.1.0', lastAffected: '3.1.4' }] },
    ]);
  });

  it('treats an npm ECOSYSTEM range as SEMVER', () => {
    const read = npmAffectedOf(record([npmEntry('a', { ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '1.0.0' }, { fixed: '1.1.0' }] }] })]));
    expect(read?.affected[0]?.ranges).toEqual([{ introduced: '1.0.0', fixed: '1.1.0' }]);
  });

  it('ignores withdrawn records and other ecosystems', () => {
    expect(npmAffectedOf(fixture('portcullis-fake-withdrawn/MAL-2025-1004.json'))).toBeUndefined();
    expect(readOsvRecord(fixture('portcullis-fake-withdrawn/MAL-2025-1004.json'))).toEqual({ kind: 'ignored', reason: 'MAL-2025-1004 was withdrawn' });
    const pypi = JSON.parse(readFileSync(join(NPM, '..', 'pypi', 'portcullis-fake-stealer', 'MAL-2025-1005.json'), 'utf8')) as unknown;
    expect(readOsvRecord(pypi)).toEqual({ kind: 'ignored', reason: 'MAL-2025-1005 names no npm package' });
    // Only npm entries of a record that names several ecosystems.
    const mixed = record([{ package: { ecosystem: 'PyPI', name: 'b' }, versions: ['1.0.0'] }, npmEntry('b', { versions: ['2.0.0'] })]);
    expect(npmAffectedOf(mixed)?.affected).toEqual([{ name: 'b', versions: ['2.0.0'], ranges: [] }]);
  });

  it('skips records it cannot attribute, with a reason, never throwing', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'not a JSON object'],
      [[record([])], 'not a JSON object'],
      [{ ...record([]), id: 'MAL 1; rm -rf /' }, 'no valid "id"'],
      [fixture('portcullis-fake-badshape/MAL-2025-1007.json'), 'MAL-2025-1007 has an "affected" that is not a list'],
      [record([npmEntry('../../etc/passwd', { versions: ['1.0.0'] })]), 'MAL-2025-9000 names an npm package that is not a valid package name'],
      [record(['x']), 'MAL-2025-9000 has an affected entry without a "package"'],
      [record([]), ''],
    ];
    for (const [input, reason] of cases) {
      const read = readOsvRecord(input);
      if (reason === '') expect(read.kind).toBe('ignored');
      else expect(read).toEqual({ kind: 'malformed', reason });
    }
  });

  it('reads what it cannot read inside an npm entry as every version, and says so', () => {
    const unreadable: unknown[] = [
      {},
      { versions: 'all' },
      { versions: [1] },
      { ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0', fixed: '1.0.2' }] }] }, // two kinds in one event
      { ranges: [{ type: 'SEMVER', events: [{ introduced: 'one' }] }] },
      { ranges: [{ type: 'SEMVER', events: [{ fixed: '1.0.0' }] }] }, // no introduced
      { ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }, { last_affected: '0.9.0' }] }] },
      { ranges: [{ type: 'SEMVER', events: [] }] },
      { ranges: [{ type: 'CALVER', events: [{ introduced: '0' }] }] },
      { versions: ['1.0.0'], ranges: [{ type: 'SEMVER', events: 'introduced' }] },
    ];
    for (const rest of unreadable) {
      const read = readOsvRecord(record([npmEntry('c', rest as Record<string, unknown>)]));
      expect({ rest, affected: read.kind === 'npm' ? read.affected : read }).toEqual({ rest, affected: [{ name: 'c', versions: [], ranges: [{}] }] });
      expect(read.kind === 'npm' && read.problems.length).toBe(1);
    }
  });

  it('bounds and cleans the summary (it reaches terminals)', () => {
    const read = npmAffectedOf(record([npmEntry('d', { versions: ['1.0.0'] })], { summary: `evil\u001b[2J\u001b]8;;http://x\u0007link\u202e ${'x'.repeat(2000)}` }));
    expect(read?.advisory.summary).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(read?.advisory.summary.startsWith('evil [2J ]8;;http://x link')).toBe(true);
    expect(read?.advisory.summary.length).toBe(500);
  });

  it('normalises exact versions like the lookup does', () => {
    expect(npmAffectedOf(record([npmEntry('e', { versions: ['1.2.3+build.1', 'v2.0.0', 'not-semver', '1.2.3'] })]))?.affected[0]?.versions).toEqual(['1.2.3', '2.0.0', 'not-semver']);
  });
});

describe('intervalsOf (OSV evaluation)', () => {
  it('follows the event timeline whatever order the events are written in', () => {
    expect(intervalsOf([{ fixed: '3.2.5' }, { introduced: '3.0.0' }, { fixed: '1.0.2' }, { introduced: '1.0.0' }])).toEqual([
      { introduced: '1.0.0', fixed: '1.0.2' },
      { introduced: '3.0.0', fixed: '3.2.5' },
    ]);
    // A second introduced inside an open interval changes nothing; a fixed outside one changes nothing.
    expect(intervalsOf([{ introduced: '1.0.0' }, { introduced: '1.5.0' }, { fixed: '2.0.0' }, { fixed: '3.0.0' }])).toEqual([{ introduced: '1.0.0', fixed: '2.0.0' }]);
    expect(intervalsOf([{ introduced: '1.0.0' }, { last_affected: '1.0.0' }])).toEqual([{ introduced: '1.0.0', lastAffected: '1.0.0' }]);
  });

  it('applies limits to the whole range ("*" or none: no limit)', () => {
    expect(intervalsOf([{ introduced: '0' }, { limit: '2.0.0' }, { limit: '1.5.0' }])).toEqual([{ limit: '2.0.0' }]);
    expect(intervalsOf([{ introduced: '0' }, { limit: '2.0.0' }, { limit: '*' }])).toEqual([{}]);
  });
});

describe('inInterval (prerelease semantics chosen on purpose)', () => {
  const beforeTwo = intervalsOf([{ introduced: '0' }, { fixed: '2.0.0' }]) as AffectedInterval[];
  const window = intervalsOf([{ introduced: '1.0.0' }, { fixed: '2.0.0' }]) as AffectedInterval[];
  const upTo = intervalsOf([{ introduced: '1.0.0' }, { last_affected: '1.4.0' }]) as AffectedInterval[];

  it('a prerelease inside a range is inside (semver.satisfies would let it escape)', () => {
    expect(semver.satisfies('1.5.0-beta.1', '>=1.0.0 <2.0.0')).toBe(false); // the trap
    expect(affects(window, '1.5.0-beta.1')).toBe(true);
    expect(affects(beforeTwo, '1.5.0-beta.1')).toBe(true);
    expect(affects(beforeTwo, '0.0.0-0')).toBe(true); // "0" is below every version, prereleases of 0.0.0 too
    expect(affects(beforeTwo, '2.0.0-rc.1')).toBe(true); // below the fix by SemVer precedence
    expect(affects(upTo, '1.4.0')).toBe(true);
    expect(affects(upTo, '1.4.0-rc.1')).toBe(true);
  });

  it('precedence, not string order, decides the bounds', () => {
    expect(affects(window, '1.0.0-x')).toBe(false); // 1.0.0-x comes before 1.0.0
    expect(affects(window, '2.0.0')).toBe(false);
    expect(affects(window, '2.0.0+build')).toBe(false);
    expect(affects(window, '10.0.0')).toBe(false);
    expect(affects(window, '1.10.0')).toBe(true);
    expect(affects(upTo, '1.4.1-0')).toBe(false);
    expect(affects(upTo, '1.4.1')).toBe(false);
    expect(affects([{ limit: '2.0.0' }], '2.0.0-0')).toBe(true);
    expect(affects([{ limit: '2.0.0' }], '2.0.0')).toBe(false);
  });

  it('a version that is not SemVer cannot be placed, so it counts as inside', () => {
    expect(inInterval(semver.parse('latest'), { introduced: '1.0.0', fixed: '1.0.1' })).toBe(true);
  });
});
