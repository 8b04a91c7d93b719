import type { Finding, Verdict } from '@portcullis/core';
import { fakeVerdict } from '@portcullis/core/internal';
import { ReportError, type MessageName } from '@yarnpkg/core';
import { describe, expect, it } from 'vitest';
import { codeOf, downloadRefusal, findingLine, policyRefusal, reportVerdict, YarnCode } from './refuse.js';

/** What a refusal after the resolution says was not done (never "nothing was fetched or run": Yarn fetches while it resolves). */
const STOPPED = 'the install stopped before its fetch step: nothing was linked or built (while it resolves, Yarn downloads only tarball-URL dependencies, and packs only the git dependencies portcullis.json allows)';

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
    expect((thrown as ReportError).message).toBe(`portcullis: 2 package(s) failed the signatures rule of portcullis.json; ${STOPPED}`);
  });

  it('a blocking SCRIPT_CHANGED aborts under YN0005, naming the scripts rule', () => {
    const changed: Finding = { ...finding('SCRIPT_CHANGED', 'lib', '1.1.0'), rule: 'scripts' };
    const { lines, thrown } = run(verdict({ blocking: [changed], exitCode: 1 }));
    expect(lines).toEqual([{ kind: 'error', code: 5, text: findingLine(changed) }]);
    expect((thrown as ReportError).reportCode).toBe(5);
    expect((thrown as ReportError).message).toBe(`portcullis: 1 package(s) failed the scripts rule of portcullis.json; ${STOPPED}`);
  });

  it('fails closed when the gate could not decide (exit 3): YN0035 lines and a YN0035 ReportError', () => {
    const blocking = [finding('METADATA_UNAVAILABLE', 'gone')];
    const { lines, thrown } = run(verdict({ blocking, exitCode: 3 }));
    expect(lines).toEqual([{ kind: 'error', code: 35, text: findingLine(blocking[0]!) }]);
    expect((thrown as ReportError).reportCode).toBe(35);
    expect((thrown as ReportError).message).toBe(`portcullis: 1 package(s) could not be decided on (fail closed); ${STOPPED}`);
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
    expect((thrown as ReportError).message).toBe(`portcullis: 1 package(s) failed the provenance, cooldown rules of portcullis.json; ${STOPPED}`);
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
    expect((thrown as ReportError).message).toBe(
      `portcullis: 2 package(s) want to run install scripts that scripts.allow does not cover, and would run them (a git dependency runs its scripts when Yarn packs it; anything else only in strict mode: portcullisStrict or PORTCULLIS_STRICT_SCRIPTS); ${STOPPED}`,
    );
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

describe('reportVerdict while Yarn resolves (before a fetch that runs code)', () => {
  it('says the install stopped before that fetch, and no more', () => {
    const blocking = [finding('UNSIGNED_SOURCE', 'git-thing', 'git+https://git.example/x.git#commit=abc'), finding('SCRIPT_NOT_ALLOWED', 'git-thing', 'git+https://git.example/x.git#commit=abc')];
    const report = fakeReport();
    let thrown: unknown;
    try {
      reportVerdict(verdict({ blocking, exitCode: 1 }), report, 'fetching');
    } catch (error) {
      thrown = error;
    }
    expect(report.lines.map((l) => l.code)).toEqual([82, 5]);
    expect((thrown as ReportError).reportCode).toBe(82);
    expect((thrown as ReportError).message).toBe('portcullis: 1 package(s) failed the signatures rule of portcullis.json; the install stopped before Yarn fetched it: none of its code ran');
  });
});

describe('downloadRefusal', () => {
  it('one line per tarball (BAD_SIGNATURE for other bytes, METADATA_UNAVAILABLE for bytes taken from the cache), then one abort', () => {
    const report = fakeReport();
    const error = downloadRefusal(
      [
        { package: 'good@1.0.0', url: 'http://127.0.0.1:4873/good/-/good-1.0.0.tgz', expected: 'sha512-signed', actual: 'sha512-other' },
        { package: 'b@2.0.0', url: 'http://127.0.0.1:4873/b/-/b-2.0.0.tgz', expected: 'sha512-b', actual: null },
      ],
      report,
    );
    expect(report.lines.map((l) => [l.kind, l.code])).toEqual([
      ['error', 18],
      ['error', 35],
    ]);
    expect(report.lines[0]!.text).toBe(
      "portcullis BAD_SIGNATURE: the tarball Yarn downloaded for good@1.0.0 while it resolved (http://127.0.0.1:4873/good/-/good-1.0.0.tgz) is not the one the registry signed (it has sha512-other, the signature covers sha512-signed). Fix: do not install it; remove Yarn's cached copies (yarn cache clean --all) and report the registry or mirror that served it",
    );
    expect(report.lines[1]!.text).toContain('portcullis METADATA_UNAVAILABLE: b@2.0.0 was resolved from its tarball URL');
    expect(error.reportCode).toBe(18);
    expect(error.message).toBe(`portcullis: 2 tarball(s) Yarn took while it resolved are not known to be the ones the registry signed; ${STOPPED}`);
    expect(downloadRefusal([{ package: 'b@2.0.0', url: 'u', expected: 'e', actual: null }], fakeReport()).reportCode).toBe(35);
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
