import { describe, expect, it } from 'vitest';
import type { Finding } from '../finding.js';
import { approveCommand, forSurface, skippedNotice } from './notices.js';

const finding = (name: string): Finding => ({ package: name, version: '1.0.0', rule: 'scripts', code: 'SCRIPT_NOT_ALLOWED', message: `${name}@1.0.0 wants to run postinstall`, fix: `portcullis approve ${name}@1.0.0` });

describe('notices', () => {
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
