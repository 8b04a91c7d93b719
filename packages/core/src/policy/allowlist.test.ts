import { describe, expect, it } from 'vitest';
import { rangedScriptNames, scriptAllowlist, scriptCandidateNeeded, scriptDenylist, scriptsAllowed, wildcardScriptScopes } from './allowlist.js';
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

describe('@scope/* in scripts.allow', () => {
  const scoped = parsePolicy(JSON.stringify({ scripts: { allow: ['@acme/*', 'sharp@^0.34.0', '@acme/pinned@1.0.0'] } }), 'portcullis.json');

  it('lists each known package of the scope by its exact name, never the wildcard', () => {
    const candidates = [
      { name: '@acme/native', version: '1.0.0' },
      { name: '@acme/native', version: '2.0.0' },
      { name: '@acme/pinned', version: '3.0.0' },
      { name: '@acmex/evil', version: '1.0.0' },
      { name: 'acme', version: '1.0.0' },
      { name: 'sharp', version: '0.34.5' },
    ];
    expect(scriptAllowlist(scoped, candidates)).toEqual(['@acme/native', '@acme/pinned', 'sharp@0.34.5']);
    expect(scriptAllowlist(scoped, [])).toEqual([]);
  });

  it('never denies a name the wildcard covers', () => {
    const candidates = [{ name: '@acme/native' }, { name: '@acme/native', version: '9.9.9' }, { name: '@acme/pinned', version: '3.0.0' }, { name: '@acmex/evil' }, { name: 'acme', version: '1.0.0' }];
    expect(scriptDenylist(scoped, candidates)).toEqual(['@acmex/evil', 'acme']);
  });

  it('covers every version of every package of the scope, and nothing outside it', () => {
    expect(scriptsAllowed(scoped, '@acme/native')).toBe(true);
    expect(scriptsAllowed(scoped, '@acme/native', '0.0.1')).toBe(true);
    expect(scriptsAllowed(scoped, '@acmex/native')).toBe(false);
    expect(scriptsAllowed(scoped, '@acme/*')).toBe(false);
    expect(scriptsAllowed(scoped, 'acme', '1.0.0')).toBe(false);
  });

  it('says which candidates must be handed to the allowlist', () => {
    expect(rangedScriptNames(scoped)).toEqual(['@acme/pinned', 'sharp']);
    expect(wildcardScriptScopes(scoped)).toEqual(['@acme']);
    expect(['@acme/native', '@acme/pinned', 'sharp', 'esbuild', '@acmex/a'].map((n) => scriptCandidateNeeded(scoped, n))).toEqual([true, true, true, false, false]);
  });
});
