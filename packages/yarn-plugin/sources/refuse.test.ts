import type { Finding, Verdict } from '@portcullis/core';
import { fakeVerdict } from '@portcullis/core/internal';
import { ReportError, type MessageName } from '@yarnpkg/core';
import { describe, expect, it } from 'vitest';
import { codeOf, findingLine, policyRefusal, reportVerdict, YarnCode } from './refuse.js';

/** What reportVerdict said on a fake Yarn report, in order. */
type Line = { kind: 'info' | 'error' | 'warning'; code: MessageName | null; text: string };

function fakeReport() {
  const lines: Line[] = [];
  return {
    lines,
    reportInfo: (code: MessageName | null, text: string) => void lines.push({ kind: 'info', code, text }),
    reportError: (code: MessageName, text: string) => void lines.push({ kind: 'error', code, text }),
    reportWarning: (code: MessageName, text: string) => void lines.push({ kind: 'warning', code, text }),
  };
}

/** A verdict as the gate hands it over: every consequence already decided (refuse.ts only translates). */
function verdict(decided: Partial<Pick<Verdict, 'blocking' | 'skipped' | 'exitCode' | 'notices' | 'skippedNotice'>>): Verdict {
  return fakeVerdict(decided);
}

const finding = (code: Finding['code'], pkg: string, version = '1.0.0'): Finding => ({
  package: pkg,
  version,
  rule: code === 'SCRIPT_NOT_ALLOWED' ? 'scripts' : 'signatures',
  code,
  message: `${pkg}@${version} is ${code.toLowerCase()}`,
  fix: code === 'SCRIPT_NOT_ALLOWED' ? `yarn portcullis approve ${pkg}@${version}` : `remove ${pkg}`,
});

/** Runs reportVerdict; returns the lines reported and the error thrown (undefined when none). */
function run(v: Verdict): { lines: Line[]; thrown: unknown } {
  const report = fakeReport();
  try {
    reportVerdict(v, report);
    return { lines: report.lines, thrown: undefined };
  } catch (error) {
    return { lines: report.lines, thrown: error };
  }
}

describe('findingLine', () => {
  it('is "portcullis CODE: message. Fix: fix", the fix as the gate spelled it', () => {
    expect(findingLine(finding('UNSIGNED', 'evil'))).toBe('portcullis UNSIGNED: evil@1.0.0 is unsigned. Fix: remove evil');
    expect(findingLine(finding('SCRIPT_NOT_ALLOWED', 'esbuild', '0.25.0'))).toBe('portcullis SCRIPT_NOT_ALLOWED: esbuild@0.25.0 is script_not_allowed. Fix: yarn portcullis approve esbuild@0.25.0');
  });
});

describe('codeOf', () => {
  it('files undecided metadata under YN0035, scripts under YN0005 and every signature code under YN0082', () => {
    expect(codeOf(finding('METADATA_UNAVAILABLE', 'a'))).toBe(35);
    expect(codeOf(finding('SCRIPT_NOT_ALLOWED', 'a'))).toBe(5);
    // Changed install scripts of an approved package (rule scripts) are a scripts block too.
    expect(codeOf({ ...finding('SCRIPT_CHANGED', 'a'), rule: 'scripts' })).toBe(5);
    for (const code of ['UNSIGNED', 'BAD_SIGNATURE', 'UNKNOWN_KEY', 'KEY_EXPIRED', 'UNTRUSTED_REGISTRY', 'UNSIGNED_SOURCE', 'INTEGRITY_MISSING'] as const) {
      expect(codeOf(finding(code, 'a'))).toBe(82);
    }
  });
});

describe('reportVerdict', () => {
  it('says nothing and throws nothing for an empty verdict', () => {
    expect(run(verdict({}))).toEqual({ lines: [], thrown: undefined });
  });

  it('reports notices as info lines, prefixed, without a code', () => {
    const { lines, thrown } = run(verdict({ notices: ['keys refreshed from http://127.0.0.1:4873/', 'mirror strips signatures'] }));
    expect(thrown).toBeUndefined();
    expect(lines).toEqual([
      { kind: 'info', code: null, text: 'portcullis: keys refreshed from http://127.0.0.1:4873/' },
      { kind: 'info', code: null, text: 'portcullis: mirror strips signatures' },
    ]);
  });

  it('reports each blocking signature finding on its own YN0082 line, then throws a YN0082 ReportError', () => {
    const blocking = [finding('UNSIGNED', 'evil'), finding('BAD_SIGNATURE', '@acme/x', '2.1.0')];
    const { lines, thrown } = run(verdict({ blocking, notices: ['a notice'], skippedNotice: 'never shown when the install aborts' }));
    expect(lines).toEqual([
      { kind: 'info', code: null, text: 'portcullis: a notice' },
      { kind: 'error', code: 82, text: findingLine(blocking[0]!) },
      { kind: 'error', code: 82, text: findingLine(blocking[1]!) },
    ]);
    expect(thrown).toBeInstanceOf(ReportError);
    expect((thrown as ReportError).reportCode).toBe(82);
    expect((thrown as ReportError).message).toBe('portcullis: 2 package(s) failed the signatures rule of portcullis.json; the install stopped before fetching or running anything');
  });

  it('a blocking SCRIPT_CHANGED aborts under YN0005, naming the scripts rule', () => {
    const changed: Finding = { ...finding('SCRIPT_CHANGED', 'lib', '1.1.0'), rule: 'scripts' };
    const { lines, thrown } = run(verdict({ blocking: [changed], exitCode: 1 }));
    expect(lines).toEqual([{ kind: 'error', code: 5, text: findingLine(changed) }]);
    expect((thrown as ReportError).reportCode).toBe(5);
    expect((thrown as ReportError).message).toBe('portcullis: 1 package(s) failed the scripts rule of portcullis.json; the install stopped before fetching or running anything');
  });

  it('fails closed when the gate could not decide (exit 3): YN0035 lines and a YN0035 ReportError', () => {
    const blocking = [finding('METADATA_UNAVAILABLE', 'gone')];
    const { lines, thrown } = run(verdict({ blocking, exitCode: 3 }));
    expect(lines).toEqual([{ kind: 'error', code: 35, text: findingLine(blocking[0]!) }]);
    expect((thrown as ReportError).reportCode).toBe(35);
    expect((thrown as ReportError).message).toBe('portcullis: 1 package(s) could not be decided on (fail closed); the install stopped before fetching or running anything');
  });

  it('with undecided and signature findings mixed (exit 3), each line keeps its own code and the abort is YN0035', () => {
    const blocking = [finding('UNSIGNED', 'evil'), finding('METADATA_UNAVAILABLE', 'gone'), finding('SCRIPT_NOT_ALLOWED', 'esbuild')];
    const { lines, thrown } = run(verdict({ blocking, exitCode: 3 }));
    expect(lines.map((l) => [l.kind, l.code])).toEqual([
      ['error', 82],
      ['error', 35],
      ['error', 5],
    ]);
    expect((thrown as ReportError).reportCode).toBe(35);
    // the count is of the packages outside scripts.allow's reach: signatures and undecided, not the strict script
    expect((thrown as ReportError).message).toMatch(/^portcullis: 2 package\(s\) could not be decided on/);
  });

  it('names the rules that refused, counting packages once (provenance and cooldown findings on one package)', () => {
    const blocking = [{ ...finding('PROVENANCE_DOWNGRADE', 'w'), rule: 'provenance' as const }, { ...finding('RELEASE_TOO_NEW', 'w'), rule: 'cooldown' as const }];
    const { thrown } = run(verdict({ blocking }));
    expect((thrown as ReportError).message).toBe('portcullis: 1 package(s) failed the provenance, cooldown rules of portcullis.json; the install stopped before fetching or running anything');
  });

  it('a signature violation beside a strict script block aborts as YN0082 (exit 1)', () => {
    const blocking = [finding('SCRIPT_NOT_ALLOWED', 'esbuild'), finding('KEY_EXPIRED', 'old')];
    const { lines, thrown } = run(verdict({ blocking, exitCode: 1 }));
    expect(lines.map((l) => l.code)).toEqual([5, 82]);
    expect((thrown as ReportError).reportCode).toBe(82);
    expect((thrown as ReportError).message).toMatch(/^portcullis: 1 package\(s\) failed the signatures rule of portcullis.json/);
  });

  it('strict mode (only script findings block): YN0005 lines and a YN0005 ReportError', () => {
    const blocking = [finding('SCRIPT_NOT_ALLOWED', 'esbuild'), finding('SCRIPT_NOT_ALLOWED', 'sharp', '0.34.5')];
    const { lines, thrown } = run(verdict({ blocking, exitCode: 1 }));
    expect(lines).toEqual(blocking.map((f) => ({ kind: 'error', code: 5, text: findingLine(f) })));
    expect(thrown).toBeInstanceOf(ReportError);
    expect((thrown as ReportError).reportCode).toBe(5);
    expect((thrown as ReportError).message).toBe('portcullis: 2 package(s) want to run install scripts that scripts.allow does not cover (strict mode: portcullisStrict or PORTCULLIS_STRICT_SCRIPTS); nothing was fetched or run');
  });

  it('skipped builds (not blocking): the gate\'s notice as one YN0005 warning, after the notices, and no error', () => {
    const notice = 'portcullis SCRIPT_NOT_ALLOWED: esbuild@0.25.0 will not run install scripts (or node-gyp): … To allow: yarn portcullis approve esbuild@0.25.0';
    const { lines, thrown } = run(verdict({ skipped: [finding('SCRIPT_NOT_ALLOWED', 'esbuild', '0.25.0')], skippedNotice: notice, notices: ['n'] }));
    expect(thrown).toBeUndefined();
    expect(lines).toEqual([
      { kind: 'info', code: null, text: 'portcullis: n' },
      { kind: 'warning', code: 5, text: notice },
    ]);
  });

  it('decides nothing itself: skipped findings without the gate\'s notice say nothing', () => {
    expect(run(verdict({ skipped: [finding('SCRIPT_NOT_ALLOWED', 'esbuild')] }))).toEqual({ lines: [], thrown: undefined });
  });
});

describe('policyRefusal', () => {
  it('is a YN0067 ReportError carrying the policy error (file, line, column)', () => {
    const error = policyRefusal('/p/portcullis.json:3:5: scripts.allow must be an array');
    expect(error).toBeInstanceOf(ReportError);
    expect(error.reportCode).toBe(67);
    expect(error.reportCode).toBe(YarnCode.policy);
    expect(error.message).toBe('portcullis: /p/portcullis.json:3:5: scripts.allow must be an array');
  });
});
