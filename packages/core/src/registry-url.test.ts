import { describe, expect, it } from 'vitest';
import { PortcullisError } from './errors.js';
import { normalizeRegistryUrl } from './registry-url.js';

describe('normalizeRegistryUrl', () => {
  it.each([
    ['https://registry.npmjs.org', 'https://registry.npmjs.org/'],
    ['HTTPS://Registry.NPMJS.org:443/', 'https://registry.npmjs.org/'],
    ['http://localhost:80', 'http://localhost/'],
    ['http://localhost:4873', 'http://localhost:4873/'],
    ['https://npm.example.corp/api/npm/Private', 'https://npm.example.corp/api/npm/Private/'],
    ['https://npm.example.corp/api//', 'https://npm.example.corp/api/'],
    ['https://user:secret@npm.example.corp/?x=1#y', 'https://npm.example.corp/'],
    ['  https://npm.example.corp  ', 'https://npm.example.corp/'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRegistryUrl(input)).toBe(expected);
  });

  it('rejects what is not an http(s) URL', () => {
    for (const bad of ['registry', 'file:///tmp/x', 'git+ssh://host/x']) {
      expect(() => normalizeRegistryUrl(bad)).toThrow(PortcullisError);
    }
  });
});

describe('normalizeRegistryUrl errors', () => {
  it('never echo credentials written into the URL', () => {
    for (const bad of ['ftp://user:s3cret@host/', 'https://user:s3cret@host:99999/']) {
      expect(() => normalizeRegistryUrl(bad)).toThrow(/\*\*\*@/);
      try {
        normalizeRegistryUrl(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain('s3cret');
      }
    }
  });
});
