import { describe, expect, it } from 'vitest';
import type { PublisherIdentity } from '../evaluation/evidence.js';
import { identityFromCertificate } from './identity.js';
import { packageUrl, parseStatement, sha512HexOf, statementMismatch, subjectMismatch } from './statement.js';
import { attestationVector, leafCertificate, statementOf } from './vectors.fixture.js';

const v1 = attestationVector('@playwright/cli', '0.1.1');
const v02 = attestationVector('sigstore', '1.0.0');
const identity = (vector: typeof v1): PublisherIdentity => identityFromCertificate(leafCertificate(vector));

/** The vector's real statement with one field changed. */
function crafted(vector: typeof v1, edit: (s: Record<string, any>) => void): Record<string, any> {
  const statement = statementOf(vector);
  edit(statement);
  return statement;
}

describe('statementMismatch: the real statements agree with their certificates', () => {
  it('for SLSA v1 and v0.2', () => {
    for (const vector of [v1, v02, attestationVector('sigstore', '0.4.0'), attestationVector('tuf-js', '1.0.0')]) {
      expect(statementMismatch(statementOf(vector), identity(vector)), vector.file).toBeUndefined();
    }
  });
});

describe('statementMismatch: SLSA v1 claims that differ from the certificate, naming the field', () => {
  const cases: [string, (s: Record<string, any>) => void, string][] = [
    ['repository', (s) => (s.predicate.buildDefinition.externalParameters.workflow.repository = 'https://github.com/microsoft/playwright-cli-evil'), 'workflow.repository'],
    ['repository case', (s) => (s.predicate.buildDefinition.externalParameters.workflow.repository = 'https://github.com/Microsoft/playwright-cli'), 'workflow.repository'],
    ['workflow', (s) => (s.predicate.buildDefinition.externalParameters.workflow.path = '.github/workflows/publish.yml.attacker.yml'), 'workflow.path'],
    ['workflow prefix', (s) => (s.predicate.buildDefinition.externalParameters.workflow.path = '.github/workflows/publish'), 'workflow.path'],
    ['ref', (s) => (s.predicate.buildDefinition.externalParameters.workflow.ref = 'refs/tags/v0.1.1@refs/heads/x'), 'workflow.ref'],
    ['commit', (s) => (s.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit = '0'.repeat(40)), 'digest.gitCommit'],
    ['source uri', (s) => (s.predicate.buildDefinition.resolvedDependencies[0].uri = 'git+https://github.com/microsoft/playwright-cli@refs/heads/main'), 'resolvedDependencies uri'],
    ['no git source', (s) => (s.predicate.buildDefinition.resolvedDependencies = []), 'resolvedDependencies'],
    ['two git sources', (s) => s.predicate.buildDefinition.resolvedDependencies.push({ uri: 'git+https://github.com/evil/x@refs/heads/main' }), 'resolvedDependencies'],
    ['repository id', (s) => (s.predicate.buildDefinition.internalParameters.github.repository_id = '1'), 'repository_id'],
    ['owner id', (s) => (s.predicate.buildDefinition.internalParameters.github.repository_owner_id = '1'), 'repository_owner_id'],
    ['trigger', (s) => (s.predicate.buildDefinition.internalParameters.github.event_name = 'workflow_dispatch'), 'event_name'],
    ['build type', (s) => (s.predicate.buildDefinition.buildType = 'https://example.com/other'), 'buildType'],
    ['no workflow', (s) => delete s.predicate.buildDefinition.externalParameters.workflow, 'externalParameters.workflow'],
    ['predicate type', (s) => (s.predicateType = 'https://example.com/other'), 'predicateType'],
  ];
  for (const [what, edit, field] of cases) {
    it(what, () => {
      expect(statementMismatch(crafted(v1, edit), identity(v1))).toContain(field);
    });
  }
  it('a statement built elsewhere does not pass for a certificate of another repository', () => {
    expect(statementMismatch(statementOf(v1), identity(v02))).toContain('workflow.repository');
  });
});

describe('statementMismatch: SLSA v0.2 claims that differ from the certificate, naming the field', () => {
  const cases: [string, (s: Record<string, any>) => void, string][] = [
    ['repository', (s) => (s.predicate.invocation.configSource.uri = 'git+https://github.com/sigstore/sigstore-js-evil@refs/tags/v1.0.0'), 'configSource.uri repository'],
    ['ref', (s) => (s.predicate.invocation.configSource.uri = 'git+https://github.com/sigstore/sigstore-js@refs/tags/v1.0.1'), 'configSource.uri ref'],
    ['ref with @', (s) => (s.predicate.invocation.configSource.uri = 'git+https://github.com/sigstore/sigstore-js@refs/tags/v1.0.0@evil'), 'configSource.uri ref'],
    ['workflow', (s) => (s.predicate.invocation.configSource.entryPoint = 'sigstore/sigstore-js/.github/workflows/publish.yml.attacker.yml@refs/tags/v1.0.0'), 'entryPoint'],
    ['commit', (s) => (s.predicate.invocation.configSource.digest.sha1 = '0'.repeat(40)), 'digest.sha1'],
    ['no configSource', (s) => delete s.predicate.invocation.configSource, 'configSource'],
  ];
  for (const [what, edit, field] of cases) {
    it(what, () => {
      expect(statementMismatch(crafted(v02, edit), identity(v02))).toContain(field);
    });
  }
});

describe('subjectMismatch and the package URL', () => {
  const statement = statementOf(v1);
  it('accepts exactly the package URL with the integrity\'s sha512', () => {
    expect(packageUrl('@playwright/cli', '0.1.1')).toBe(statement.subject[0].name);
    expect(subjectMismatch(statement, '@playwright/cli', '0.1.1', v1.integrity)).toBeUndefined();
  });
  it('refuses another name, version or digest, naming what differs', () => {
    expect(subjectMismatch(statement, '@playwright/cli', '0.1.2', v1.integrity)).toContain('not pkg:npm/%40playwright/cli@0.1.2');
    expect(subjectMismatch(statement, '@playwright/cli', '0.1.1', v02.integrity)).toContain('tarball is not the one that was built');
    expect(subjectMismatch(crafted(v1, (s) => s.subject.push(s.subject[0])), '@playwright/cli', '0.1.1', v1.integrity)).toContain('twice');
    expect(subjectMismatch(crafted(v1, (s) => (s.subject[0].digest = { sha256: 'ab' })), '@playwright/cli', '0.1.1', v1.integrity)).toContain('no sha512');
    expect(subjectMismatch(crafted(v1, (s) => (s.subject = {})), '@playwright/cli', '0.1.1', v1.integrity)).toContain('no subject');
    expect(subjectMismatch(crafted(v1, (s) => (s.subject[0].digest.sha512 = s.subject[0].digest.sha512.toUpperCase())), '@playwright/cli', '0.1.1', v1.integrity)).toContain('not the one');
  });
});

describe('sha512HexOf', () => {
  it('reads the sha512 of an SRI string', () => {
    expect(sha512HexOf(v1.integrity)).toBe(statementOf(v1).subject[0].digest.sha512);
    expect(sha512HexOf(`sha1-abc= ${v1.integrity}`)).toBe(statementOf(v1).subject[0].digest.sha512);
  });
  it('says so when there is none, or two that differ', () => {
    expect(sha512HexOf('sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=')).toEqual({ error: expect.stringContaining('has no sha512') });
    expect(sha512HexOf(`${v1.integrity} ${v02.integrity}`)).toEqual({ error: expect.stringContaining('two different') });
    expect(sha512HexOf('sha512-short')).toEqual({ error: expect.stringContaining('not a base64 SHA-512') });
  });
});

describe('parseStatement', () => {
  it('requires the in-toto payload type and statement type', () => {
    const payload = Buffer.from(JSON.stringify(statementOf(v1)));
    expect(typeof parseStatement('application/vnd.in-toto+json', payload)).toBe('object');
    expect(parseStatement('application/json', payload)).toContain('payloadType');
    expect(parseStatement('application/vnd.in-toto+json', Buffer.from('{"_type":"x"}'))).toContain('_type');
    expect(parseStatement('application/vnd.in-toto+json', Buffer.from('[1]'))).toContain('not an in-toto statement');
    expect(parseStatement('application/vnd.in-toto+json', Buffer.from([0xff, 0xfe]))).toContain('not JSON');
  });
});
