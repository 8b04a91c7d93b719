/**
 * The in-toto statement inside a verified DSSE envelope: its subject must be exactly this package and tarball, and its
 * build claims (the workflow's own words) must agree with the Fulcio certificate.
 */
import type { PublisherIdentity } from '../evaluation/evidence.js';
import { GITHUB_ACTIONS_ISSUER } from './identity.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES: readonly string[] = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'];
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
/** The GitHub Actions build type of SLSA v1 statements npm writes. */
const GITHUB_WORKFLOW_BUILD_TYPE = 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1';
const MAX_SUBJECTS = 64;
const MAX_DEPENDENCIES = 64;

/** A parsed in-toto statement (plain JSON data). */
export type Statement = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(object: unknown, key: string): unknown {
  return isRecord(object) && Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** A path of own properties (`predicate.invocation.configSource`). */
function at(object: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => own(value, key), object);
}

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : value === undefined ? 'nothing' : 'a non-string');

/** Parses a DSSE payload as an in-toto statement; a reason string when it is not one. */
export function parseStatement(payloadType: string, payload: Uint8Array): Statement | string {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) return `the envelope's payloadType is ${JSON.stringify(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}`;
  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return 'the signed payload is not JSON';
  }
  if (!isRecord(statement)) return 'the signed payload is not an in-toto statement';
  const type = own(statement, '_type');
  if (typeof type !== 'string' || !STATEMENT_TYPES.includes(type)) return `the statement's _type is ${show(type)}, not an in-toto statement`;
  return statement;
}

/** The package URL npm writes as the subject: `pkg:npm/<name>@<version>`, a scope's `@` as `%40`. */
export function packageUrl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
}

const SHA512_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

/** The hex sha512 of an SRI string, or a reason when it has none (or two that differ). */
export function sha512HexOf(integrity: string): string | { error: string } {
  const found = new Set<string>();
  for (const token of integrity.trim().split(/\s+/)) {
    if (!token.startsWith('sha512-')) continue;
    const value = token.slice('sha512-'.length).split('?')[0]!;
    if (!SHA512_BASE64.test(value)) return { error: `the integrity's sha512 ${JSON.stringify(value)} is not a base64 SHA-512 digest` };
    found.add(Buffer.from(value, 'base64').toString('hex'));
  }
  if (found.size === 0) return { error: `the integrity ${JSON.stringify(integrity)} has no sha512, which the provenance subject needs to match` };
  if (found.size > 1) return { error: 'the integrity holds two different sha512 digests' };
  return [...found][0]!;
}

/**
 * Checks that the statement is about exactly this package version and tarball: one subject named packageUrl(name,
 * version) whose `digest.sha512` is the integrity's sha512. Returns the reason when it is not.
 */
export function subjectMismatch(statement: Statement, name: string, version: string, integrity: string): string | undefined {
  const wanted = sha512HexOf(integrity);
  if (typeof wanted !== 'string') return wanted.error;
  const subjects = own(statement, 'subject');
  if (!Array.isArray(subjects) || subjects.length === 0) return 'the statement has no subject';
  if (subjects.length > MAX_SUBJECTS) return `the statement has ${subjects.length} subjects`;
  const purl = packageUrl(name, version);
  const ours = subjects.filter((s) => own(s, 'name') === purl);
  if (ours.length === 0) {
    const names = subjects.map((s) => own(s, 'name')).filter((n): n is string => typeof n === 'string').slice(0, 3);
    return `the statement's subject is ${names.map((n) => JSON.stringify(n)).join(', ') || 'unnamed'}, not ${purl}: it was made for another package or version`;
  }
  if (ours.length > 1) return `the statement names ${purl} twice`;
  const digest = own(ours[0], 'digest');
  const sha512 = own(digest, 'sha512');
  if (typeof sha512 !== 'string') return `the statement's subject ${purl} has no sha512 digest`;
  if (sha512 !== wanted) return `the statement's sha512 for ${purl} is ${sha512.slice(0, 16)}…, but the installed integrity's is ${wanted.slice(0, 16)}…: the tarball is not the one that was built`;
  return undefined;
}

/** `owner/repo` of `https://host/owner/repo` (npm's v0.2 entryPoint starts with it). */
function pathOf(repositoryUri: string): string {
  return new URL(repositoryUri).pathname.slice(1);
}

function differ(field: string, claimed: unknown, certified: string): string {
  return `the statement's ${field} is ${show(claimed)}, but the certificate says ${JSON.stringify(certified)}`;
}

function checkV02(statement: Statement, id: PublisherIdentity): string | undefined {
  const source = at(statement, 'predicate.invocation.configSource');
  if (!isRecord(source)) return 'the statement has no predicate.invocation.configSource';
  const uri = own(source, 'uri');
  const repositoryPrefix = `git+${id.repositoryUri}@`;
  if (typeof uri !== 'string' || !uri.startsWith(repositoryPrefix)) return differ('configSource.uri repository', uri, id.repositoryUri);
  const github = id.issuer === GITHUB_ACTIONS_ISSUER;
  if (github) {
    // GitLab's statements name the branch, not the full ref; GitHub's name the ref the certificate names.
    if (id.ref === undefined) return 'the certificate names no ref to check the statement against';
    if (uri.slice(repositoryPrefix.length) !== id.ref) return differ('configSource.uri ref', uri.slice(repositoryPrefix.length), id.ref);
    const entryPoint = own(source, 'entryPoint');
    const expected = `${pathOf(id.repositoryUri)}/${id.workflow}@${id.ref}`;
    if (entryPoint !== expected) return differ('configSource.entryPoint (workflow)', entryPoint, expected);
  }
  if (id.commit !== undefined) {
    const sha1 = own(own(source, 'digest'), 'sha1');
    if (sha1 !== id.commit) return differ('configSource.digest.sha1 (commit)', sha1, id.commit);
  }
  return undefined;
}

function checkV1(statement: Statement, id: PublisherIdentity): string | undefined {
  const buildType = at(statement, 'predicate.buildDefinition.buildType');
  if (buildType !== GITHUB_WORKFLOW_BUILD_TYPE) return `the statement's buildType is ${show(buildType)}, which Portcullis cannot cross-check against the certificate`;
  const workflow = at(statement, 'predicate.buildDefinition.externalParameters.workflow');
  if (!isRecord(workflow)) return 'the statement has no buildDefinition.externalParameters.workflow';
  if (own(workflow, 'repository') !== id.repositoryUri) return differ('workflow.repository', own(workflow, 'repository'), id.repositoryUri);
  if (own(workflow, 'path') !== id.workflow) return differ('workflow.path', own(workflow, 'path'), id.workflow);
  if (id.ref === undefined) return 'the certificate names no ref to check the statement against';
  if (own(workflow, 'ref') !== id.ref) return differ('workflow.ref', own(workflow, 'ref'), id.ref);
  const github = at(statement, 'predicate.buildDefinition.internalParameters.github');
  for (const [field, certified] of [['repository_id', id.repositoryId], ['repository_owner_id', id.ownerId], ['event_name', id.trigger]] as const) {
    const claimed = own(github, field);
    if (claimed !== undefined && certified !== undefined && claimed !== certified) return differ(`internalParameters.github.${field}`, claimed, certified);
  }
  const dependencies = at(statement, 'predicate.buildDefinition.resolvedDependencies');
  if (!Array.isArray(dependencies) || dependencies.length > MAX_DEPENDENCIES) return 'the statement has no readable resolvedDependencies';
  const source = `git+${id.repositoryUri}@${id.ref}`;
  const gitDependencies = dependencies.filter((d) => typeof own(d, 'uri') === 'string' && (own(d, 'uri') as string).startsWith('git+'));
  if (gitDependencies.length !== 1) return `the statement lists ${gitDependencies.length} git sources in resolvedDependencies, expected exactly ${source}`;
  const [dependency] = gitDependencies;
  if (own(dependency, 'uri') !== source) return differ('resolvedDependencies uri', own(dependency, 'uri'), source);
  if (id.commit !== undefined) {
    const commit = own(own(dependency, 'digest'), 'gitCommit');
    if (commit !== id.commit) return differ('resolvedDependencies digest.gitCommit (commit)', commit, id.commit);
  }
  return undefined;
}

/**
 * Cross-checks the statement's build claims against the certificate: the source repository, workflow, ref and commit
 * must be the certificate's. Returns the first disagreement, naming the field.
 */
export function statementMismatch(statement: Statement, identity: PublisherIdentity): string | undefined {
  const predicateType = own(statement, 'predicateType');
  if (predicateType === SLSA_V02) return checkV02(statement, identity);
  if (predicateType === SLSA_V1) return checkV1(statement, identity);
  return `the statement's predicateType is ${show(predicateType)}, not SLSA provenance`;
}
