/** `approve`: pin named packages' install scripts into scripts.allow — shared by the CLI and the Yarn command. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { LockfileKind } from '../model.js';
import { approvalsFor } from '../policy/approvals.js';
import { addCooldownExceptions, addScriptApprovals, setPublisherPins, starterPolicyText } from '../policy/edit.js';
import { POLICY_FILE } from '../policy/load.js';
import { parsePackageSpec, specMatches } from '../policy/spec.js';
import type { PublisherPin } from '../policy/types.js';
import { PortcullisError } from '../errors.js';
import { isOwnCode } from '../model.js';
import type { Env } from '../env.js';
import type { RegistryConfig } from '../registry/config.js';
import { fingerprintToRecord } from '../evaluation/drift.js';
import { installedManifestReader } from '../layouts/installed.js';
import { describeFingerprint } from '../policy/fingerprint.js';
import type { ScriptFingerprint } from '../policy/types.js';
import { loadProject, type Project } from './check.js';
import { effectivePolicy, gateFor, openGate, type Gate } from './gate.js';
import type { RegistryFetch } from '../registry/client.js';

/** What approve wrote: the policy file, every pinned entry asked for, which of them were new, and the fingerprints recorded. */
export interface Approval {
  file: string;
  entries: string[];
  added: string[];
  /** What each approved version runs at install time, as recorded in scripts.fingerprints (versions that run nothing have none). */
  fingerprints: Array<{ entry: string; fingerprint: ScriptFingerprint }>;
  /** Entries whose fingerprint was new or replaced an older one. */
  recorded: string[];
  /** Entries that run install-time code whose command lines could not be read (no fingerprint recorded for them). */
  unrecorded: string[];
}

/**
 * Writes `name@version` entries for every installed version of the named packages into the project's policy, and
 * records what each runs at install time (scripts.fingerprints), read from the installed package.json or the full
 * registry metadata: a later version that a range or name approval covers must run the same (else SCRIPT_CHANGED).
 */
export async function approveScripts(dir: string, names: readonly string[], options: { env?: Env; kind?: LockfileKind; offline?: boolean; fetch?: RegistryFetch; registryConfig?: RegistryConfig; cacheDir?: string; stateDir?: string } = {}): Promise<Approval> {
  const env = options.env ?? process.env;
  // The project's root (a workspace root from a member): its policy, never a new file in the sub-folder.
  const project = await loadProject(dir, { env, ...(options.kind ? { kind: options.kind } : {}), ...(options.registryConfig ? { registryConfig: options.registryConfig } : {}) });
  // Opening the gate loads the policy the install obeys: an invalid one, or a nearer one than the root's, is refused.
  const gate = await openGate({
    dir: project.dir,
    start: project.start,
    packageManager: project.lockfile.kind,
    purpose: 'check',
    recordScripts: true,
    registryConfig: project.registryConfig,
    env,
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  });
  const entries = approvalsFor(project.lockfile.packages, names);
  const { fingerprints, unrecorded } = await fingerprintsOf(gate, project, entries);
  const file = gate.policyFile ?? join(project.dir, POLICY_FILE);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : starterPolicyText();
  const { text, added, recorded } = addScriptApprovals(before, file, entries, fingerprints);
  if (added.length > 0 || recorded.length > 0) writeFileAtomic(file, text);
  return { file, entries, added, fingerprints, recorded, unrecorded };
}

/** What the approved copies run at install time: judged like a check (installed files first, else full metadata). */
async function fingerprintsOf(gate: Gate, project: Project, entries: readonly string[]): Promise<{ fingerprints: Approval['fingerprints']; unrecorded: string[] }> {
  const wanted = new Set(entries);
  const copies = project.lockfile.packages.filter((p) => !isOwnCode(p) && wanted.has(`${p.name}@${p.version}`));
  const verdict = await gate.judge(copies, { readInstalled: installedManifestReader(project.lockfile, project.dir) });
  const fingerprints: Approval['fingerprints'] = [];
  const unrecorded: string[] = [];
  for (const entry of entries) {
    let recorded = false;
    let runs = false;
    for (const copy of copies.filter((p) => `${p.name}@${p.version}` === entry)) {
      const scripts = verdict.evidence.scripts.get(copy.id);
      if (scripts === undefined ? copy.hasInstallScript !== true : !scripts.hasInstallScript && !scripts.bindingGyp) continue;
      runs = true;
      const fingerprint = fingerprintToRecord(copy, scripts);
      // One record per version: the first copy that tells what it runs (copies of one registry version are the same bytes).
      if (fingerprint !== undefined && !recorded) {
        fingerprints.push({ entry, fingerprint });
        recorded = true;
      }
    }
    if (runs && !recorded) unrecorded.push(entry);
  }
  return { fingerprints, unrecorded };
}

/** The lines approve prints. */
export function describeApproval(approval: Approval): string {
  const lines = approval.entries.map((entry) => (approval.added.includes(entry) ? `+ scripts.allow: "${entry}"` : `= scripts.allow: "${entry}" (already there)`));
  for (const { entry, fingerprint } of approval.fingerprints) {
    lines.push(`${approval.recorded.includes(entry) ? '+' : '='} scripts.fingerprints["${entry}"]: ${describeFingerprint(fingerprint)}${approval.recorded.includes(entry) ? '' : ' (already recorded)'}`);
  }
  for (const entry of approval.unrecorded) lines.push(`! ${entry}: its install scripts could not be read, so no fingerprint was recorded (run approve again once it is installed or its registry is reachable)`);
  if (approval.recorded.length > 0) lines.push(`${approval.recorded.length} script fingerprint(s) recorded in scripts.fingerprints`);
  lines.push(`${approval.added.length} approval(s) written to ${approval.file}`);
  return `${lines.join('\n')}\n`;
}

/** What `approve --publisher` pinned: the policy file and each package's publisher, and which were new. */
export interface PublisherApproval {
  file: string;
  pins: Array<{ spec: string; publisher: PublisherPin }>;
  changed: string[];
}

/**
 * `approve --publisher <name…>`: pins who builds each named package — the source repository, workflow and the
 * repository's and owner's immutable ids — from the verified provenance of the versions in the lockfile, so nobody
 * types certificate fields. Every installed copy of a name must carry verified provenance from one publisher.
 */
export async function approvePublishers(dir: string, names: readonly string[], options: { env?: Env; kind?: LockfileKind; offline?: boolean; fetch?: RegistryFetch; registryConfig?: RegistryConfig; cacheDir?: string; stateDir?: string } = {}): Promise<PublisherApproval> {
  const env = options.env ?? process.env;
  const project = await loadProject(dir, { env, ...(options.kind ? { kind: options.kind } : {}), ...(options.registryConfig ? { registryConfig: options.registryConfig } : {}) });
  const policy = await effectivePolicy({ dir: project.dir, start: project.start, registryConfig: project.registryConfig, ...(options.offline !== undefined ? { offline: options.offline } : {}), ...(options.fetch ? { fetch: options.fetch } : {}), ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), ...(options.stateDir ? { stateDir: options.stateDir } : {}) }, env);
  const specs = names.map((name) => {
    const spec = parsePackageSpec(name);
    if (typeof spec === 'string' || spec.range !== null || spec.scope !== undefined) throw new PortcullisError('USAGE', `approve --publisher takes package names (the publisher is pinned for every version), not "${name}"`);
    return spec;
  });
  const copies = project.lockfile.packages.filter((p) => !isOwnCode(p) && p.source === 'registry' && specs.some((s) => specMatches(s, p.name, p.version)));
  for (const spec of specs) {
    if (!copies.some((p) => p.name === spec.name)) throw new PortcullisError('USAGE', `cannot pin the publisher of "${spec.name}": no registry package of that name is in ${project.lockfile.path}`);
  }
  // Judge those copies with a policy that requires their provenance: the same fetching and verification as an install.
  const requiring = { ...policy, provenance: { ...policy.provenance, require: [...policy.provenance.require, ...specs] } };
  const gate = gateFor(requiring, {
    dir: project.dir,
    packageManager: project.lockfile.kind,
    purpose: 'check',
    registryConfig: project.registryConfig,
    env,
    ...(options.offline !== undefined ? { offline: options.offline } : {}),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
  });
  const verdict = await gate.judge(copies);
  const pins: Array<{ spec: string; publisher: PublisherPin }> = [];
  for (const spec of specs) {
    const seen = new Map<string, PublisherPin>();
    for (const copy of copies.filter((p) => p.name === spec.name)) {
      const evidence = verdict.evidence.provenance?.get(copy.id);
      if (evidence?.status !== 'verified') {
        const why = verdict.findings.find((f) => f.id === copy.id && f.rule === 'provenance')?.message ?? `its provenance is ${evidence?.status ?? 'unknown'}`;
        throw new PortcullisError('USAGE', `cannot pin the publisher of ${spec.name}: ${copy.name}@${copy.version} has no verified provenance (${why})`);
      }
      const { repository, workflow, repositoryId, ownerId } = evidence.identity;
      const pin: PublisherPin = { repository, workflow, ...(repositoryId !== undefined ? { repositoryId } : {}), ...(ownerId !== undefined ? { ownerId } : {}) };
      seen.set(JSON.stringify(pin), pin);
    }
    if (seen.size > 1) {
      throw new PortcullisError('USAGE', `cannot pin the publisher of ${spec.name}: its installed versions were built by different publishers (${[...seen.values()].map((p) => `${p.repository} ${p.workflow}`).join('; ')}); install one version and pin it, or write provenance.publishers by hand`);
    }
    pins.push({ spec: spec.name, publisher: [...seen.values()][0]! });
  }
  const file = gate.policyFile ?? join(project.dir, POLICY_FILE);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : starterPolicyText();
  const { text, changed } = setPublisherPins(before, file, pins);
  if (changed.length > 0) writeFileAtomic(file, text);
  return { file, pins, changed };
}

/** The lines `approve --publisher` prints. */
export function describePublisherApproval(approval: PublisherApproval): string {
  const lines = approval.pins.map(({ spec, publisher }) => `${approval.changed.includes(spec) ? '+' : '='} provenance.publishers["${spec}"]: ${JSON.stringify(publisher)}${approval.changed.includes(spec) ? '' : ' (already there)'}`);
  lines.push(`${approval.changed.length} publisher pin(s) written to ${approval.file}`);
  return `${lines.join('\n')}\n`;
}

/** What `approve --cooldown` wrote: the policy file, each exception and until when, and which were new. */
export interface CooldownApproval {
  file: string;
  exceptions: Array<{ spec: string; until: string }>;
  changed: string[];
}

/**
 * `approve --cooldown <name…>`: a time-boxed exception to the cooldown for every version of the named packages in the
 * lockfile (`name@version`), until the time the cooldown itself would let it in (`now + minimumReleaseAge`): the
 * exception lapses on its own.
 */
export async function approveCooldown(dir: string, names: readonly string[], options: { env?: Env; kind?: LockfileKind; now?: number } = {}): Promise<CooldownApproval> {
  const env = options.env ?? process.env;
  const project = await loadProject(dir, { env, ...(options.kind ? { kind: options.kind } : {}) });
  const policy = await effectivePolicy({ dir: project.dir, start: project.start, registryConfig: project.registryConfig }, env);
  const limit = policy.cooldown.minimumReleaseAge;
  if (limit === null) throw new PortcullisError('USAGE', 'portcullis.json sets no cooldown (cooldown.minimumReleaseAge): there is nothing to make an exception to');
  const until = new Date((options.now ?? Date.now()) + limit.ms).toISOString();
  const entries = approvalsFor(project.lockfile.packages, names).map((spec) => ({ spec, until }));
  const file = policy.file ?? join(project.dir, POLICY_FILE);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : starterPolicyText();
  const { text, changed } = addCooldownExceptions(before, file, entries);
  if (changed.length > 0) writeFileAtomic(file, text);
  return { file, exceptions: entries, changed };
}

/** The lines `approve --cooldown` prints. */
export function describeCooldownApproval(approval: CooldownApproval): string {
  const lines = approval.exceptions.map(({ spec, until }) => `${approval.changed.includes(spec) ? '+' : '='} cooldown.exceptions["${spec}"]: until ${until}`);
  lines.push(`${approval.changed.length} cooldown exception(s) written to ${approval.file}`);
  return `${lines.join('\n')}\n`;
}
