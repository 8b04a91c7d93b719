import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import schema from '../../schema.json' with { type: 'json' };
import { PortcullisError } from '../errors.js';
import { parsePolicy } from './load.js';
import { noDowngradeApplies, provenanceRequired, publisherFor } from './provenance.js';

const FILE = '/p/portcullis.json';
const policy = (json: object) => parsePolicy(JSON.stringify(json, null, 2), FILE);
const SIGSTORE = { repository: 'github.com/sigstore/sigstore-js', workflow: '.github/workflows/release.yml' };

function policyError(text: string): PortcullisError {
  try {
    parsePolicy(text, FILE);
  } catch (error) {
    if (error instanceof PortcullisError) return error;
    throw error;
  }
  throw new Error(`expected ${text} to be refused`);
}

describe('provenance keys', () => {
  it('defaults: nothing required, nothing pinned, noDowngrade on, the shipped root', () => {
    expect(parsePolicy('{}', FILE).provenance).toEqual({ require: [], publishers: [], noDowngrade: true, allowDowngrade: [], trustedRoot: null });
    expect(policy({ provenance: {} }).provenance.noDowngrade).toBe(true);
  });

  it('reads the contract example, with locations, and resolves trustedRoot against the folder of portcullis.json', () => {
    const p = policy({
      provenance: {
        require: ['@acme/*', 'sigstore'],
        publishers: { sigstore: { repository: 'github.com/sigstore/sigstore-js', workflow: '.github/workflows/publish.yml' } },
        noDowngrade: true,
        allowDowngrade: ['legacy-lib@^2'],
        trustedRoot: './security/trusted_root.json',
      },
    });
    expect(p.provenance.require.map((s) => [s.raw, s.name, s.range, s.scope])).toEqual([
      ['@acme/*', '@acme/*', null, '@acme'],
      ['sigstore', 'sigstore', null, undefined],
    ]);
    expect(p.provenance.require[0]!.location).toEqual({ line: 4, column: 7 });
    expect(p.provenance.publishers).toEqual([
      { spec: { raw: 'sigstore', name: 'sigstore', range: null, location: { line: 8, column: 7 }, source: '/p/portcullis.json' }, publisher: { repository: 'github.com/sigstore/sigstore-js', workflow: '.github/workflows/publish.yml' } },
    ]);
    expect(p.provenance.allowDowngrade.map((s) => [s.name, s.range])).toEqual([['legacy-lib', '^2']]);
    expect(p.provenance.trustedRoot).toBe('/p/security/trusted_root.json');
    expect(policy({ provenance: { trustedRoot: '/etc/sigstore/root.json' } }).provenance.trustedRoot).toBe('/etc/sigstore/root.json');
    expect(policy({ provenance: { noDowngrade: false } }).provenance.noDowngrade).toBe(false);
  });

  it('keeps the numeric ids of a pin and accepts GitLab-style nested groups', () => {
    const p = policy({ provenance: { publishers: { '@acme/*': { repository: 'gitlab.com/acme/platform/libs', workflow: '.gitlab-ci.yml', repositoryId: '123', ownerId: '4567' } } } });
    expect(p.provenance.publishers[0]!.publisher).toEqual({ repository: 'gitlab.com/acme/platform/libs', workflow: '.gitlab-ci.yml', repositoryId: '123', ownerId: '4567' });
    expect(p.provenance.publishers[0]!.spec.scope).toBe('@acme');
  });

  const pin = (fields: object) => JSON.stringify({ provenance: { publishers: { x: fields } } });
  it.each([
    ['{"provenance": []}', 1, 16, '"provenance" must be an object'],
    ['{"provenance": {"requires": []}}', 1, 17, 'unknown key "requires" in "provenance"'],
    ['{"provenance": {"require": "x"}}', 1, 28, 'must be an array'],
    ['{"provenance": {"require": ["@acme/*@^1"]}}', 1, 29, 'puts a version range on a scope wildcard'],
    ['{"provenance": {"require": ["*"]}}', 1, 29, 'not a valid package name'],
    ['{"provenance": {"require": ["a", "a"]}}', 1, 34, 'twice'],
    ['{"provenance": {"allowDowngrade": ["@/*"]}}', 1, 36, 'not a valid scope wildcard'],
    ['{"provenance": {"noDowngrade": "yes"}}', 1, 32, 'must be true or false'],
    ['{"provenance": {"trustedRoot": 3}}', 1, 32, 'path of a Sigstore trusted_root.json'],
    ['{"provenance": {"trustedRoot": " "}}', 1, 32, 'path of a Sigstore trusted_root.json'],
    ['{"provenance": {"publishers": []}}', 1, 31, '"provenance.publishers" must be an object'],
    ['{"provenance": {"publishers": {"Bad Name": {}}}}', 1, 32, 'not a valid package name'],
    ['{"provenance": {"publishers": {"x": "github.com/a/b"}}}', 1, 37, 'must be an object like'],
    ['{"provenance": {"publishers": {"x": {"workflow": "w.yml"}}}}', 1, 37, 'missing "repository"'],
    ['{"provenance": {"publishers": {"x": {"repository": "github.com/a/b"}}}}', 1, 37, 'missing "workflow"'],
    ['{"provenance": {"publishers": {"x": {"repo": "github.com/a/b"}}}}', 1, 38, 'unknown key "repo"'],
    ['{"provenance": {"publishers": {"x": {"repository": 1}}}}', 1, 52, 'must be a string'],
    ['{"provenance": {"publishers": {"x": {"workflow": "a", "workflow": "b"}}}}', 1, 55, 'duplicate key "workflow"'],
    ['{"provenance": {"publishers": {"x": {}, "x": {}}}}', 1, 41, 'duplicate key "x"'],
  ])('rejects %s at %i:%i', (text, line, column, message) => {
    const error = policyError(text);
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain(message);
    expect(error.location).toEqual({ line, column });
  });

  it.each(['https://github.com/a/b', 'github.com/a', 'github.com/*/b', 'github.com/a/b*', 'github.com/a/..', 'github.com/a/b/', 'github.com//b', 'localhost/a/b', 'github.com/a/b c', ''])(
    'refuses repository %j',
    (repository) => {
      expect(policyError(pin({ repository, workflow: 'w.yml' })).message).toContain('"repository" of "provenance.publishers" entry "x" must be "host/owner/repo"');
    },
  );

  it.each(['/.github/workflows/publish.yml', '../publish.yml', '.github/../publish.yml', '.github/workflows/publish.yml@refs/heads/main', '.github//publish.yml', '.github/workflows/*.yml', '.github\\\\publish.yml', './publish.yml', ''])(
    'refuses workflow %j',
    (workflow) => {
      expect(policyError(pin({ repository: 'github.com/a/b', workflow })).message).toContain('"workflow" of "provenance.publishers" entry "x" must be a relative path');
    },
  );

  it.each([['repositoryId', 'abc'], ['repositoryId', '12 '], ['ownerId', '-1'], ['ownerId', ''], ['ownerId', '1'.repeat(21)]])('refuses %s %j', (field, value) => {
    expect(policyError(pin({ ...SIGSTORE, [field]: value })).message).toContain(`"${field}" of "provenance.publishers" entry "x" must be a string of digits`);
  });

  it('cooldown and advisories: durations, exceptions with an expiry, OSV paths relative to portcullis.json; unknown keys refused', () => {
    const policy = parsePolicy('{"cooldown": {"minimumReleaseAge": "3d", "exclude": ["@acme/*"], "exceptions": {"lodash@4.17.22": "2026-12-09T00:00:00Z"}}, "advisories": {"osv": ["./security/osv"]}}', FILE);
    expect(policy.cooldown.minimumReleaseAge).toEqual({ raw: '3d', ms: 3 * 86_400_000 });
    expect(policy.cooldown.exclude.map((s) => s.raw)).toEqual(['@acme/*']);
    expect(policy.cooldown.exceptions.map((e) => [e.spec.raw, e.until])).toEqual([['lodash@4.17.22', '2026-12-09T00:00:00.000Z']]);
    expect(policy.advisories.osv).toEqual([join(dirname(FILE), 'security/osv')]);
    for (const [raw, ms] of [['90m', 5_400_000], ['72h', 259_200_000], ['2w', 1_209_600_000]] as const) expect(parsePolicy(`{"cooldown": {"minimumReleaseAge": "${raw}"}}`, FILE).cooldown.minimumReleaseAge?.ms).toBe(ms);
    for (const bad of ['"3"', '"3 days"', '"0d"', '"400d"', '"-1d"', '3', '"1.5d"']) expect(policyError(`{"cooldown": {"minimumReleaseAge": ${bad}}}`).message).toContain('"cooldown.minimumReleaseAge" must be a duration');
    expect(policyError('{"cooldown": {"exceptions": {"x@1.0.0": "soon"}}}').message).toContain('must be the ISO date and time');
    expect(policyError('{"cooldown": {"minimumAge": "3d"}}').message).toContain('unknown key "minimumAge"');
    expect(policyError('{"advisories": {"osv": "./osv"}}').message).toContain('"advisories.osv" must be a list');
    expect(policyError('{"advisories": {"feed": "x"}}').message).toContain('unknown key "feed"');
  });

  it('never merges __proto__ or constructor into a pin', () => {
    expect(policyError('{"provenance": {"publishers": {"x": {"repository": "github.com/a/b", "workflow": "w.yml", "__proto__": {"polluted": 1}}}}}').message).toContain('unknown key "__proto__"');
    expect(policyError('{"provenance": {"publishers": {"__proto__": {"repository": "github.com/a/b", "workflow": "w.yml"}}}}').message).toContain('not a valid package name');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('schema.json agrees on provenance', () => {
  const validate = new Ajv({ strict: false }).compile(schema);
  it.each([
    '{"provenance": {}}',
    '{"provenance": {"require": ["@acme/*", "sigstore"], "noDowngrade": false, "allowDowngrade": ["legacy-lib@^2"], "trustedRoot": "./root.json"}}',
    '{"provenance": {"publishers": {"sigstore": {"repository": "github.com/sigstore/sigstore-js", "workflow": ".github/workflows/publish.yml", "repositoryId": "1", "ownerId": "2"}}}}',
    '{"provenance": {"publishers": {"@acme/*": {"repository": "gitlab.com/acme/group/lib", "workflow": ".gitlab-ci.yml"}}}}',
    '{"scripts": {"allow": ["@acme/*"]}, "signatures": {"allowUnsigned": ["@legacy/*"]}}',
    '{"provenance": {"requires": []}}',
    '{"provenance": {"require": ["@acme/*@^1"]}}',
    '{"provenance": {"noDowngrade": "yes"}}',
    '{"provenance": {"trustedRoot": ""}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/b"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "https://github.com/a/b", "workflow": "w.yml"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a", "workflow": "w.yml"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/..", "workflow": "w.yml"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/b", "workflow": "/w.yml"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/b", "workflow": "../w.yml"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/b", "workflow": "w.yml@refs/heads/main"}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/b", "workflow": "w.yml", "repositoryId": 5}}}}',
    '{"provenance": {"publishers": {"x": {"repository": "github.com/a/b", "workflow": "w.yml", "extra": "1"}}}}',
    '{"cooldown": {}}',
    '{"cooldown": {"minimumReleaseAge": "3d", "exclude": ["@acme/*"], "exceptions": {"x@1.0.0": "2026-12-09T00:00:00Z"}}}',
    '{"cooldown": {"minimumReleaseAge": "3 days"}}',
    '{"cooldown": {"extra": 1}}',
    '{"advisories": {"osv": ["./osv"]}}',
    '{"advisories": {"osv": "./osv"}}',
  ])('agrees with the validator on %s', (text) => {
    let ours = true;
    try {
      parsePolicy(text, FILE);
    } catch {
      ours = false;
    }
    expect(validate(JSON.parse(text))).toBe(ours);
  });
});

describe('provenanceRequired, publisherFor, noDowngradeApplies', () => {
  const p = policy({
    provenance: {
      require: ['@acme/*', 'lodash@^4'],
      publishers: {
        '@sig/*': { repository: 'github.com/sig/mono', workflow: '.github/workflows/release.yml' },
        '@sig/special': { repository: 'github.com/sig/special', workflow: '.github/workflows/publish.yml' },
        'pinned@^2': SIGSTORE,
      },
      allowDowngrade: ['legacy-lib@^2', '@old/*'],
    },
  });

  it.each([
    ['@acme/a', '1.0.0', true],
    ['@acme/b', '0.0.1-rc.1', true],
    ['@acmex/a', '1.0.0', false],
    ['acme', '1.0.0', false],
    ['lodash', '4.17.21', true],
    ['lodash', '3.10.1', false],
    ['@sig/anything', '9.0.0', true],
    ['pinned', '2.1.0', true],
    ['pinned', '1.0.0', false],
    ['other', '1.0.0', false],
  ])('%s@%s required: %s', (name, version, expected) => {
    expect(provenanceRequired(p, name, version)).toBe(expected);
  });

  it('picks the entry naming the package over its scope wildcard, whatever the order', () => {
    expect(publisherFor(p, '@sig/special', '1.0.0')?.publisher.repository).toBe('github.com/sig/special');
    expect(publisherFor(p, '@sig/core', '1.0.0')?.publisher.repository).toBe('github.com/sig/mono');
    expect(publisherFor(p, 'pinned', '2.0.0')?.spec.raw).toBe('pinned@^2');
    expect(publisherFor(p, 'pinned', '3.0.0')).toBeUndefined();
    expect(publisherFor(p, '@acme/a', '1.0.0')).toBeUndefined();
  });

  it('noDowngrade applies unless allowDowngrade covers the version, and never when it is off', () => {
    expect(noDowngradeApplies(p, 'legacy-lib', '2.3.0')).toBe(false);
    expect(noDowngradeApplies(p, 'legacy-lib', '3.0.0')).toBe(true);
    expect(noDowngradeApplies(p, '@old/x', '1.0.0')).toBe(false);
    expect(noDowngradeApplies(p, 'anything', '1.0.0')).toBe(true);
    expect(noDowngradeApplies(policy({ provenance: { noDowngrade: false } }), 'anything', '1.0.0')).toBe(false);
  });
});

describe('addCooldownExceptions (portcullis approve --cooldown)', () => {
  const text = '{\n    "cooldown": { "minimumReleaseAge": "3d" },\n    "scripts": { "allow": ["esbuild"] }\n}\n';
  it('adds spec → until, keeps every other setting and the indentation; a later until replaces an earlier one, never the reverse', async () => {
    const { addCooldownExceptions } = await import('./edit.js');
    const first = addCooldownExceptions(text, FILE, [{ spec: 'lodash@4.17.22', until: '2026-12-05T00:00:00.000Z' }]);
    expect(first.changed).toEqual(['lodash@4.17.22']);
    expect(first.text).toContain('\n    "cooldown"');
    const policy = parsePolicy(first.text, FILE);
    expect(policy.cooldown.exceptions.map((e) => [e.spec.raw, e.until])).toEqual([['lodash@4.17.22', '2026-12-05T00:00:00.000Z']]);
    expect(policy.scripts.allow.map((s) => s.raw)).toEqual(['esbuild']);
    expect(addCooldownExceptions(first.text, FILE, [{ spec: 'lodash@4.17.22', until: '2026-12-04T00:00:00.000Z' }]).changed).toEqual([]);
    const later = addCooldownExceptions(first.text, FILE, [{ spec: 'lodash@4.17.22', until: '2026-12-09T00:00:00.000Z' }]);
    expect(parsePolicy(later.text, FILE).cooldown.exceptions[0]!.until).toBe('2026-12-09T00:00:00.000Z');
    expect(() => addCooldownExceptions(text, FILE, [{ spec: 'not a name', until: '2026-12-05T00:00:00.000Z' }])).toThrow(/cannot add a cooldown exception/);
    expect(() => addCooldownExceptions('{"cooldown": {"minimumReleaseAge": "soon"}}', FILE, [])).toThrow(PortcullisError);
  });
});
