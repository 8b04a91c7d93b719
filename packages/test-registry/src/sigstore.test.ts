import { createHash } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { describe, expect, it } from 'vitest';
// The verifier the product uses; a dev dependency of core only, so imported from there (test-only).
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import * as der from './der.js';
import {
  BUNDLE_MEDIA_TYPE,
  GITHUB_ACTIONS_ISSUER,
  SLSA_PROVENANCE_V1,
  TRUSTED_ROOT_MEDIA_TYPE,
  buildSignerUri,
  canonicalJson,
  provenanceBundle,
  provenanceStatement,
  purlOf,
  staleTrustedRoot,
  testTrustedRoot,
  type ProvenanceSpec,
  type ProvenanceSubject,
} from './sigstore.js';

type Json = Record<string, any>; // free-form JSON under test

const spec: ProvenanceSpec = {
  repository: 'github.com/acme/widget',
  repositoryId: '123',
  ownerId: '456',
  workflow: '.github/workflows/release.yml',
  ref: 'refs/tags/v1.0.0',
  trigger: 'push',
  commit: 'a'.repeat(40),
};
const subject: ProvenanceSubject = {
  name: '@acme/widget',
  version: '1.0.0',
  sha512: createHash('sha512').update('tarball bytes').digest('hex'),
  signedAt: '2026-06-01T12:00:00.000Z',
};

/** Verifies as the product will: offline, against a trusted root given as JSON. Returns the signer or throws. */
function verifyBundle(bundle: unknown, root: unknown = testTrustedRoot()) {
  return new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root))).verify(toSignedEntity(bundleFromJSON(bundle)));
}

function verifyError(bundle: unknown, root?: unknown): { code?: string; message: string } | undefined {
  try {
    verifyBundle(bundle, root);
    return undefined;
  } catch (error) {
    return error as { code?: string; message: string };
  }
}

const statementOf = (bundle: Json): Json => JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
const leafOf = (bundle: Json) => X509Certificate.parse(Buffer.from(bundle.verificationMaterial.certificate.rawBytes, 'base64'));

/** The text of an extension whose value must be one DER UTF8String (short or one-byte long form). */
function utf8Extension(cert: X509Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  if (!ext) return undefined;
  const value: Buffer = ext.value; // the extnValue OCTET STRING's content
  expect(value[0], `${oid} is a DER UTF8String`).toBe(0x0c);
  const long = value[1] === 0x81;
  const length = long ? value[2]! : value[1]!;
  const start = long ? 3 : 2;
  expect(value.length, `${oid} has exactly one UTF8String`).toBe(start + length);
  return value.subarray(start).toString('utf8');
}

describe('test Sigstore bundles', () => {
  it('verify against the test trusted root with the real verifier, as the GitHub Actions signer', () => {
    const bundle = provenanceBundle(subject, spec) as Json;
    expect(bundle.mediaType).toBe(BUNDLE_MEDIA_TYPE);
    const signer = verifyBundle(bundle);
    expect(signer.identity?.subjectAlternativeName).toBe('https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0');
    expect(signer.identity?.extensions?.issuer).toBe(GITHUB_ACTIONS_ISSUER);
    // An inclusion promise, an inclusion proof with a checkpoint, an SCT: all three were checked above.
    const entry = bundle.verificationMaterial.tlogEntries[0];
    expect(entry.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(entry.inclusionPromise.signedEntryTimestamp).toBeTruthy();
    expect(entry.inclusionProof.checkpoint.envelope).toContain('\u2014 rekor.portcullis.test ');
    expect(entry.integratedTime).toBe(String(Date.parse(subject.signedAt) / 1000));
  });

  it('carry an inclusion proof, an inclusion promise and one SCT that the real verifier checks', () => {
    const entryOf = (bundle: Json) => bundle.verificationMaterial.tlogEntries[0];
    // The proof is checked against the signed checkpoint: a proof for another tree, or another checkpoint, fails.
    const wrongTree = provenanceBundle(subject, spec) as Json;
    entryOf(wrongTree).inclusionProof.hashes = [Buffer.alloc(32, 1).toString('base64')];
    expect(verifyError(wrongTree)?.code).toBe('TLOG_INCLUSION_PROOF_ERROR');
    const wrongCheckpoint = provenanceBundle(subject, spec) as Json;
    entryOf(wrongCheckpoint).inclusionProof.checkpoint.envelope = entryOf(wrongCheckpoint).inclusionProof.checkpoint.envelope.replace('\n1\n', '\n2\n');
    expect(verifyError(wrongCheckpoint)?.code).toBe('TLOG_INCLUSION_PROOF_ERROR');
    // The signed entry timestamp covers the integrated time.
    const moved = provenanceBundle(subject, spec) as Json;
    entryOf(moved).integratedTime = String(Number(entryOf(moved).integratedTime) + 1);
    expect(verifyError(moved)?.code).toBe('TLOG_INCLUSION_PROMISE_ERROR');
    // Exactly one SCT, and it verified: asking for two fails on the count, not on verification.
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(testTrustedRoot())), { ctlogThreshold: 2 });
    expect(() => verifier.verify(toSignedEntity(bundleFromJSON(provenanceBundle(subject, spec))))).toThrow(/expected 2 SCTs, got 1/);
  });

  it('carry the GitHub Actions identity in the leaf certificate, values as DER UTF8String like Fulcio', () => {
    const cert = leafOf(provenanceBundle(subject, { ...spec, runnerEnvironment: 'github-hosted' }) as Json);
    const signer = 'https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v1.0.0';
    const expected: Record<string, string> = {
      '8': GITHUB_ACTIONS_ISSUER,
      '9': signer,
      '11': 'github-hosted',
      '12': 'https://github.com/acme/widget',
      '13': 'a'.repeat(40),
      '14': 'refs/tags/v1.0.0',
      '15': '123',
      '17': '456',
      '18': signer,
      '20': 'push',
    };
    for (const [arc, value] of Object.entries(expected)) expect(utf8Extension(cert, `1.3.6.1.4.1.57264.1.${arc}`), `extension .${arc}`).toBe(value);
    expect(cert.subjectAltName).toBe(signer);
    expect(buildSignerUri(spec)).toBe(signer);
    expect(cert.extSubjectAltName?.critical).toBe(true);
    expect(cert.isCA).toBe(false);
  });

  it('say what the brief says in the in-toto statement (SLSA provenance v1)', () => {
    const statement = statementOf(provenanceBundle(subject, spec) as Json);
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(statement.subject).toEqual([{ name: 'pkg:npm/%40acme/widget@1.0.0', digest: { sha512: subject.sha512 } }]);
    expect(statement.predicate.buildDefinition.externalParameters.workflow).toEqual({
      ref: 'refs/tags/v1.0.0',
      repository: 'https://github.com/acme/widget',
      path: '.github/workflows/release.yml',
    });
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([
      { uri: 'git+https://github.com/acme/widget@refs/tags/v1.0.0', digest: { gitCommit: 'a'.repeat(40) } },
    ]);
    expect(purlOf('plain', '2.0.0')).toBe('pkg:npm/plain@2.0.0');
  });

  it('fail against the stale trusted root, which lists none of the test CA, log or CT log', () => {
    const bundle = provenanceBundle(subject, spec);
    expect(verifyError(bundle, staleTrustedRoot())?.code).toBe('CERTIFICATE_ERROR');
    const stale = staleTrustedRoot() as Json;
    const current = testTrustedRoot() as Json;
    expect(stale.mediaType).toBe(TRUSTED_ROOT_MEDIA_TYPE);
    const ids = (root: Json, field: string) => root[field].map((log: Json) => log.logId.keyId);
    expect(ids(stale, 'tlogs')).not.toContain(ids(current, 'tlogs')[0]);
    expect(ids(stale, 'ctlogs')).not.toContain(ids(current, 'ctlogs')[0]);
    const certs = (root: Json) => root.certificateAuthorities.flatMap((ca: Json) => ca.certChain.certificates.map((c: Json) => c.rawBytes));
    for (const cert of certs(current)) expect(certs(stale)).not.toContain(cert);
    // One part missing at a time: each is needed, and each fails where the verifier checks it.
    expect(verifyError(bundle, staleTrustedRoot('ca'))?.code).toBe('CERTIFICATE_ERROR');
    expect(verifyError(bundle, staleTrustedRoot('ctlog'))?.message).toMatch(/SCT verification failed/);
    expect(verifyError(bundle, staleTrustedRoot('tlog'))?.code).toBe('TLOG_INCLUSION_PROMISE_ERROR');
    for (const lack of ['ca', 'ctlog', 'tlog'] as const) {
      const partial = staleTrustedRoot(lack) as Json;
      const field = { ca: 'certificateAuthorities', ctlog: 'ctlogs', tlog: 'tlogs' }[lack];
      expect(partial[field], lack).toEqual(stale[field]);
      for (const other of ['certificateAuthorities', 'ctlogs', 'tlogs'].filter((f) => f !== field)) expect(partial[other], `${lack}: ${other}`).toEqual(current[other]);
    }
  });

  it('trusted roots parse as Sigstore TrustedRoot JSON and are stable in keys across calls', () => {
    const root = TrustedRoot.fromJSON(testTrustedRoot());
    expect(root.tlogs).toHaveLength(1);
    expect(root.ctlogs).toHaveLength(1);
    expect(root.certificateAuthorities[0]!.certChain!.certificates).toHaveLength(2);
    expect(testTrustedRoot()).toEqual(testTrustedRoot());
    expect(testTrustedRoot()).not.toBe(testTrustedRoot());
  });

  it('tamper "signature": the real verifier refuses the DSSE signature', () => {
    const error = verifyError(provenanceBundle(subject, { ...spec, tamper: 'signature' }));
    expect(error?.code).toBe('SIGNATURE_ERROR');
  });

  it('signed lies ("digest", "subject", "statement-repository") verify, but their statement disagrees', () => {
    const honest = statementOf(provenanceBundle(subject, spec) as Json);
    const digest = provenanceBundle(subject, { ...spec, tamper: 'digest' }) as Json;
    expect(verifyError(digest)).toBeUndefined();
    expect(statementOf(digest).subject[0].digest.sha512).not.toBe(subject.sha512);
    expect(statementOf(digest).subject[0].name).toBe(honest.subject[0].name);

    const named = provenanceBundle(subject, { ...spec, tamper: 'subject' }) as Json;
    expect(verifyError(named)).toBeUndefined();
    expect(statementOf(named).subject[0].name).toBe('pkg:npm/%40acme/widget-fork@1.0.0');
    expect(statementOf(named).subject[0].digest.sha512).toBe(subject.sha512);

    const repo = provenanceBundle(subject, { ...spec, tamper: 'statement-repository' }) as Json;
    expect(verifyError(repo)).toBeUndefined();
    const workflow = statementOf(repo).predicate.buildDefinition.externalParameters.workflow;
    expect(workflow.repository).toBe('https://github.com/evil/widget');
    expect(statementOf(repo).predicate.buildDefinition.resolvedDependencies[0].uri).toBe('git+https://github.com/evil/widget@refs/tags/v1.0.0');
    expect(utf8Extension(leafOf(repo), '1.3.6.1.4.1.57264.1.12')).toBe('https://github.com/acme/widget');
  });

  it('refuse bad input instead of signing it', () => {
    expect(() => provenanceBundle({ ...subject, sha512: 'abc' }, spec)).toThrow(/128 hex/);
    expect(() => provenanceBundle({ ...subject, signedAt: 'never' }, spec)).toThrow(/signedAt/);
    expect(() => provenanceStatement(subject, { ...spec, repository: 'gitlab.com/acme/widget' })).toThrow(/github\.com/);
    expect(() => provenanceStatement(subject, { ...spec, commit: 'xyz' })).toThrow(/40 hex/);
  });
});

describe('DER and canonical JSON', () => {
  it('encodes lengths, integers, OIDs and times canonically', () => {
    expect(der.tlv(0x04, Buffer.alloc(200)).subarray(0, 3)).toEqual(Buffer.from([0x04, 0x81, 200]));
    expect(der.tlv(0x04, Buffer.alloc(300)).subarray(0, 4)).toEqual(Buffer.from([0x04, 0x82, 0x01, 0x2c]));
    expect(der.smallInteger(0)).toEqual(Buffer.from([0x02, 0x01, 0x00]));
    expect(der.smallInteger(128)).toEqual(Buffer.from([0x02, 0x02, 0x00, 0x80]));
    expect(der.unsignedInteger(Buffer.from([0, 0, 5]))).toEqual(Buffer.from([0x02, 0x01, 0x05]));
    expect(der.oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(der.time(new Date('2026-06-01T12:00:00Z')).toString('latin1').slice(2)).toBe('260601120000Z');
    expect(der.time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
  });

  it('sorts keys and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, { d: null, c: 'x' }] })).toBe('{"a":[true,{"c":"x","d":null}],"b":1}');
  });
});
