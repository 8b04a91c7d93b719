import { describe, expect, it } from 'vitest';
import { parseSwitch, strictScripts } from './strictness.js';

describe('strictScripts', () => {
  it('one environment variable (and its older alias) for every package manager', () => {
    for (const pm of ['npm', 'pnpm', 'yarn'] as const) {
      expect(strictScripts(pm, { env: { PORTCULLIS_STRICT_SCRIPTS: '1' } })).toBe(true);
      expect(strictScripts(pm, { env: { PORTCULLIS_STRICT_BUILDS: 'true' } })).toBe(true);
      expect(strictScripts(pm, { env: {} })).toBe(false);
      expect(strictScripts(pm, { env: { PORTCULLIS_STRICT_SCRIPTS: 'false' } })).toBe(false);
    }
  });

  it("the package manager's own switch, where it has one", () => {
    expect(strictScripts('pnpm', { env: {}, native: true })).toBe(true);
    expect(strictScripts('yarn', { env: {}, native: 'true' })).toBe(true);
    expect(strictScripts('yarn', { env: {}, native: false })).toBe(false);
    // npm has no switch of its own for this: nothing to map
    expect(strictScripts('npm', { env: {}, native: true })).toBe(false);
  });

  it('one truthiness rule; an unreadable value is an error naming the setting, never a guess', () => {
    expect(['1', 'TRUE', 'yes', 'on', ' true '].map((v) => parseSwitch(v, 'X'))).toEqual([true, true, true, true, true]);
    expect(['', '0', 'False', 'no', 'off'].map((v) => parseSwitch(v, 'X'))).toEqual([false, false, false, false, false]);
    expect(() => strictScripts('npm', { env: { PORTCULLIS_STRICT_SCRIPTS: 'maybe' } })).toThrow(/PORTCULLIS_STRICT_SCRIPTS must be true or false/);
    expect(() => parseSwitch(2, 'strictDepBuilds')).toThrow(/strictDepBuilds must be true or false/);
  });
});
