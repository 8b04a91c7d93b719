import { describe, expect, it } from 'vitest';
import { rangedScriptNames, scriptAllowlist, scriptDenylist, scriptsAllowed } from './allowlist.js';
import { parsePolicy } from './load.js';

const policy = parsePolicy(JSON.stringify({ scripts: { allow: ['esbuild', 'sharp@^0.34.0', '@parcel/watcher@2.5.1'] } }), 'portcullis.json');

describe('scriptAllowlist', () => {
  it('keeps names without a range and lists each covered version of a ranged entry', () => {
    const candidates = [
      { name: 'sharp', version: '0.34.5' },
      { name: 'sharp', version: '0.35.0' },
      { name: 'sharp', version: '0.34.6-rc.1' },
      { name: '@parcel/watcher', version: '2.5.1' },
      { name: '@parcel/watcher', version: '2.5.2' },
      { name: 'esbuild', version: '0.25.0' },
      { name: 'sharp', version: '0.34.5' },
    ];
    expect(scriptAllowlist(policy, candidates)).toEqual(['@parcel/watcher@2.5.1', 'esbuild', 'sharp@0.34.5']);
  });
  it('names the packages whose versions must be enumerated', () => {
    expect(rangedScriptNames(policy)).toEqual(['@parcel/watcher', 'sharp']);
  });
});

describe('scriptsAllowed', () => {
  it('a version is allowed when an entry covers it; every version only by an entry without a range', () => {
    expect(scriptsAllowed(policy, 'esbuild')).toBe(true);
    expect(scriptsAllowed(policy, 'esbuild', '0.1.0')).toBe(true);
    expect(scriptsAllowed(policy, 'sharp')).toBe(false);
    expect(scriptsAllowed(policy, 'sharp', '0.34.5')).toBe(true);
    expect(scriptsAllowed(policy, 'sharp', '0.35.0')).toBe(false);
    expect(scriptsAllowed(policy, 'evil')).toBe(false);
    expect(scriptsAllowed(policy, 'evil', '1.0.0')).toBe(false);
  });
});

describe('scriptDenylist', () => {
  it('denies unnamed packages by name and uncovered versions of ranged ones; never an allowed one', () => {
    const candidates = [
      { name: 'evil', version: '1.0.0' },
      { name: 'evil' },
      { name: 'sharp', version: '0.35.0' },
      { name: 'sharp', version: '0.34.5' },
      { name: 'sharp' },
      { name: 'esbuild', version: '0.1.0' },
      { name: '@parcel/watcher', version: '2.5.2' },
    ];
    expect(scriptDenylist(policy, candidates)).toEqual(['@parcel/watcher@2.5.2', 'evil', 'sharp@0.35.0']);
  });
});
