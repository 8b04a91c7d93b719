import { describe, expect, it } from 'vitest';
import { PortcullisError, type Finding, type Verdict } from '@portcullis/core';
import { fakeVerdict } from '@portcullis/core/internal';
import { blockedError, PNPM_APPROVAL_NOTE, policyError, refuseWidening, skippedNoticeText, unjudgedFetchError, type WideningSetting } from './refuse.js';

const finding = (pkg: string, version: string, code: Finding['code'], fix: string): Finding => ({
  package: pkg,
  version,
  rule: code === 'SCRIPT_NOT_ALLOWED' ? 'scripts' : 'signatures',
  code,
  message: `${pkg}@${version}: ${code.toLowerCase()}`,
  fix,
});

/** A fake verdict: only what a refusal reads is real. */
function verdictOf(blocking: Finding[], extra: { exitCode?: 0 | 1 | 3; notices?: string[] } = {}): Verdict {
  return fakeVerdict({ blocking, ...extra });
}

const unsigned = finding('evil', '1.0.0', 'UNSIGNED', 'remove evil or ask its registry to sign it');
const badSig = finding('@acme/logger', '2.0.0', 'BAD_SIGNATURE', 'reinstall @acme/logger from its registry');

describe('blockedError', () => {
  it("is pnpm's error: code ERR_PNPM_PORTCULLIS_BLOCKED, a message counting the packages, a hint with every finding and its fix", () => {
    const error = blockedError(verdictOf([unsigned, badSig]), 'pnpm-lock.yaml');
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_PNPM_PORTCULLIS_BLOCKED');
    expect(error.message).toBe('portcullis blocked 2 packages in pnpm-lock.yaml: evil@1.0.0 (UNSIGNED), @acme/logger@2.0.0 (BAD_SIGNATURE); the fix for each is below. Nothing was linked and no install script ran');
    expect(error.hint).toBe(
      [
        '  UNSIGNED  evil@1.0.0: unsigned',
        '    fix: remove evil or ask its registry to sign it',
        '  BAD_SIGNATURE  @acme/logger@2.0.0: bad_signature',
        '    fix: reinstall @acme/logger from its registry',
      ].join('\n'),
    );
    // pnpm 12 prints the stack: it must say the same as message and hint.
    expect(error.stack).toBe(`${error.message}\n${error.hint}`);
  });

  it('counts packages, not findings, and says "package" for one', () => {
    const twice = [unsigned, finding('evil', '1.0.0', 'SCRIPT_NOT_ALLOWED', 'portcullis approve evil@1.0.0')];
    expect(blockedError(verdictOf(twice), 'the resolved dependencies').message).toBe('portcullis blocked 1 package in the resolved dependencies: evil@1.0.0 (UNSIGNED, SCRIPT_NOT_ALLOWED); the fix for each is below. Nothing was linked and no install script ran');
  });

  it('exit 3 (could not decide) is ERR_PNPM_PORTCULLIS_UNDECIDED, failing closed', () => {
    const unavailable = finding('left-pad', '1.3.0', 'METADATA_UNAVAILABLE', 'check the registry is reachable, then install again');
    const error = blockedError(verdictOf([unavailable], { exitCode: 3 }), 'pnpm-lock.yaml');
    expect(error.code).toBe('ERR_PNPM_PORTCULLIS_UNDECIDED');
    expect(error.message).toBe('portcullis could not decide on 1 package in pnpm-lock.yaml: left-pad@1.3.0: metadata_unavailable [METADATA_UNAVAILABLE] — fix: check the registry is reachable, then install again. Nothing was installed (fail closed)');
    expect(error.hint).toContain('  METADATA_UNAVAILABLE  left-pad@1.3.0: metadata_unavailable\n    fix: check the registry is reachable, then install again');
  });

  it("puts the verdict's notices above the findings", () => {
    const error = blockedError(verdictOf([unsigned], { notices: ['the mirror http://127.0.0.1:7/ strips signatures', 'refreshed keys'] }), 'pnpm-lock.yaml');
    expect(error.hint.split('\n')).toEqual(['  ! the mirror http://127.0.0.1:7/ strips signatures', '  ! refreshed keys', '  UNSIGNED  evil@1.0.0: unsigned', '    fix: remove evil or ask its registry to sign it']);
    expect(error.stack).toBe(`${error.message}\n${error.hint}`);
  });
});

describe('refuseWidening', () => {
  const setting = (name: string, allows: string[]): WideningSetting => ({ place: 'on the command line', setting: name, allows, fix: `leave out ${name}` });

  it('refuses nothing when no setting widens', () => {
    expect(() => refuseWidening([])).not.toThrow();
  });

  it('throws ERR_PNPM_PORTCULLIS_SETTINGS listing each setting, where it is, what it allows and its fix', () => {
    let thrown: unknown;
    try {
      refuseWidening([setting('--allow-build=evil', ['evil']), { place: 'in /repo/package.json', setting: 'pnpm.onlyBuiltDependencies', allows: ['a', 'b@1.0.0'], fix: 'remove it' }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_SETTINGS' });
    const error = thrown as Error & { hint: string };
    expect(error.message).toContain('2 pnpm settings would let packages build');
    expect(error.message).toContain('pnpm applies them after');
    expect(error.hint).toBe(
      [
        '  SETTING_WIDENS_BUILDS  --allow-build=evil on the command line allows evil',
        '    fix: leave out --allow-build=evil',
        '  SETTING_WIDENS_BUILDS  pnpm.onlyBuiltDependencies in /repo/package.json allows a, b@1.0.0',
        '    fix: remove it',
      ].join('\n'),
    );
    expect(error.stack).toBe(`${error.message}\n${error.hint}`);
  });

  it('speaks of one setting in the singular', () => {
    expect(() => refuseWidening([setting('--dangerously-allow-all-builds', ['every package'])])).toThrow(/1 pnpm setting would let .* pnpm applies it after/);
  });
});

describe('policyError', () => {
  it('a PortcullisError (invalid portcullis.json) becomes ERR_PNPM_PORTCULLIS_POLICY with its message', () => {
    const error = policyError(new PortcullisError('POLICY_INVALID', '/repo/portcullis.json:3:5: scripts.allow must be a list')) as Error & { code: string; hint: string };
    expect(error.code).toBe('ERR_PNPM_PORTCULLIS_POLICY');
    expect(error.message).toBe('/repo/portcullis.json:3:5: scripts.allow must be a list');
    expect(error.hint).toContain('Fix portcullis.json');
    expect(error.stack).toBe(`${error.message}\n${error.hint}`);
  });

  it('any other error passes through unchanged', () => {
    const other = new TypeError('boom');
    expect(policyError(other)).toBe(other);
    expect(policyError('text')).toBe('text');
  });
});

describe('skippedNoticeText', () => {
  it("adds the word about pnpm's own approval only when pnpm will offer it", () => {
    expect(skippedNoticeText('portcullis: skipped x', false)).toBe('portcullis: skipped x');
    expect(skippedNoticeText('portcullis: skipped x', true)).toBe(`portcullis: skipped x\n${PNPM_APPROVAL_NOTE}`);
    expect(PNPM_APPROVAL_NOTE).toContain('pnpm approve-builds');
  });
});

describe('unjudgedFetchError', () => {
  it("pnpm 12's fetch that updateConfig could not judge: ERR_PNPM_PORTCULLIS_UNDECIDED naming why, nothing fetched, and the command that judges it", () => {
    const error = unjudgedFetchError('lockfile line 3: a YAML merge key');
    expect(error.code).toBe('ERR_PNPM_PORTCULLIS_UNDECIDED');
    expect(error.message).toContain('portcullis refused pnpm fetch');
    expect(error.message).toContain('lockfile line 3: a YAML merge key');
    expect(error.message).toContain('Nothing was fetched, linked or built');
    expect(error.hint).toContain('pnpm install --frozen-lockfile');
    expect(error.stack).toBe(`${error.message}\n${error.hint}`);
  });
});
