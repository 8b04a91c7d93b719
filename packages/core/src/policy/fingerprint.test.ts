import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { addScriptApprovals } from './edit.js';
import { gitCommitOf, scriptDriftApplies } from './fingerprint.js';
import { parsePolicy } from './load.js';

const parse = (scripts: unknown) => parsePolicy(JSON.stringify({ scripts }), '/p/portcullis.json');
const refusal = (scripts: unknown): string => {
  try {
    parse(scripts);
  } catch (error) {
    if (error instanceof PortcullisError && error.code === 'POLICY_INVALID') return error.message;
    throw error;
  }
  throw new Error('accepted');
};

describe('scripts.fingerprints in portcullis.json', () => {
  it('reads "name@version" entries with command lines, a binding.gyp hash and a commit', () => {
    const policy = parse({
      allow: ['lib@^1', '@acme/native'],
      fingerprints: { 'lib@1.0.0': { postinstall: 'node install.js' }, 'lib@1.0.0+b2': { postinstall: 'node other.js' }, '@acme/native@2.0.0-rc.1': { bindingGyp: `sha256:${'a'.repeat(64)}`, commit: 'f'.repeat(40), prepare: 'tsc' }, 'gyp@1.0.0': { bindingGyp: 'node-gyp rebuild' } },
    });
    expect(policy.scripts.fingerprints).toEqual([
      { name: 'lib', version: '1.0.0', fingerprint: { commands: { postinstall: 'node install.js' } } },
      // Another registry entry (build metadata), as approve pins it (fourteenth wave: such a key was refused).
      { name: 'lib', version: '1.0.0+b2', fingerprint: { commands: { postinstall: 'node other.js' } } },
      { name: '@acme/native', version: '2.0.0-rc.1', fingerprint: { commands: { prepare: 'tsc' }, bindingGyp: `sha256:${'a'.repeat(64)}`, commit: 'f'.repeat(40) } },
      { name: 'gyp', version: '1.0.0', fingerprint: { commands: {}, bindingGyp: true } },
    ]);
    expect(parse({ allow: [] }).scripts.fingerprints).toEqual([]);
  });

  it('refuses hostile or malformed entries with file, line and column', () => {
    expect(refusal({ fingerprints: [] })).toMatch(/portcullis\.json:\d+:\d+: "scripts.fingerprints" must be an object/);
    for (const key of ['lib', 'lib@^1.0.0', 'lib@1', '@acme/*', 'lib@1.0.0 || 2.0.0', 'lib@=1.0.0', 'lib@v1.0.0', 'lib@=1.0.0+b', 'lib@v1.0.0+b', 'lib@1.0.0+', '__proto__', 'Bad Name@1.0.0']) {
      expect(refusal({ fingerprints: { [key]: {} } }), key).toContain('keys are "name@exact-version"');
    }
    expect(refusal({ fingerprints: { 'lib@1.0.0': 'node install.js' } })).toContain('must be an object');
    expect(refusal({ fingerprints: { 'lib@1.0.0': { test: 'x' } } })).toContain('unknown key "test"');
    expect(refusal({ fingerprints: { 'lib@1.0.0': { postinstall: 1 } } })).toContain('must be a string');
    expect(refusal({ fingerprints: { 'lib@1.0.0': { postinstall: 'x'.repeat(16 * 1024 + 1) } } })).toContain('at most 16384 characters');
    expect(refusal({ fingerprints: { 'lib@1.0.0': { postinstall: 'a\u0000b' } } })).toContain('must be a string');
    expect(refusal({ fingerprints: { 'lib@1.0.0': { commit: 'main' } } })).toContain('git commit');
    expect(refusal({ fingerprints: { 'lib@1.0.0': { bindingGyp: 'yes' } } })).toContain('"bindingGyp"');
    expect(() => parsePolicy('{"scripts":{"fingerprints":{"lib@1.0.0":{"postinstall":"a","postinstall":"b"}}}}', '/p/portcullis.json')).toThrow(/duplicate key "postinstall"/);
    expect(() => parsePolicy('{"scripts":{"fingerprints":{"lib@1.0.0":{},"lib@1.0.0":{}}}}', '/p/portcullis.json')).toThrow(/duplicate key "lib@1.0.0"/);
  });

  it('never writes through a prototype: "__proto__@1.0.0"-like names are refused, "constructor@1.0.0" is plain data', () => {
    expect(refusal({ fingerprints: JSON.parse('{"__proto__@1.0.0": {"postinstall": "x"}}') })).toContain('keys are');
    const policy = parse({ fingerprints: { 'constructor@1.0.0': { postinstall: 'x' } } });
    expect(policy.scripts.fingerprints[0]).toEqual({ name: 'constructor', version: '1.0.0', fingerprint: { commands: { postinstall: 'x' } } });
    expect(({} as Record<string, unknown>).postinstall).toBeUndefined();
  });
});

describe('addScriptApprovals with fingerprints', () => {
  const base = `${JSON.stringify({ scripts: { allow: ['lib@^1.0.0'] } }, null, 2)}\n`;

  it('records each version once, keys sorted, and replaces a record of the same version', () => {
    const first = addScriptApprovals(base, '/p/portcullis.json', ['zed@1.0.0', 'lib@1.1.0'], [
      { entry: 'zed@1.0.0', fingerprint: { commands: { install: 'node-gyp rebuild' } } },
      { entry: 'lib@1.1.0', fingerprint: { commands: { postinstall: 'node install.js' }, bindingGyp: true } },
    ]);
    expect(first.recorded).toEqual(['zed@1.0.0', 'lib@1.1.0']);
    const doc = JSON.parse(first.text) as { scripts: { allow: string[]; fingerprints: Record<string, unknown> } };
    expect(Object.keys(doc.scripts.fingerprints)).toEqual(['lib@1.1.0', 'zed@1.0.0']);
    expect(doc.scripts.fingerprints['lib@1.1.0']).toEqual({ postinstall: 'node install.js', bindingGyp: 'node-gyp rebuild' });
    expect(parsePolicy(first.text, '/p/portcullis.json').scripts.fingerprints).toHaveLength(2);

    const again = addScriptApprovals(first.text, '/p/portcullis.json', ['lib@1.1.0'], [{ entry: 'lib@1.1.0', fingerprint: { commands: { postinstall: 'node install.js' }, bindingGyp: true } }]);
    expect(again).toEqual({ text: first.text, added: [], recorded: [] });

    const replaced = addScriptApprovals(first.text, '/p/portcullis.json', ['lib@1.1.0'], [{ entry: 'lib@1.1.0', fingerprint: { commands: { postinstall: 'node other.js' } } }]);
    expect(replaced.recorded).toEqual(['lib@1.1.0']);
    expect((JSON.parse(replaced.text) as { scripts: { fingerprints: Record<string, unknown> } }).scripts.fingerprints['lib@1.1.0']).toEqual({ postinstall: 'node other.js' });
  });

  it('writes nothing it could not read back (a fingerprint for a range is refused)', () => {
    expect(() => addScriptApprovals(base, '/p/portcullis.json', [], [{ entry: 'lib@^1.0.0', fingerprint: { commands: {} } }])).toThrow(PortcullisError);
  });
});

describe('scriptDriftApplies and build metadata', () => {
  it('a pinned approval exempts only the very version it names: 1.0.0+evil, another registry entry, is compared', () => {
    const policy = parse({ allow: ['hooked@1.0.0', 'hooked@^1.0.0'], fingerprints: { 'hooked@1.0.0': { postinstall: 'node a.js' } } });
    expect(scriptDriftApplies(policy, { name: 'hooked', version: '1.0.0', source: 'registry' })).toBe(false);
    expect(scriptDriftApplies(policy, { name: 'hooked', version: '1.0.0+evil', source: 'registry' })).toBe(true);
    expect(scriptDriftApplies(policy, { name: 'hooked', version: '1.0.1', source: 'registry' })).toBe(true);
  });
});

describe('gitCommitOf', () => {
  it('reads the commit of the git URLs lockfiles record, and nothing else', () => {
    const sha = 'ABCDEF0123456789abcdef0123456789abcdef01';
    expect(gitCommitOf(`git+ssh://git@h.example/o/r.git#${sha}`)).toBe(sha.toLowerCase());
    expect(gitCommitOf(`https://codeload.h.example/o/r/tar.gz/${sha}`)).toBe(sha.toLowerCase());
    expect(gitCommitOf(`r@https://h.example/o/r.git#commit=${sha}`)).toBe(sha.toLowerCase());
    expect(gitCommitOf('git+ssh://git@h.example/o/r.git#main')).toBeUndefined();
    expect(gitCommitOf(undefined)).toBeUndefined();
  });
});
