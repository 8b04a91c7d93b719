import { describe, expect, it } from 'vitest';
import { rangedScriptNames, scriptAllowlist } from './allowlist.js';
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
