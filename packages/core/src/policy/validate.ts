/**
 * Turns a located JSON tree into a Policy, checking it against the same rules as schema.json.
 * Every complaint names the file, line and column and what was expected.
 */
import { PortcullisError } from '../errors.js';
import type { SourceLocation } from '../model.js';
import { normalizeRegistryUrl, NPM_REGISTRY_URL } from '../registry-url.js';
import { dirname, resolve } from 'node:path';
import type { JsonNode } from './json.js';
import { FINGERPRINT_SCRIPTS, MAX_FINGERPRINT_COMMAND, type FingerprintScript, type RecordedFingerprint, type ScriptFingerprint } from './fingerprint.js';
import { exactVersionOf, parsePackageSpec } from './spec.js';
import type { RegistryKey } from '../model.js';
import { DELEGABLE_KEYS, type DelegableKey, type Delegation, type PackageSpec, type Policy, type PolicyExtends, type PublisherPin, type RegistryTrust } from './types.js';

/** Which kind of policy document is read: a repository's portcullis.json, or the one an organisation policy package ships. */
export type PolicyRole = 'project' | 'organisation';

/** How a policy document is read. */
export interface PolicyReadOptions {
  /** Default `project`: may `extends` an organisation policy; an organisation policy may `delegate` instead. */
  role?: PolicyRole;
  /** The folder relative paths (`advisories.osv`) resolve from; default the folder of `file`. */
  baseDir?: string;
}


/** The policy that applies when there is no portcullis.json: no dependency scripts, signatures required. */
export function defaultPolicy(): Policy {
  return {
    file: null,
    extends: null,
    delegate: Object.create(null) as Policy['delegate'],
    origins: Object.create(null) as Policy['origins'],
    sources: [],
    scripts: { allow: [], fingerprints: [] },
    signatures: { require: 'registry', allowUnsigned: [] },
    registries: { [NPM_REGISTRY_URL]: { keys: 'npm' } },
    provenance: { require: [], publishers: [], noDowngrade: true, allowDowngrade: [], trustedRoot: null },
    cooldown: { minimumReleaseAge: null, exclude: [], exceptions: [] },
    advisories: { osv: [] },
  };
}

const KEY_FIELDS = ['keyid', 'keytype', 'scheme', 'key', 'expires'] as const;

/** Validates a parsed portcullis.json; throws PortcullisError('POLICY_INVALID') at the first problem. */
export function policyFromJson(root: JsonNode, file: string, options: PolicyReadOptions = {}): Policy {
  const role = options.role ?? 'project';
  const baseDir = options.baseDir ?? dirname(file);
  const invalid = (location: SourceLocation, message: string): never => {
    throw new PortcullisError('POLICY_INVALID', `${file}:${location.line}:${location.column}: ${message}`, { file, location });
  };
  const expectObject = (node: JsonNode, what: string) => {
    if (node.kind !== 'object') return invalid(node.location, `${what} must be an object, found ${kindName(node)}`);
    const seen = new Set<string>();
    for (const entry of node.entries) {
      if (seen.has(entry.key)) invalid(entry.keyLocation, `duplicate key "${entry.key}" in ${what}`);
      seen.add(entry.key);
    }
    return node;
  };
  const onlyKeys = (node: Extract<JsonNode, { kind: 'object' }>, what: string, allowed: readonly string[]) => {
    for (const entry of node.entries) {
      if (!allowed.includes(entry.key)) {
        invalid(entry.keyLocation, `unknown key "${entry.key}" in ${what}; expected one of: ${allowed.map((k) => `"${k}"`).join(', ')}`);
      }
    }
  };
  const specList = (node: JsonNode, what: string): PackageSpec[] => {
    if (node.kind !== 'array') return invalid(node.location, `${what} must be an array of "name", "name@range" or "@scope/*" strings, found ${kindName(node)}`);
    const seen = new Set<string>();
    return node.items.map((item) => {
      if (item.kind !== 'string') return invalid(item.location, `${what} entries must be strings like "esbuild" or "sharp@^0.34.0", found ${kindName(item)}`);
      const parsed = parsePackageSpec(item.value);
      if (typeof parsed === 'string') return invalid(item.location, `${what}: ${parsed}; expected "name", "name@semver-range" or "@scope/*"`);
      if (seen.has(item.value)) invalid(item.location, `${what} lists "${item.value}" twice`);
      seen.add(item.value);
      return { ...parsed, location: item.location, source: file };
    });
  };

  const delegation = (key: DelegableKey, node: JsonNode): Delegation => {
    const what = `"delegate.${key}"`;
    if (node.kind === 'boolean' && node.value) return true;
    if (key === 'provenance.trustedRoot') return invalid(node.location, `${what} must be true (leave it out to keep the trusted root Portcullis ships)`);
    if (key === 'registries') {
      if (node.kind !== 'array') return invalid(node.location, `${what} must be true or a list of registry URLs a repository may configure keys for, found ${kindName(node)}`);
      return node.items.map((item) => {
        try {
          if (item.kind !== 'string' || !/^https?:\/\//.test(item.value)) throw new Error('not a URL');
          return normalizeRegistryUrl(item.value);
        } catch {
          return invalid(item.location, `${what} lists registry URLs like "https://npm.example.corp/"`);
        }
      });
    }
    if (node.kind !== 'array') return invalid(node.location, `${what} must be true (any entry) or a list of "name", "name@range" or "@scope/*" the repository's entries must fall within, found ${kindName(node)}`);
    return specList(node, what);
  };

  const policy = defaultPolicy();
  policy.file = file;
  policy.sources = [file];
  const wrote = (key: string, location: SourceLocation) => (policy.origins[key] = { source: file, location });
  const top = expectObject(root, 'portcullis.json');
  onlyKeys(top, 'portcullis.json', ['$schema', 'scripts', 'signatures', 'registries', 'provenance', 'cooldown', 'advisories', role === 'project' ? 'extends' : 'delegate']);

  for (const entry of top.entries) {
    const node = entry.value;
    switch (entry.key) {
      case '$schema':
        if (node.kind !== 'string') invalid(node.location, `"$schema" must be a string`);
        break;
      case 'extends':
        policy.extends = extendsPin(node, invalid);
        break;
      case 'delegate': {
        const delegate = expectObject(node, '"delegate"');
        onlyKeys(delegate, '"delegate"', DELEGABLE_KEYS);
        for (const d of delegate.entries) policy.delegate[d.key as DelegableKey] = delegation(d.key as DelegableKey, d.value);
        break;
      }
      case 'scripts': {
        const scripts = expectObject(node, '"scripts"');
        onlyKeys(scripts, '"scripts"', ['allow', 'fingerprints']);
        for (const s of scripts.entries) {
          if (s.key === 'allow') policy.scripts.allow = specList(s.value, '"scripts.allow"');
          else policy.scripts.fingerprints = scriptFingerprints(expectObject(s.value, '"scripts.fingerprints"'), invalid);
        }
        break;
      }
      case 'signatures': {
        const signatures = expectObject(node, '"signatures"');
        onlyKeys(signatures, '"signatures"', ['require', 'allowUnsigned']);
        for (const s of signatures.entries) {
          if (s.key === 'require') {
            if (s.value.kind !== 'string' || (s.value.value !== 'registry' && s.value.value !== 'off')) {
              invalid(s.value.location, `"signatures.require" must be "registry" or "off"`);
            } else {
              policy.signatures.require = s.value.value as 'registry' | 'off';
              wrote('signatures.require', s.value.location);
            }
          } else {
            policy.signatures.allowUnsigned = specList(s.value, '"signatures.allowUnsigned"');
          }
        }
        break;
      }
      case 'registries': {
        const registries = expectObject(node, '"registries"');
        for (const r of registries.entries) {
          let url: string;
          try {
            if (!/^https?:\/\//.test(r.key)) throw new Error('not http(s)');
            url = normalizeRegistryUrl(r.key);
          } catch {
            return invalid(r.keyLocation, `"${r.key}" is not a registry URL; expected e.g. "https://npm.example.corp/"`);
          }
          const body = expectObject(r.value, `registry "${r.key}"`);
          onlyKeys(body, `registry "${r.key}"`, ['keys']);
          const keys = body.entries.find((e) => e.key === 'keys');
          if (!keys) return invalid(body.location, `registry "${r.key}" needs "keys": "npm" or a list of keys in the /-/npm/v1/keys format`);
          policy.registries[url] = registryTrust(keys.value, r.key, invalid);
          wrote(`registries.${url}`, r.keyLocation);
        }
        break;
      }
      case 'cooldown': {
        const cooldown = expectObject(node, '"cooldown"');
        onlyKeys(cooldown, '"cooldown"', ['minimumReleaseAge', 'exclude', 'exceptions']);
        for (const c of cooldown.entries) {
          if (c.key === 'minimumReleaseAge') {
            const ms = c.value.kind === 'string' ? parseDuration(c.value.value) : undefined;
            if (c.value.kind !== 'string' || ms === undefined) {
              invalid(c.value.location, `"cooldown.minimumReleaseAge" must be a duration such as "90m", "72h", "3d" or "2w" (at most 365 days), found ${c.value.kind === 'string' ? JSON.stringify(c.value.value.slice(0, 40)) : kindName(c.value)}`);
            } else {
              policy.cooldown.minimumReleaseAge = { raw: c.value.value as string, ms };
              wrote('cooldown.minimumReleaseAge', c.value.location);
            }
          } else if (c.key === 'exclude') {
            policy.cooldown.exclude = specList(c.value, '"cooldown.exclude"');
          } else {
            const exceptions = expectObject(c.value, '"cooldown.exceptions"');
            for (const entry of exceptions.entries) {
              const parsed = parsePackageSpec(entry.key);
              if (typeof parsed === 'string') invalid(entry.keyLocation, `"cooldown.exceptions": ${parsed}; expected "name@version" (or "name@semver-range")`);
              const until = entry.value.kind === 'string' ? Date.parse(entry.value.value) : NaN;
              if (entry.value.kind !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(entry.value.value) || Number.isNaN(until)) {
                invalid(entry.value.location, `"cooldown.exceptions" entry "${entry.key}" must be the ISO date and time until which it applies, e.g. "2026-12-09T00:00:00Z"`);
              }
              policy.cooldown.exceptions.push({ spec: { ...(parsed as PackageSpec), location: entry.keyLocation, source: file }, until: new Date(until).toISOString() });
            }
          }
        }
        break;
      }
      case 'advisories': {
        const advisories = expectObject(node, '"advisories"');
        onlyKeys(advisories, '"advisories"', ['osv']);
        for (const a of advisories.entries) {
          if (a.value.kind !== 'array') invalid(a.value.location, `"advisories.osv" must be a list of files or folders of OSV records, found ${kindName(a.value)}`);
          const list = a.value as Extract<JsonNode, { kind: 'array' }>;
          for (const item of list.items) {
            if (item.kind !== 'string' || item.value.trim() === '' || item.value.includes('\0')) invalid(item.location, `"advisories.osv" lists files or folders (paths relative to the folder of portcullis.json), found ${item.kind === 'string' ? 'an empty path' : kindName(item)}`);
            policy.advisories.osv.push(resolve(baseDir, (item as { value: string }).value));
            wrote(`advisories.osv.${policy.advisories.osv.at(-1)}`, item.location);
          }
        }
        break;
      }
      case 'provenance': {
        const provenance = expectObject(node, '"provenance"');
        onlyKeys(provenance, '"provenance"', ['require', 'publishers', 'noDowngrade', 'allowDowngrade', 'trustedRoot']);
        for (const p of provenance.entries) {
          switch (p.key) {
            case 'require':
              policy.provenance.require = specList(p.value, '"provenance.require"');
              break;
            case 'allowDowngrade':
              policy.provenance.allowDowngrade = specList(p.value, '"provenance.allowDowngrade"');
              break;
            case 'noDowngrade':
              if (p.value.kind !== 'boolean') invalid(p.value.location, `"provenance.noDowngrade" must be true or false, found ${kindName(p.value)}`);
              else {
                policy.provenance.noDowngrade = p.value.value;
                wrote('provenance.noDowngrade', p.value.location);
              }
              break;
            case 'trustedRoot':
              if (role === 'organisation') {
                invalid(p.value.location, `"provenance.trustedRoot" cannot be set by an organisation policy (only its portcullis.json is read, so no trusted root can ship with it); delegate "provenance.trustedRoot" to the repositories instead`);
              } else if (p.value.kind !== 'string' || p.value.value.trim() === '' || p.value.value.includes('\0')) {
                invalid(p.value.location, `"provenance.trustedRoot" must be the path of a Sigstore trusted_root.json, relative to the folder of portcullis.json`);
              } else {
                policy.provenance.trustedRoot = resolve(baseDir, p.value.value);
                wrote('provenance.trustedRoot', p.value.location);
              }
              break;
            case 'publishers': {
              const publishers = expectObject(p.value, '"provenance.publishers"');
              for (const entry of publishers.entries) {
                const parsed = parsePackageSpec(entry.key);
                if (typeof parsed === 'string') invalid(entry.keyLocation, `"provenance.publishers": ${parsed}; expected "name", "name@semver-range" or "@scope/*"`);
                const spec = { ...(parsed as PackageSpec), location: entry.keyLocation, source: file };
                policy.provenance.publishers.push({ spec, publisher: publisherPin(entry.value, entry.key, invalid) });
              }
              break;
            }
          }
        }
        break;
      }
    }
  }
  return policy;
}

/** `"90m"`, `"72h"`, `"3d"`, `"2w"` in milliseconds; undefined for anything else or more than 365 days. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})(m|h|d|w)$/.exec(text);
  if (match === null) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  const ms = Number(match[1]) * unit;
  return ms > 0 && ms <= 365 * 86_400_000 ? ms : undefined;
}

/** Most `scripts.fingerprints` entries a policy may hold (hostile input: bounded work). */
const MAX_FINGERPRINTS = 50_000;

/**
 * `scripts.fingerprints`: `"name@version": {"postinstall": "…", "bindingGyp": "sha256:…", "commit": "<40 hex>"}`.
 * Keys name one exact version; values hold only known fields, each a bounded string.
 */
function scriptFingerprints(node: Extract<JsonNode, { kind: 'object' }>, invalid: (l: SourceLocation, m: string) => never): RecordedFingerprint[] {
  if (node.entries.length > MAX_FINGERPRINTS) invalid(node.location, `"scripts.fingerprints" has ${node.entries.length} entries, more than the ${MAX_FINGERPRINTS} allowed`);
  const fields: readonly string[] = [...FINGERPRINT_SCRIPTS, 'bindingGyp', 'commit'];
  return node.entries.map((entry) => {
    const parsed = parsePackageSpec(entry.key);
    // Build metadata kept: `hooked@1.0.0+evil` is its own registry entry, which approve pins and records (semver.valid drops it).
    const version = typeof parsed === 'string' || parsed.range === null ? null : (exactVersionOf(parsed.range) ?? null);
    if (typeof parsed === 'string' || parsed.scope !== undefined || version === null || version !== parsed.range) {
      return invalid(entry.keyLocation, `"scripts.fingerprints" keys are "name@exact-version" (as portcullis approve writes them), found ${JSON.stringify(entry.key.slice(0, 120))}`);
    }
    const what = `"scripts.fingerprints" entry "${entry.key}"`;
    if (entry.value.kind !== 'object') return invalid(entry.value.location, `${what} must be an object like {"postinstall": "node install.js"}, found ${kindName(entry.value)}`);
    const fingerprint: ScriptFingerprint = { commands: {} };
    const seen = new Set<string>();
    for (const field of entry.value.entries) {
      if (!fields.includes(field.key)) invalid(field.keyLocation, `unknown key "${field.key}" in ${what}; expected one of: ${fields.map((k) => `"${k}"`).join(', ')}`);
      if (seen.has(field.key)) invalid(field.keyLocation, `duplicate key "${field.key}" in ${what}`);
      seen.add(field.key);
      const value = field.value;
      if (value.kind !== 'string' || value.value.length > MAX_FINGERPRINT_COMMAND || value.value.includes('\0')) {
        invalid(value.location, `"${field.key}" of ${what} must be a string of at most ${MAX_FINGERPRINT_COMMAND} characters, found ${value.kind === 'string' ? 'a longer one' : kindName(value)}`);
      }
      const text = (value as { value: string }).value;
      if (field.key === 'commit') {
        if (!/^[0-9a-f]{40}$/.test(text)) invalid(value.location, `"commit" of ${what} must be a git commit (40 lower-case hex digits)`);
        fingerprint.commit = text;
      } else if (field.key === 'bindingGyp') {
        if (text !== 'node-gyp rebuild' && !/^sha256:[0-9a-f]{64}$/.test(text)) invalid(value.location, `"bindingGyp" of ${what} must be "sha256:<64 hex digits>" (the binding.gyp's hash) or "node-gyp rebuild"`);
        fingerprint.bindingGyp = text === 'node-gyp rebuild' ? true : text;
      } else {
        fingerprint.commands[field.key as FingerprintScript] = text;
      }
    }
    return { name: (parsed as PackageSpec).name, version, fingerprint };
  });
}

const EXTENDS_FIELDS = ['package', 'version', 'integrity'] as const;

/** `extends`: `{package, version, integrity}`: an exact version and the sha512 integrity of its tarball. */
function extendsPin(node: JsonNode, invalid: (l: SourceLocation, m: string) => never): PolicyExtends {
  const example = `{"package": "@acme/portcullis-policy", "version": "1.2.3", "integrity": "sha512-…"}`;
  if (node.kind !== 'object') return invalid(node.location, `"extends" must be an object like ${example}, found ${kindName(node)}`);
  const fields: Partial<Record<(typeof EXTENDS_FIELDS)[number], Extract<JsonNode, { kind: 'string' }>>> = {};
  for (const e of node.entries) {
    if (!(EXTENDS_FIELDS as readonly string[]).includes(e.key)) invalid(e.keyLocation, `unknown key "${e.key}" in "extends"; expected one of: "package", "version", "integrity"`);
    const field = e.key as (typeof EXTENDS_FIELDS)[number];
    if (fields[field] !== undefined) invalid(e.keyLocation, `duplicate key "${e.key}" in "extends"`);
    if (e.value.kind !== 'string') invalid(e.value.location, `"extends.${e.key}" must be a string, found ${kindName(e.value)}`);
    fields[field] = e.value as Extract<JsonNode, { kind: 'string' }>;
  }
  for (const name of EXTENDS_FIELDS) if (fields[name] === undefined) invalid(node.location, `"extends" is missing "${name}"; expected ${example}`);
  const { package: pkg, version, integrity } = fields as Record<(typeof EXTENDS_FIELDS)[number], Extract<JsonNode, { kind: 'string' }>>;
  const parsed = parsePackageSpec(pkg.value);
  if (typeof parsed === 'string' || parsed.range !== null || parsed.scope !== undefined) invalid(pkg.location, `"extends.package" must be a package name like "@acme/portcullis-policy", found "${pkg.value.slice(0, 100)}"`);
  // An exact version only: a range would let a new publish change the policy under a frozen lockfile.
  if (!/^\d{1,9}\.\d{1,9}\.\d{1,9}(-[0-9A-Za-z.-]{1,64})?$/.test(version.value)) invalid(version.location, `"extends.version" must be an exact version like "1.2.3" (no range: the policy is pinned), found "${version.value.slice(0, 100)}"`);
  if (!/^sha512-[A-Za-z0-9+/]{86}==$/.test(integrity.value)) invalid(integrity.location, `"extends.integrity" must be the sha512 integrity of the package's tarball ("sha512-" and 88 base64 characters, as in dist.integrity), found "${integrity.value.slice(0, 100)}"`);
  return { package: pkg.value, version: version.value, integrity: integrity.value, location: node.location };
}

const PIN_FIELDS = ['repository', 'workflow', 'repositoryId', 'ownerId'] as const;
// A host, then at least owner and repository (GitLab nests groups): letters, digits, `.`, `_`, `-` only.
const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const HOST = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
// Workflow paths: no wildcard, no `@ref`, no backslash, no whitespace or control characters.
const WORKFLOW_SEGMENT = /^[A-Za-z0-9_.+-]+$/;

/** One `provenance.publishers` value: `{repository, workflow}` and optional numeric `repositoryId`, `ownerId`. */
function publisherPin(node: JsonNode, key: string, invalid: (l: SourceLocation, m: string) => never): PublisherPin {
  const what = `"provenance.publishers" entry "${key}"`;
  if (node.kind !== 'object') return invalid(node.location, `${what} must be an object like {"repository": "github.com/owner/repo", "workflow": ".github/workflows/publish.yml"}, found ${kindName(node)}`);
  const fields: Partial<Record<(typeof PIN_FIELDS)[number], Extract<JsonNode, { kind: 'string' }>>> = {};
  for (const e of node.entries) {
    if (!(PIN_FIELDS as readonly string[]).includes(e.key)) {
      invalid(e.keyLocation, `unknown key "${e.key}" in ${what}; expected one of: ${PIN_FIELDS.map((k) => `"${k}"`).join(', ')}`);
    }
    const field = e.key as (typeof PIN_FIELDS)[number];
    if (fields[field] !== undefined) invalid(e.keyLocation, `duplicate key "${e.key}" in ${what}`);
    if (e.value.kind !== 'string') invalid(e.value.location, `"${e.key}" of ${what} must be a string, found ${kindName(e.value)}`);
    fields[field] = e.value as Extract<JsonNode, { kind: 'string' }>;
  }
  const { repository, workflow, repositoryId, ownerId } = fields;
  if (!repository) return invalid(node.location, `${what} is missing "repository" ("host/owner/repo", e.g. "github.com/sigstore/sigstore-js")`);
  if (!workflow) return invalid(node.location, `${what} is missing "workflow" (the workflow file's path, e.g. ".github/workflows/publish.yml")`);
  const parts = repository.value.split('/');
  if (repository.value.length > 512 || parts.length < 3 || !HOST.test(parts[0]!) || !parts.slice(1).every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) {
    invalid(repository.location, `"repository" of ${what} must be "host/owner/repo" like "github.com/sigstore/sigstore-js" (no scheme, no wildcard), found "${repository.value}"`);
  }
  const steps = workflow.value.split('/');
  if (workflow.value.length > 1024 || !steps.every((s) => WORKFLOW_SEGMENT.test(s) && s !== '.' && s !== '..')) {
    invalid(workflow.location, `"workflow" of ${what} must be a relative path inside the repository like ".github/workflows/publish.yml" (no leading "/", no "..", no "@ref", no wildcard), found "${workflow.value}"`);
  }
  const pin: PublisherPin = { repository: repository.value, workflow: workflow.value };
  for (const [name, field] of [['repositoryId', repositoryId], ['ownerId', ownerId]] as const) {
    if (field === undefined) continue;
    if (!/^[0-9]{1,20}$/.test(field.value)) invalid(field.location, `"${name}" of ${what} must be a string of digits (the numeric id from the certificate), found "${field.value}"`);
    pin[name] = field.value;
  }
  return pin;
}

function registryTrust(node: JsonNode, url: string, invalid: (l: SourceLocation, m: string) => never): RegistryTrust {
  if (node.kind === 'string' && node.value === 'npm') return { keys: 'npm' };
  if (node.kind !== 'array') return invalid(node.location, `"keys" of "${url}" must be "npm" or an array of keys in the /-/npm/v1/keys format`);
  return {
    keys: node.items.map((item): RegistryKey => {
      if (item.kind !== 'object') return invalid(item.location, `each key of "${url}" must be an object with keyid, keytype, scheme, key and expires`);
      const fields: Partial<Record<(typeof KEY_FIELDS)[number], JsonNode>> = {};
      for (const e of item.entries) {
        if (!(KEY_FIELDS as readonly string[]).includes(e.key)) {
          invalid(e.keyLocation, `unknown key "${e.key}" in a key of "${url}"; expected keyid, keytype, scheme, key, expires`);
        }
        if (fields[e.key as (typeof KEY_FIELDS)[number]] !== undefined) invalid(e.keyLocation, `duplicate key "${e.key}" in a key of "${url}"`);
        fields[e.key as (typeof KEY_FIELDS)[number]] = e.value;
      }
      const str = (name: 'keyid' | 'keytype' | 'scheme' | 'key', pattern: RegExp, expected: string): string => {
        const v = fields[name];
        if (!v) return invalid(item.location, `a key of "${url}" is missing "${name}"`);
        if (v.kind !== 'string' || !pattern.test(v.value)) return invalid(v.location, `"${name}" of a key of "${url}" must be ${expected}`);
        return v.value;
      };
      const key: RegistryKey = {
        keyid: str('keyid', /^SHA256:[A-Za-z0-9+/]{43}$/, 'an OpenSSH-style fingerprint "SHA256:<43 base64 characters>"'),
        keytype: str('keytype', /^ecdsa-sha2-nistp256$/, '"ecdsa-sha2-nistp256"'),
        scheme: str('scheme', /^ecdsa-sha2-nistp256$/, '"ecdsa-sha2-nistp256"'),
        key: str('key', /^[A-Za-z0-9+/]+={0,2}$/, 'base64 SPKI DER'),
        expires: null,
      };
      const expires = fields.expires;
      if (expires && expires.kind !== 'null') {
        if (expires.kind !== 'string' || Number.isNaN(Date.parse(expires.value)) || !/^\d{4}-\d{2}-\d{2}T/.test(expires.value)) {
          invalid(expires.location, `"expires" of a key of "${url}" must be null or an ISO date-time like "2025-01-29T00:00:00.000Z"`);
        } else {
          key.expires = expires.value;
        }
      }
      return key;
    }),
  };
}

function kindName(node: JsonNode): string {
  return node.kind === 'null' ? 'null' : `${node.kind === 'array' || node.kind === 'object' ? 'an' : 'a'} ${node.kind}`;
}
