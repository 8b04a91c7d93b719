import { describe, expect, it } from 'vitest';
import type { Finding } from '../finding.js';
import { approveCommand, findingsHeadline, forSurface, skippedNotice } from './notices.js';

const finding = (name: string): Finding => ({ package: name, version: '1.0.0', rule: 'scripts', code: 'SCRIPT_NOT_ALLOWED', message: `${name}@1.0.0 wants to run postinstall`, fix: `portcullis approve ${name}@1.0.0` });

describe('notices', () => {
  it('the headline: one finding whole with its fix; several, each package once with its codes, at most five named', () => {
    expect(findingsHeadline([finding('a')])).toBe('a@1.0.0 wants to run postinstall [SCRIPT_NOT_ALLOWED] — fix: portcullis approve a@1.0.0');
    const unsigned: Finding = { ...finding('a'), rule: 'signatures', code: 'UNSIGNED' };
    expect(findingsHeadline([finding('a'), unsigned, finding('b')])).toBe('a@1.0.0 (SCRIPT_NOT_ALLOWED, UNSIGNED), b@1.0.0 (SCRIPT_NOT_ALLOWED); the fix for each is below');
    const seven = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(finding);
    expect(findingsHeadline(seven)).toBe('a@1.0.0 (SCRIPT_NOT_ALLOWED), b@1.0.0 (SCRIPT_NOT_ALLOWED), c@1.0.0 (SCRIPT_NOT_ALLOWED), d@1.0.0 (SCRIPT_NOT_ALLOWED), e@1.0.0 (SCRIPT_NOT_ALLOWED), and 2 more; the fix for each is below');
  });

  it('approveCommand lists each package once, pinned, spelled for the surface', () => {
    const skipped = [finding('b'), finding('a'), finding('b')];
    expect(approveCommand(skipped)).toBe('portcullis approve a@1.0.0 b@1.0.0');
    expect(approveCommand(skipped, 'yarn')).toBe('yarn portcullis approve a@1.0.0 b@1.0.0');
  });

  it('a fix that is a Portcullis command is spelled as the surface runs it; advice is left alone', () => {
    expect(forSurface(finding('a'), 'yarn').fix).toBe('yarn portcullis approve a@1.0.0');
    expect(forSurface(finding('a'), 'pnpm').fix).toBe('portcullis approve a@1.0.0');
    expect(forSurface({ ...finding('a'), fix: 'do not install it' }, 'yarn').fix).toBe('do not install it');
  });

  it('one skipped-scripts notice per surface, with the one approve command', () => {
    const skipped = [finding('b'), finding('a')];
    expect(skippedNotice([], 'pnpm')).toBeUndefined();
    expect(skippedNotice(skipped, 'pnpm')).toBe('portcullis: skipped the install scripts of a@1.0.0, b@1.0.0 (not in scripts.allow of portcullis.json). To allow: portcullis approve a@1.0.0 b@1.0.0');
    expect(skippedNotice(skipped, 'yarn')).toContain('portcullis SCRIPT_NOT_ALLOWED: a@1.0.0, b@1.0.0 will not run install scripts');
    expect(skippedNotice(skipped, 'yarn')).toContain('To allow: yarn portcullis approve a@1.0.0 b@1.0.0');
    expect(skippedNotice(skipped, 'npm')).toContain('To let them run: portcullis approve a@1.0.0 b@1.0.0 && portcullis-npm rebuild');
    expect(skippedNotice(skipped, 'npm')).toContain('  - b@1.0.0 wants to run postinstall');
  });
});
