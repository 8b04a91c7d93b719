import { formatText, skippedNotice, type Finding, type Lockfile, type Verdict } from '@portcullis/core';
import { fakeVerdict } from '@portcullis/core/internal';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { refuse, reportBlocked, reportSkipped } from './refuse.js';

const finding = (pkg: string, version: string, extra: Partial<Finding> = {}): Finding => ({
  package: pkg,
  version,
  rule: 'scripts',
  code: 'SCRIPT_NOT_ALLOWED',
  message: `${pkg}@${version} has install scripts (postinstall) that scripts.allow does not cover`,
  fix: `portcullis approve ${pkg}@${version}`,
  ...extra,
});

const lockfile: Lockfile = { kind: 'npm', path: '/project/package-lock.json', packages: [] };

/** A verdict as the core's gate would hand it over; `report` records what it was asked for. */
function verdictWith(options: { blocking?: Finding[]; skipped?: Finding[]; exitCode?: 0 | 1 | 3; notices?: string[] }): Verdict & { reportedFor: unknown[] } {
  const blocking = options.blocking ?? [];
  const reportedFor: unknown[] = [];
  const verdict = fakeVerdict({
    ...options,
    // What the core's gate gives an npm install (its surface is npm).
    skippedNotice: skippedNotice(options.skipped ?? [], 'npm'),
    report(where) {
      reportedFor.push(where);
      return { findings: [...blocking], exitCode: options.exitCode ?? 1, packages: 7, lockfile: where, policy: '/project/portcullis.json', notices: options.notices ?? [] };
    },
  });
  return Object.assign(verdict, { reportedFor });
}

let stderr: MockInstance<typeof process.stderr.write>;
let stdout: MockInstance<typeof process.stdout.write>;
const written = () => stderr.mock.calls.map((call) => String(call[0])).join('');

beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('reportBlocked', () => {
  it("writes the blocking findings in `portcullis check`'s layout, then the state, to stderr only; returns exit 1", () => {
    const blocking = [finding('evil', '1.0.0'), finding('unsigned', '2.0.0', { rule: 'signatures', code: 'UNSIGNED', message: 'unsigned@2.0.0 has no registry signature', fix: 'remove it' })];
    const verdict = verdictWith({ blocking, skipped: [finding('skipped-only', '3.0.0')], exitCode: 1 });
    const code = reportBlocked(verdict, lockfile, 'nothing was installed.', false);
    expect(code).toBe(1);
    expect(verdict.reportedFor).toEqual([{ kind: 'npm', path: '/project/package-lock.json' }]);
    const check = formatText(verdict.report({ kind: 'npm', path: lockfile.path }), { color: false });
    expect(written()).toBe(`${check}portcullis-npm: nothing was installed.\n`);
    expect(written()).toContain('evil@1.0.0');
    expect(written()).toContain('fix: portcullis approve evil@1.0.0');
    expect(written()).toContain('unsigned@2.0.0');
    expect(written()).toContain('2 of 7 packages blocked');
    expect(written()).not.toContain('skipped-only');
    expect(stdout).not.toHaveBeenCalled();
  });

  it("returns the verdict's exit code: 3 when something could not be decided", () => {
    const verdict = verdictWith({ blocking: [finding('far', '1.0.0', { rule: 'signatures', code: 'METADATA_UNAVAILABLE', message: 'far@1.0.0: metadata unavailable', fix: 'retry' })], exitCode: 3 });
    expect(reportBlocked(verdict, lockfile, 'nothing was installed.', false)).toBe(3);
    expect(written()).toContain('far@1.0.0');
    expect(written().endsWith('portcullis-npm: nothing was installed.\n')).toBe(true);
  });

  it('colours only when asked', () => {
    reportBlocked(verdictWith({ blocking: [finding('evil', '1.0.0')] }), lockfile, 'state', true);
    expect(written()).toContain('\u001b[');
    stderr.mockClear();
    reportBlocked(verdictWith({ blocking: [finding('evil', '1.0.0')] }), lockfile, 'state', false);
    expect(written()).not.toContain('\u001b[');
  });
});

describe('reportSkipped', () => {
  const skipped = [finding('b-native', '2.0.0'), finding('a-native', '1.0.0')];

  it("prints npm's notice for skipped install scripts: each package, then the approve command and portcullis-npm rebuild", () => {
    reportSkipped(verdictWith({ skipped }));
    const text = written();
    expect(text).toContain('installed without running the install scripts of 2 package(s)');
    expect(text).toContain(`  - ${skipped[0]!.message}`);
    expect(text).toContain(`  - ${skipped[1]!.message}`);
    expect(text).toContain('To let them run: portcullis approve a-native@1.0.0 b-native@2.0.0 && portcullis-npm rebuild\n');
    expect(stdout).not.toHaveBeenCalled();
  });

  it("prints the verdict's own notice, not one of its own making", () => {
    reportSkipped({ ...verdictWith({ skipped }), skippedNotice: 'the notice the gate decided' });
    expect(written()).toBe('the notice the gate decided\n');
  });

  it('with `only`, names just those packages', () => {
    reportSkipped(verdictWith({ skipped }), ['a-native']);
    const text = written();
    expect(text).toContain('of 1 package(s)');
    expect(text).toContain('portcullis approve a-native@1.0.0 && portcullis-npm rebuild');
    expect(text).not.toContain('b-native');
  });

  it('prints nothing when nothing was skipped, or nothing of `only`', () => {
    reportSkipped(verdictWith({}));
    reportSkipped(verdictWith({ skipped }), ['other']);
    reportSkipped(verdictWith({ skipped }), []);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('never prints blocking findings as skipped', () => {
    reportSkipped(verdictWith({ blocking: [finding('evil', '1.0.0')] }));
    expect(stderr).not.toHaveBeenCalled();
  });
});

describe('refuse', () => {
  it('says why on stderr and returns 2', () => {
    expect(refuse('global installs are not gated yet')).toBe(2);
    expect(written()).toBe('portcullis-npm: global installs are not gated yet\n');
    expect(stdout).not.toHaveBeenCalled();
  });
});
