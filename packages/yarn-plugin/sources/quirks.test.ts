import { describe, expect, it } from 'vitest';
import { fetchRunsCode, scriptsRunWhenFetched, YARN_QUIRKS } from './quirks.js';

describe('fetchRunsCode (Yarn\'s own test for a git reference)', () => {
  it('git URLs, GitHub shorthands and git references with a commit run code when fetched', () => {
    for (const reference of ['git+https://git.example/x.git#commit=abc', 'git+http://127.0.0.1:4000/git-thing.git', 'https://git.example/x.git#commit=abc', 'git@github.com:o/r.git', 'github:o/r', 'o/r', 'git+ssh://git@git.example/x.git']) {
      expect(fetchRunsCode({ reference }), reference).toBe(true);
    }
  });

  it('registry, tarball URL, patch, workspace and file references do not', () => {
    for (const reference of ['npm:1.0.0', 'https://registry.example/good/-/good-1.0.0.tgz', 'patch:good@npm%3A1.0.0#./p.patch::version=1.0.0&hash=x', 'workspace:.', 'file:./x']) {
      expect(fetchRunsCode({ reference }), reference).toBe(false);
    }
  });
});

describe('scriptsRunWhenFetched', () => {
  it('git dependencies only', () => {
    expect(scriptsRunWhenFetched({ source: 'git' })).toBe(true);
    for (const source of ['registry', 'tarball', 'directory', 'workspace'] as const) expect(scriptsRunWhenFetched({ source })).toBe(false);
  });
});

describe('YARN_QUIRKS', () => {
  it('every row names the versions measured and the test that pins it', () => {
    for (const quirk of Object.values(YARN_QUIRKS)) {
      expect(quirk.versions).toMatch(/4\.\d+\.\d+/);
      expect(quirk.pinnedBy).toMatch(/packages\/e2e\/test\/[a-z-]+\.test\.ts/);
    }
  });
});
