import { isYarnGitReference, readYarnLockfileData, YARN_GIT_PATTERNS } from '@portcullis/core/internal';
import { gitUtils } from '@yarnpkg/plugin-git';
import { describe, expect, it } from 'vitest';
import { fetchRunsCode, scriptsRunWhenFetched, YARN_QUIRKS } from './quirks.js';

describe('fetchRunsCode (Yarn\'s own test for a git reference)', () => {
  it('git URLs, GitHub shorthands and git references with a commit run code when fetched', () => {
    for (const reference of ['git+https://git.example/x.git#commit=abc', 'git+http://127.0.0.1:4000/git-thing.git', 'https://git.example/x.git#commit=abc', 'git@github.com:o/r.git', 'github:o/r', 'o/r', 'git+ssh://git@git.example/x.git']) {
      expect(fetchRunsCode({ reference }), reference).toBe(true);
    }
  });

  it('exec: generators run code when fetched (execGeneratedWhenFetched)', () => {
    expect(fetchRunsCode({ reference: 'exec:./gen.js#./gen.js::hash=c25d6f&locator=dep%40npm%3A1.0.0' })).toBe(true);
  });

  it('registry, tarball URL, patch, workspace and file references do not', () => {
    for (const reference of ['npm:1.0.0', 'https://registry.example/good/-/good-1.0.0.tgz', 'patch:good@npm%3A1.0.0#./p.patch::version=1.0.0&hash=x', 'workspace:.', 'file:./x']) {
      expect(fetchRunsCode({ reference }), reference).toBe(false);
    }
  });
});

describe('scriptsRunWhenFetched', () => {
  it('git dependencies, and any package whose reference Yarn fetches by running code', () => {
    expect(scriptsRunWhenFetched({ source: 'git' })).toBe(true);
    for (const source of ['registry', 'tarball', 'directory', 'workspace'] as const) expect(scriptsRunWhenFetched({ source })).toBe(false);
    expect(scriptsRunWhenFetched({ source: 'tarball', resolved: 'exec:./gen.js#./gen.js' })).toBe(true);
    expect(scriptsRunWhenFetched({ source: 'tarball', resolved: 'http://git.example/x.git#commit:abc' })).toBe(true);
    expect(scriptsRunWhenFetched({ source: 'tarball', resolved: 'https://files.example/x-1.0.0.tgz' })).toBe(false);
  });
});

/** Spellings of git references (and of things that are not), as package.json and yarn.lock may hold them. */
const SPELLINGS = [
  'git+https://git.example/x.git#commit=abc', 'git+http://127.0.0.1:4000/git-thing.git', 'http://127.0.0.1:4000/git-thing.git#commit:abc',
  'https://git.example/x.git#workspace=w&commit=abc', 'ssh://git.example/x.git#commit:abc', 'ssh://git@git.example:22/x', 'git@git.example:o/x.git#commit:abc',
  'git@git.example:o/x', 'git://git.example/x.git', 'git+file:///srv/x.git', 'github:o/r', 'github:o/r#commit=abc', 'o/r', 'o/r.git#semver:^1', 'https://github.com/o/r',
  'https://github.com/o/r/tarball/abc', 'gitlab:o/r', 'bitbucket:o/r', 'npm:1.0.0', 'npm:1.0.0::__archiveUrl=https%3A%2F%2Fr.example%2Fx.git', 'https://files.example/x-1.0.0.tgz',
  'https://files.example/x.git.tgz', 'http://files.example/o/r', 'file:./x.git', 'file:../o/r', 'link:./o/r', 'portal:./o/r', 'workspace:packages/a', 'exec:./gen.js',
  'patch:x@npm%3A1.0.0#./p.patch', './o/r', '../o/r', 'o/../r', '.git', '/o/r.git', '',
];

describe("core's copy of Yarn's git patterns (YARN_GIT_PATTERNS)", () => {
  it("is the real @yarnpkg/plugin-git's isGitUrl on every spelling", () => {
    for (const reference of SPELLINGS) expect(isYarnGitReference(reference), reference).toBe(gitUtils.isGitUrl(reference));
    expect(YARN_GIT_PATTERNS).toHaveLength(6);
  });

  it("core reads as git every locator Yarn's git resolver takes (the plugin and check agree)", () => {
    for (const reference of SPELLINGS.filter((r) => r !== '' && gitUtils.isGitUrl(r))) {
      const data = { __metadata: { version: '8' }, [`x@${reference}`]: { resolution: `x@${reference}`, version: '1.0.0' } };
      const [pkg] = readYarnLockfileData(data, { path: '/app/yarn.lock', projectDir: '/app', registryFor: () => 'https://r.example/' }).packages;
      expect(pkg?.source, reference).toBe('git');
      expect(scriptsRunWhenFetched(pkg!), reference).toBe(true);
    }
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
