import { describe, expect, it } from 'vitest';
import { builtDependencies, registerYarnPlugin } from './yarn.js';

const entry = { checksum: 'abc', path: '.yarn/plugins/@yarnpkg/plugin-portcullis.cjs', spec: '.yarn/plugins/@yarnpkg/plugin-portcullis.cjs' };

describe('registerYarnPlugin', () => {
  it('adds a plugins list as yarn plugin import does, keeping comments and settings', () => {
    const out = registerYarnPlugin('# ours\nnodeLinker: node-modules\n', entry);
    expect(out).toBe(`# ours\nnodeLinker: node-modules\nplugins:\n  - checksum: abc\n    path: ${entry.path}\n    spec: ${entry.spec}\n`);
  });
  it('replaces an earlier registration of the same path and keeps other plugins', () => {
    const once = registerYarnPlugin('plugins:\n  - path: other.cjs\n    spec: other\n', entry);
    const twice = registerYarnPlugin(once, { ...entry, checksum: 'def' });
    expect(twice).toContain('path: other.cjs');
    expect(twice).not.toContain('abc');
    expect(twice.match(/plugin-portcullis/g)).toHaveLength(2);
  });
  it('re-registering leaves the entry where it stands (a second init changes nothing), and drops duplicates', () => {
    const text = `plugins:\n  - checksum: abc\n    path: ${entry.path}\n    spec: ${entry.spec}\n  - path: later.cjs\n    spec: later\n`;
    expect(registerYarnPlugin(text, entry)).toBe(text);
    const dup = registerYarnPlugin(`plugins:\n  - ${entry.path}\n  - path: later.cjs\n    spec: later\n  - ${entry.path}\n`, entry);
    expect(dup).toBe(text);
  });
  it('works on an empty file and refuses a broken one', () => {
    expect(registerYarnPlugin('', entry)).toContain('plugins:');
    expect(() => registerYarnPlugin('plugins: 3\n', entry)).toThrow(/not a list/);
    expect(() => registerYarnPlugin('a: [\n', entry)).toThrow(/not valid YAML/);
  });
});

describe('builtDependencies', () => {
  it('imports built: true entries, ignores others, skips what scripts.allow cannot express', () => {
    const manifest = { dependenciesMeta: { esbuild: { built: true }, 'sharp@0.34.5': { built: true }, fsevents: { built: false }, x: { unplugged: true }, 'Bad Name': { built: true } } };
    expect(builtDependencies(JSON.stringify(manifest))).toEqual({ allow: ['esbuild', 'sharp@0.34.5'], skipped: ['Bad Name'] });
    expect(builtDependencies('{}')).toEqual({ allow: [], skipped: [] });
    // Yarn reads "@acme/*" as a literal key that names no package: importing it as a wildcard would widen.
    expect(builtDependencies(JSON.stringify({ dependenciesMeta: { '@acme/*': { built: true }, esbuild: { built: true } } }))).toEqual({ allow: ['esbuild'], skipped: ['@acme/*'] });
  });
});
