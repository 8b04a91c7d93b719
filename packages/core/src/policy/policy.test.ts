import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import schema from '../../schema.json' with { type: 'json' };
import { PortcullisError } from '../errors.js';
import { parseJsonWithLocations } from './json.js';
import { findPolicyFile, loadPolicy, loadProjectPolicy, parsePolicy, policyFileLookups } from './load.js';
import { createSpecMatcher, parsePackageSpec, specMatches } from './spec.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';

function policyError(text: string): PortcullisError {
  try {
    parsePolicy(text, '/p/portcullis.json');
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected the policy to be rejected');
}

describe('parseJsonWithLocations', () => {
  it('locates values by line and column', () => {
    const root = parseJsonWithLocations('{\n  "a": [1, "x"]\n}');
    expect(root.kind).toBe('object');
    if (root.kind !== 'object') return;
    expect(root.entries[0]!.keyLocation).toEqual({ line: 2, column: 3 });
    const arr = root.entries[0]!.value;
    expect(arr.kind === 'array' && arr.items[1]!.location).toEqual({ line: 2, column: 12 });
  });

  it('keeps __proto__ as a plain key', () => {
    const root = parseJsonWithLocations('{"__proto__": {"polluted": true}}');
    expect(root.kind === 'object' && root.entries[0]!.key).toBe('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a": 1,}', 1, 9, 'trailing comma'],
    ['{\n  "a" 1\n}', 2, 7, "expected ':'"],
    ['{"a": tru}', 1, 7, 'expected a JSON value'],
    ['{"a": "x\n"}', 1, 9, 'control character'],
    ['{} x', 1, 4, 'after the end'],
    ['', 1, 1, 'end of file'],
  ])('rejects %j at line %i column %i', (text, line, column, message) => {
    const error = policyError(text);
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.location).toEqual({ line, column });
    expect(error.message).toContain(`/p/portcullis.json:${line}:${column}`);
    expect(error.message).toContain(message);
    expect(error.exitCode).toBe(2);
  });

  it('refuses absurd nesting instead of overflowing the stack', () => {
    expect(policyError('['.repeat(10000)).message).toContain('nesting deeper');
  });
});

describe('policy validation', () => {
  it('applies the defaults to an empty file', () => {
    const policy = parsePolicy('{}', '/p/portcullis.json');
    expect(policy.scripts.allow).toEqual([]);
    expect(policy.signatures).toEqual({ require: 'registry', allowUnsigned: [] });
    expect(policy.registries).toEqual({ [NPM_REGISTRY_URL]: { keys: 'npm' } });
  });

  it('reads the contract example', () => {
    const policy = parsePolicy(
      JSON.stringify({
        $schema: './schema.json',
        scripts: { allow: ['esbuild', 'sharp@^0.34.0', '@parcel/watcher@2.5.1'] },
        signatures: { require: 'registry', allowUnsigned: ['legacy-internal@^1'] },
        registries: {
          'https://registry.npmjs.org/': { keys: 'npm' },
          'https://NPM.example.corp': {
            keys: [{ keyid: 'SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'MFkwEwYH', expires: null }],
          },
        },
      }, null, 2),
      '/p/portcullis.json',
    );
    expect(policy.scripts.allow.map((s) => [s.name, s.range])).toEqual([
      ['esbuild', null],
      ['sharp', '^0.34.0'],
      ['@parcel/watcher', '2.5.1'],
    ]);
    expect(policy.scripts.allow[1]!.location).toEqual({ line: 6, column: 7 });
    expect(policy.signatures.allowUnsigned[0]!.name).toBe('legacy-internal');
    expect(Object.keys(policy.registries)).toEqual([NPM_REGISTRY_URL, 'https://npm.example.corp/']);
  });

  it.each([
    ['{"script": {}}', 1, 2, 'unknown key "script"'],
    ['{"scripts": {"allow": "esbuild"}}', 1, 23, 'must be an array'],
    ['{"scripts": {"allow": [42]}}', 1, 24, 'must be strings'],
    ['{"scripts": {"allow": ["sharp@^^1"]}}', 1, 24, 'not a valid semver range'],
    ['{"scripts": {"allow": ["Bad Name"]}}', 1, 24, 'not a valid package name'],
    ['{"scripts": {"allow": ["../evil"]}}', 1, 24, 'not a valid package name'],
    ['{"scripts": {"allow": ["x@npm:y@1"]}}', 1, 24, 'npm: alias'],
    ['{"scripts": {"allow": ["a", "a"]}}', 1, 29, 'twice'],
    ['{"signatures": {"require": "always"}}', 1, 28, '"registry" or "off"'],
    ['{"registries": {"ftp://x/": {"keys": "npm"}}}', 1, 17, 'not a registry URL'],
    ['{"registries": {"https://x/": {}}}', 1, 31, 'needs "keys"'],
    ['{"registries": {"https://x/": {"keys": [{"keyid": "nope"}]}}}', 1, 51, 'fingerprint'],
    ['{"a": 1, "a": 2}', 1, 10, 'duplicate key "a"'],
    ['{"scripts": {}, "scripts": {}}', 1, 17, 'duplicate key "scripts"'],
  ])('rejects %s at %i:%i', (text, line, column, message) => {
    const error = policyError(text);
    expect(error.message).toContain(message);
    expect(error.location).toEqual({ line, column });
  });
});

describe('schema.json', () => {
  const validate = new Ajv({ strict: false }).compile(schema);
  const docs = [
    '{}',
    '{"scripts": {"allow": ["esbuild", "@parcel/watcher@2.5.1"]}}',
    '{"signatures": {"require": "off"}}',
    '{"registries": {"https://x.example/": {"keys": "npm"}}}',
    '{"script": {}}',
    '{"scripts": {"allow": "esbuild"}}',
    '{"signatures": {"require": "always"}}',
    '{"registries": {"https://x/": {}}}',
    '{"registries": {"https://x/": {"keys": [{"keyid": "nope", "keytype": "ecdsa-sha2-nistp256", "scheme": "ecdsa-sha2-nistp256", "key": "AA=="}]}}}',
  ];
  it.each(docs)('agrees with the validator on %s', (text) => {
    let ours = true;
    try {
      parsePolicy(text, '/p/portcullis.json');
    } catch {
      ours = false;
    }
    expect(validate(JSON.parse(text))).toBe(ours);
  });
});

describe('package specs', () => {
  it('parses names, scopes and ranges', () => {
    expect(parsePackageSpec('esbuild')).toMatchObject({ name: 'esbuild', range: null });
    expect(parsePackageSpec('@parcel/watcher')).toMatchObject({ name: '@parcel/watcher', range: null });
    expect(parsePackageSpec('@parcel/watcher@^2')).toMatchObject({ name: '@parcel/watcher', range: '^2' });
    expect(parsePackageSpec('sharp@>=0.33 <0.35')).toMatchObject({ name: 'sharp', range: '>=0.33 <0.35' });
  });

  const spec = (raw: string) => {
    const parsed = parsePackageSpec(raw);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed;
  };

  it.each([
    ['esbuild', 'esbuild', '0.28.2', true],
    ['esbuild', 'esbuild', '1.0.0-beta.1', true],
    ['esbuild', 'esbuild-wasm', '0.28.2', false],
    ['esbuild', 'Esbuild', '0.28.2', false],
    ['sharp@^0.34.0', 'sharp', '0.34.5', true],
    ['sharp@^0.34.0', 'sharp', '0.35.0', false],
    ['sharp@^0.34.0', 'sharp', '0.34.6-rc.1', false],
    ['sharp@^0.34.6-rc.0', 'sharp', '0.34.6-rc.1', true],
    ['@parcel/watcher@2.5.1', '@parcel/watcher', '2.5.1', true],
    ['@parcel/watcher@2.5.1', '@parcel/watcher', '2.5.2', false],
    ['@parcel/watcher', '@other/watcher', '2.5.1', false],
    ['watcher', '@parcel/watcher', '2.5.1', false],
    ['x@1', 'x', 'not-semver', false],
  ])('%s matches %s@%s: %s', (raw, name, version, expected) => {
    expect(specMatches(spec(raw), name, version)).toBe(expected);
  });

  it.each([
    // A pinned approval is the review of one registry entry: another entry that npm's ranges read as the same version is not it.
    ['hooked@1.0.0', '1.0.0', true],
    ['hooked@1.0.0', '1.0.0+evil', false],
    ['hooked@=1.0.0', '1.0.0+evil', false],
    ['hooked@v1.0.0', '1.0.0', true],
    ['hooked@^1.0.0', '1.0.1+evil', false],
    ['hooked@1.0.0 - 1.0.0', '1.0.0+evil', false],
    ['hooked@1.0.0+evil', '1.0.0+evil', true],
    ['hooked@1.0.0+evil', '1.0.0', false],
    ['hooked@1.0.0+good', '1.0.0+evil', false],
    ['hooked@1.0.0', 'v1.0.0', false],
    ['hooked@1.0.0', '=1.0.0', false],
    ['hooked@^1.0.0', ' 1.0.1', false],
    ['hooked', '1.0.0+evil', true],
  ])('as an allowance, %s covers hooked@%s: %s', (raw, version, expected) => {
    expect(specMatches(spec(raw), 'hooked', version)).toBe(expected);
    expect(createSpecMatcher([spec(raw)])('hooked', version) !== undefined).toBe(expected);
  });

  it('as a requirement, a range covers a version with build metadata by npm\'s rule (asking more of it, never less)', () => {
    expect(specMatches(spec('hooked@1.0.0'), 'hooked', '1.0.0+evil', 'requires')).toBe(true);
    expect(specMatches(spec('hooked@^1.0.0'), 'hooked', '1.0.1+evil', 'requires')).toBe(true);
    expect(createSpecMatcher([spec('hooked@1.0.0')], 'requires')('hooked', '1.0.0+evil')?.raw).toBe('hooked@1.0.0');
  });

  it('reads @scope/* as every package of that scope, never with a range', () => {
    expect(parsePackageSpec('@acme/*')).toEqual({ raw: '@acme/*', name: '@acme/*', range: null, scope: '@acme' });
    expect(parsePackageSpec('@acme/*@^1')).toMatch(/version range on a scope wildcard/);
    expect(parsePackageSpec('@acme/*@')).toMatch(/version range on a scope wildcard/);
    for (const bad of ['*', '@*', '@/*', '@acme/**', '@acme/x*', 'acme/*', '@ac me/*', '@../*', '@acme/*/x']) expect(typeof parsePackageSpec(bad), bad).toBe('string');
  });

  it.each([
    ['@acme/*', '@acme/lib', '1.0.0', true],
    ['@acme/*', '@acme/lib', '0.0.0-rc.1', true],
    ['@acme/*', '@acme/lib', 'not-semver', true],
    ['@acme/*', '@acme', '1.0.0', false],
    ['@acme/*', '@acmex/lib', '1.0.0', false],
    ['@acme/*', '@Acme/lib', '1.0.0', false],
    ['@acme/*', 'acme', '1.0.0', false],
    ['@acme/*', 'lib', '1.0.0', false],
    ['@acme/*', '@other/acme', '1.0.0', false],
    ['@acme/*', '@acme/../x', '1.0.0', false],
  ])('%s matches %s@%s: %s', (raw, name, version, expected) => {
    expect(specMatches(spec(raw), name, version)).toBe(expected);
  });

  it('a scope wildcard and name entries are searched in list order', () => {
    const match = createSpecMatcher([spec('@acme/a@1'), spec('@acme/*'), spec('@acme/b')]);
    expect(match('@acme/a', '1.0.0')?.raw).toBe('@acme/a@1');
    expect(match('@acme/a', '2.0.0')?.raw).toBe('@acme/*');
    expect(match('@acme/b', '2.0.0')?.raw).toBe('@acme/*');
    expect(match('@acmex/b', '2.0.0')).toBeUndefined();
    expect(match('@acme/*', '1.0.0')).toBeUndefined();
    expect(createSpecMatcher([spec('@acme/b'), spec('@acme/*')])('@acme/b', '1.0.0')?.raw).toBe('@acme/b');
  });

  it('every spec list takes @scope/*', () => {
    const p = parsePolicy(JSON.stringify({ scripts: { allow: ['@acme/*'] }, signatures: { allowUnsigned: ['@legacy/*'] }, provenance: { require: ['@acme/*'], allowDowngrade: ['@legacy/*'] } }), '/p/portcullis.json');
    expect([p.scripts.allow, p.signatures.allowUnsigned, p.provenance.require, p.provenance.allowDowngrade].map((list) => list[0]!.scope)).toEqual(['@acme', '@legacy', '@acme', '@legacy']);
  });

  it('finds the first matching spec among many', () => {
    const match = createSpecMatcher([spec('a@1'), spec('a@2'), spec('b')]);
    expect(match('a', '2.0.0')?.raw).toBe('a@2');
    expect(match('a', '3.0.0')).toBeUndefined();
    expect(match('b', '9.9.9')?.raw).toBe('b');
    expect(match('constructor', '1.0.0')).toBeUndefined();
  });

  it('an empty list matches nothing, a list of scopes only its scopes', () => {
    const none = createSpecMatcher([]);
    for (const name of ['a', '@acme/a', 'constructor', '__proto__']) expect(none(name, '1.0.0')).toBeUndefined();
    const scoped = createSpecMatcher([spec('@acme/*')]);
    expect(scoped('@acme/a', '1.0.0')?.raw).toBe('@acme/*');
    expect(scoped('acme', '1.0.0')).toBeUndefined();
    expect(scoped('@other/a', '1.0.0')).toBeUndefined();
  });
});

describe('finding the policy file', () => {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-policy-'));
  const nested = join(root, 'a', 'b');
  mkdirSync(nested, { recursive: true });

  it('walks up from the working directory', () => {
    writeFileSync(join(root, 'portcullis.json'), '{"scripts": {"allow": ["esbuild"]}}');
    expect(findPolicyFile(nested, {})).toBe(join(root, 'portcullis.json'));
    expect(loadPolicy(nested, {}).scripts.allow[0]!.name).toBe('esbuild');
  });

  it('honours PORTCULLIS_POLICY', () => {
    const other = join(root, 'other.json');
    writeFileSync(other, '{"signatures": {"require": "off"}}');
    expect(loadPolicy(nested, { PORTCULLIS_POLICY: other }).signatures.require).toBe('off');
    expect(() => loadPolicy(nested, { PORTCULLIS_POLICY: join(root, 'missing.json') })).toThrow(/does not exist/);
  });

  it('falls back to the defaults when there is none', () => {
    const lonely = mkdtempSync(join(tmpdir(), 'portcullis-none-'));
    // tmpdir has no portcullis.json above it on these machines; the default policy applies
    expect(findPolicyFile(lonely, {})).toBeNull();
    expect(loadPolicy(lonely, {}).file).toBeNull();
  });
});

describe('editing the policy', () => {
  it('adds pinned approvals and keeps the rest', async () => {
    const { addScriptApprovals } = await import('./edit.js');
    const before = '{\n    "signatures": {"require": "off"},\n    "scripts": {"allow": ["esbuild"]}\n}\n';
    const { text, added } = addScriptApprovals(before, '/p/portcullis.json', ['esbuild', 'sharp@0.34.5', 'sharp@0.34.5']);
    expect(added).toEqual(['sharp@0.34.5']);
    const policy = parsePolicy(text, '/p/portcullis.json');
    expect(policy.scripts.allow.map((s) => s.raw)).toEqual(['esbuild', 'sharp@0.34.5']);
    expect(policy.signatures.require).toBe('off');
    expect(text).toContain('\n    "signatures"');
  });

  it('refuses to edit a broken policy', async () => {
    const { addScriptApprovals } = await import('./edit.js');
    expect(() => addScriptApprovals('{"scripts": [}', '/p/portcullis.json', ['a@1.0.0'])).toThrow(/portcullis.json:1:14/);
  });

  it('pins publishers for approve --publisher, keeping the rest, replacing a changed pin, refusing what would not validate', async () => {
    const { setPublisherPins } = await import('./edit.js');
    const before = '{\n    "scripts": {"allow": ["esbuild"]},\n    "provenance": {"require": ["@acme/*"], "publishers": {"old": {"repository": "github.com/o/old", "workflow": "w.yml"}}}\n}\n';
    const pin = { repository: 'github.com/sigstore/sigstore-js', workflow: '.github/workflows/release.yml', repositoryId: '495574555', ownerId: '71096353' };
    const { text, changed } = setPublisherPins(before, '/p/portcullis.json', [{ spec: 'sigstore', publisher: { ...pin, extra: 'dropped' } as typeof pin }, { spec: 'old', publisher: { repository: 'github.com/o/old', workflow: 'w.yml' } }, { spec: 'constructor', publisher: pin }]);
    expect(changed).toEqual(['sigstore', 'constructor']);
    const policy = parsePolicy(text, '/p/portcullis.json');
    expect(policy.provenance.publishers.map((r) => [r.spec.raw, r.publisher])).toEqual([['old', { repository: 'github.com/o/old', workflow: 'w.yml' }], ['sigstore', pin], ['constructor', pin]]);
    expect(policy.provenance.require.map((s) => s.raw)).toEqual(['@acme/*']);
    expect(policy.scripts.allow.map((s) => s.raw)).toEqual(['esbuild']);
    expect(text).toContain('\n    "provenance"');
    expect(text).not.toContain('extra');
    expect(setPublisherPins(text, '/p/portcullis.json', [{ spec: 'sigstore', publisher: pin }]).changed).toEqual([]);
    expect(setPublisherPins('{}', '/p/portcullis.json', [{ spec: 'x', publisher: { repository: 'github.com/a/b', workflow: 'w.yml' } }]).text).toContain('"publishers"');
    expect(() => setPublisherPins('{}', '/p/portcullis.json', [{ spec: '__proto__', publisher: pin }])).toThrow(/not a valid package name/);
    expect(() => setPublisherPins('{}', '/p/portcullis.json', [{ spec: 'x', publisher: { repository: 'github.com/*', workflow: 'w.yml' } }])).toThrow(/host\/owner\/repo/);
    expect(({} as Record<string, unknown>).repository).toBeUndefined();
  });

  it('writes a starter policy that validates', async () => {
    const { starterPolicyText } = await import('./edit.js');
    expect(parsePolicy(starterPolicyText(['esbuild@0.28.2']), '/p/portcullis.json').scripts.allow[0]!.raw).toBe('esbuild@0.28.2');
  });
});

describe('loadProjectPolicy (one rule for check and portcullis-npm)', () => {
  it('refuses a portcullis.json between the working folder and the project root; ignores folders outside the root', () => {
    const base = mkdtempSync(join(tmpdir(), 'portcullis-project-policy-'));
    const root = join(base, 'root');
    const member = join(root, 'packages', 'app');
    mkdirSync(member, { recursive: true });
    writeFileSync(join(root, 'portcullis.json'), JSON.stringify({ scripts: { allow: ['esbuild'] } }));
    expect(loadProjectPolicy(member, root, {}).scripts.allow.map((s) => s.name)).toEqual(['esbuild']);
    writeFileSync(join(member, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    expect(() => loadProjectPolicy(member, root, {})).toThrow(expect.objectContaining({ code: 'PROJECT_AMBIGUOUS' }));
    expect(() => loadProjectPolicy(join(member, 'src'), root, {})).toThrow(/is not the policy of this project/);
    // The root itself, a folder outside it (--prefix, --dir), and an explicit PORTCULLIS_POLICY: nothing in between.
    expect(loadProjectPolicy(root, root, {}).signatures.require).toBe('registry');
    expect(loadProjectPolicy(base, root, {}).signatures.require).toBe('registry');
    expect(loadProjectPolicy(member, root, { PORTCULLIS_POLICY: join(root, 'portcullis.json') }).signatures.require).toBe('registry');
  });

  it('refuses a nested project\'s own portcullis.json below the checkout\'s (a .git marks the checkout); without a .git, or alone, it is the policy', () => {
    const base = mkdtempSync(join(tmpdir(), 'portcullis-nested-policy-'));
    const repo = join(base, 'repo');
    const nested = join(repo, 'tools');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(nested, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    // Alone in the checkout, or with no checkout known: the nested project's policy is its own.
    expect(loadProjectPolicy(nested, nested, {}).signatures.require).toBe('off');
    writeFileSync(join(repo, 'portcullis.json'), JSON.stringify({ scripts: { allow: ['esbuild'] } }));
    expect(loadProjectPolicy(nested, nested, {}).signatures.require).toBe('off');
    expect(policyFileLookups(nested, {})).toEqual([join(nested, 'portcullis.json')]);
    // A .git above both: the repository's policy decides, the nested one is refused (and a lookup now covers the paths up to it).
    mkdirSync(join(repo, '.git'));
    expect(() => loadProjectPolicy(nested, nested, {})).toThrow(expect.objectContaining({ code: 'PROJECT_AMBIGUOUS' }));
    expect(() => loadProjectPolicy(nested, nested, {})).toThrow(`${join(nested, 'portcullis.json')} is not the policy of this repository: ${join(repo, 'portcullis.json')}`);
    expect(policyFileLookups(nested, {})).toEqual([join(nested, 'portcullis.json'), join(repo, 'portcullis.json')]);
    expect(loadProjectPolicy(repo, repo, {}).scripts.allow.map((s) => s.name)).toEqual(['esbuild']);
    expect(loadProjectPolicy(nested, nested, { PORTCULLIS_POLICY: join(nested, 'portcullis.json') }).signatures.require).toBe('off');
    // The nested project without a policy of its own obeys the repository's.
    rmSync(join(nested, 'portcullis.json'));
    expect(loadProjectPolicy(nested, nested, {}).scripts.allow.map((s) => s.name)).toEqual(['esbuild']);
  });

  it('a submodule is a folder of the checkout above it (its portcullis.json refused); a worktree or a clone of its own is a checkout', () => {
    const base = mkdtempSync(join(tmpdir(), 'portcullis-submodule-policy-'));
    const repo = join(base, 'repo');
    const tools = join(repo, 'tools');
    mkdirSync(join(repo, '.git'), { recursive: true });
    mkdirSync(tools);
    writeFileSync(join(repo, 'portcullis.json'), JSON.stringify({ scripts: { allow: ['esbuild'] } }));
    writeFileSync(join(tools, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    const refused = () => loadProjectPolicy(tools, tools, {});
    // git's submodule link (relative, absolute, a submodule's own, in a worktree of the superproject), or one that says nothing known.
    for (const link of ['gitdir: ../.git/modules/tools\n', `gitdir: ${join(repo, '.git', 'modules', 'tools')}\n`, 'gitdir: ../.git/modules/a/modules/tools', 'gitdir: ../.git/worktrees/wt/modules/tools\n', 'not a link\n']) {
      writeFileSync(join(tools, '.git'), link);
      expect(refused, link).toThrow(`${join(tools, 'portcullis.json')} is not the policy of this repository: ${join(repo, 'portcullis.json')}`);
      expect(policyFileLookups(tools, {})).toEqual([join(tools, 'portcullis.json'), join(repo, 'portcullis.json')]);
    }
    // A worktree's link, a separate git folder, or a .git folder: its own checkout, its own policy.
    for (const link of ['gitdir: /elsewhere/.git/worktrees/modules\n', 'gitdir: /elsewhere/tools.git\n']) {
      writeFileSync(join(tools, '.git'), link);
      expect(refused().signatures.require, link).toBe('off');
    }
    rmSync(join(tools, '.git'));
    mkdirSync(join(tools, '.git'));
    expect(refused().signatures.require).toBe('off');
  });
});
