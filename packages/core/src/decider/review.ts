/**
 * `approve` with no names: what the policy blocks that one of approve's forms can let in, grouped by rule, each with
 * what would run and the facts to decide on — for the terminal picker and for the listing a terminal-less run prints.
 * Writing goes through approve's own functions (`approveScripts`, `approveCooldown`, `approvePublishers`).
 */
import { defaultCacheDir } from '../cache/metadata.js';
import type { Env } from '../env.js';
import type { Finding } from '../finding.js';
import { installTimeScripts, preparedWhenInstalled, type LockfileKind, type PackageNode } from '../model.js';
import type { RegistryConfig } from '../registry/config.js';
import { createRegistryClient, type RegistryFetch } from '../registry/client.js';
import { approveCommand as approveCommandFor, type Surface } from '../report/notices.js';
import { approveCooldown, approvePublishers, approveScripts, describeApproval, describeCooldownApproval, describePublisherApproval, type Approval, type CooldownApproval, type PublisherApproval } from './approve.js';
import type { CheckRun } from './check.js';
import { compareText } from '../evaluation/order.js';

/** Which approve form lets a blocked package in: `approve`, `approve --cooldown` or `approve --publisher`. */
export type ApproveForm = 'scripts' | 'cooldown' | 'publisher';

/** The order the groups are shown in, with their headings. */
export const APPROVE_FORMS: ReadonlyArray<{ form: ApproveForm; heading: string; flag: string }> = [
  { form: 'scripts', heading: 'Install-time code scripts.allow does not cover (portcullis approve)', flag: '' },
  { form: 'cooldown', heading: 'Releases newer than the cooldown (portcullis approve --cooldown: a time-boxed exception)', flag: '--cooldown ' },
  { form: 'publisher', heading: 'Built by another publisher than earlier installs saw (portcullis approve --publisher)', flag: '--publisher ' },
];

/** One blocked package an approve form can let in. */
export interface ReviewEntry {
  /** Unique within a review: the form and what it approves. */
  key: string;
  form: ApproveForm;
  package: string;
  version: string;
  /** The arguments that form takes for it (pinned `name@version`; a bundled copy also names its bundler; a publisher pin a name). */
  approves: string[];
  /** What would run at install time (scripts only): `postinstall: node install.js`, `node-gyp rebuild (binding.gyp)`. */
  runs: string[];
  /** Facts to decide on: source, where installed, signature, provenance, publish time. */
  facts: string[];
  /** Why it is blocked (the finding's message). */
  reason: string;
}

/** What `approve` would offer, and what it cannot waive. */
export interface ApprovalReview {
  entries: ReviewEntry[];
  /** Blocked for a reason no approve form waives (bad signatures, known malware, …), each with its own fix. */
  others: Finding[];
  /** The check's exit code: 0 nothing blocked, 1 violations, 3 something could not be decided. */
  exitCode: 0 | 1 | 3;
}

function formOf(run: CheckRun, finding: Finding): ApproveForm | undefined {
  // Changed install scripts of an approved package are approved again the same way (pinned, fingerprint recorded).
  if (finding.code === 'SCRIPT_NOT_ALLOWED' || finding.code === 'SCRIPT_CHANGED') return 'scripts';
  if (finding.code === 'RELEASE_TOO_NEW') return 'cooldown';
  // Only a publisher earlier installs saw can be re-pinned by approve; a mismatch with a written pin is an edit by hand.
  if (finding.code === 'PUBLISHER_MISMATCH' && finding.id !== undefined && run.verdict.evidence.publisherChanges?.has(finding.id) === true) return 'publisher';
  return undefined;
}

function approvesFor(form: ApproveForm, pkg: PackageNode): string[] {
  const who = `${pkg.name}@${pkg.version}`;
  if (form === 'publisher') return [pkg.name];
  // A bundled copy builds only when its bundler is allowed too (the finding's fix names both).
  if (form === 'scripts' && pkg.bundledBy !== undefined) return [`${pkg.bundledBy.name}@${pkg.bundledBy.version}`, who];
  return [who];
}

/** What a copy would run at install time, command lines included where known (`full` is the registry's full document's scripts). */
function runsOf(run: CheckRun, pkg: PackageNode, full: Readonly<Record<string, string>> | undefined): string[] {
  const scripts = run.verdict.evidence.scripts.get(pkg.id);
  const lines: string[] = [];
  // Abbreviated metadata says only that there are scripts: the full document names them.
  const lifecycle = installTimeScripts(pkg);
  const names = scripts !== undefined && scripts.scripts.length > 0 ? scripts.scripts : lifecycle.filter((name) => full !== undefined && Object.hasOwn(full, name));
  for (const name of names) {
    const command = scripts?.commands?.[name] ?? (full !== undefined && Object.hasOwn(full, name) ? full[name] : undefined);
    lines.push(`${name}: ${command ?? '(command line not known: install it with scripts skipped, then run approve again)'}`);
  }
  if (scripts?.bindingGyp === true) lines.push('node-gyp rebuild (binding.gyp)');
  if (lines.length === 0) lines.push(preparedWhenInstalled(pkg) ? 'prepare or install scripts (not known until it is fetched)' : 'install scripts (which ones is not known: the lockfile only says it has some)');
  return lines;
}

function factsOf(run: CheckRun, pkg: PackageNode): string[] {
  const facts: string[] = [];
  const evidence = run.verdict.evidence;
  const source = pkg.source === 'registry' ? `registry ${pkg.registry ?? '(unknown)'}` : `${pkg.source}${pkg.resolved ? ` ${pkg.resolved}` : ''}`;
  facts.push(`source: ${source}${pkg.paths.length > 0 ? `; installed at ${pkg.paths.join(', ')}` : ''}`);
  if (!run.gate.signaturesRequired) facts.push('signature: not checked (signatures.require is "off")');
  else {
    const signature = evidence.signatures.get(pkg.id);
    if (signature !== undefined) facts.push(`signature: ${signature.status}${'keyid' in signature ? ` by ${signature.keyid}` : ''}`);
    else facts.push(`signature: ${pkg.source === 'registry' ? 'not checked' : 'none (not from a registry)'}`);
  }
  const provenance = evidence.provenance?.get(pkg.id);
  if (provenance?.status === 'verified') {
    const id = provenance.identity;
    facts.push(`provenance: verified, built by ${id.repository} (workflow ${id.workflow}${id.ref ? ` at ${id.ref}` : ''})`);
  } else if (provenance !== undefined) facts.push(`provenance: ${provenance.status}${'reason' in provenance ? ` (${provenance.reason})` : ''}`);
  else facts.push('provenance: not checked (no provenance rule asks for it)');
  const scripts = evidence.scripts.get(pkg.id);
  if (scripts !== undefined && scripts.source !== 'installed') facts.push(`not installed here (an optional or other-platform package, or not installed yet): what it runs is from the ${scripts.source}`);
  const published = evidence.published?.get(pkg.id);
  if (published !== undefined) facts.push(`published: ${published ?? 'unknown'}`);
  return facts;
}

/**
 * Full registry documents (they list scripts with their command lines) for the script entries whose command lines
 * neither the installed files nor the metadata read showed. Failures leave them unknown, said so, never invented.
 */
async function fullScripts(run: CheckRun, pkgs: readonly PackageNode[], options: { offline?: boolean; env?: Env; fetch?: RegistryFetch }): Promise<Map<string, Readonly<Record<string, string>>>> {
  const wanted = pkgs.filter((pkg) => {
    const scripts = run.verdict.evidence.scripts.get(pkg.id);
    return pkg.source === 'registry' && pkg.registry !== undefined && (scripts === undefined || scripts.scripts.length === 0 || scripts.scripts.some((name) => scripts.commands?.[name] === undefined));
  });
  const out = new Map<string, Readonly<Record<string, string>>>();
  if (wanted.length === 0) return out;
  const client = createRegistryClient({
    config: run.project.registryConfig,
    cacheDir: defaultCacheDir(options.env ?? process.env),
    timeoutMs: 10_000,
    ...(options.offline ? { offline: true } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await Promise.all(
    wanted.map(async (pkg) => {
      try {
        const scripts = (await client.getPackument(pkg.name, { registry: pkg.registry!, version: pkg.version, full: true })).versions.get(pkg.version)?.scripts;
        if (scripts !== undefined) out.set(pkg.id, scripts);
      } catch {
        // Unknown stays unknown: the entry says the command line is not known.
      }
    }),
  );
  return out;
}

/** Everything a check run blocks, as approve would offer it: scripts first, then cooldown exceptions, then publisher pins. */
export async function reviewBlocked(run: CheckRun, options: { offline?: boolean; env?: Env; fetch?: RegistryFetch } = {}): Promise<ApprovalReview> {
  const byId = new Map(run.project.lockfile.packages.map((pkg) => [pkg.id, pkg]));
  const offered: Array<{ form: ApproveForm; pkg: PackageNode; finding: Finding }> = [];
  const others: Finding[] = [];
  for (const finding of run.verdict.blocking) {
    const pkg = finding.id !== undefined ? byId.get(finding.id) : undefined;
    const form = formOf(run, finding);
    if (form === undefined || pkg === undefined) others.push(finding);
    else offered.push({ form, pkg, finding });
  }
  const full = await fullScripts(
    run,
    offered.filter((o) => o.form === 'scripts').map((o) => o.pkg),
    options,
  );
  const entries = new Map<string, ReviewEntry>();
  for (const { form } of APPROVE_FORMS) {
    const group = offered.filter((o) => o.form === form).sort((a, b) => compareText(a.pkg.name, b.pkg.name) || compareText(a.pkg.version, b.pkg.version));
    for (const { pkg, finding } of group) {
      const approves = approvesFor(form, pkg);
      const key = `${form}:${approves.join(' ')}`;
      const existing = entries.get(key);
      // Several copies of one version (nested installs) are one approval: their facts are merged.
      if (existing !== undefined) {
        for (const fact of factsOf(run, pkg)) if (!existing.facts.includes(fact)) existing.facts.push(fact);
        continue;
      }
      entries.set(key, {
        key,
        form,
        package: pkg.name,
        version: pkg.version,
        approves,
        runs: form === 'scripts' ? runsOf(run, pkg, full.get(pkg.id)) : [],
        facts: factsOf(run, pkg),
        reason: finding.message,
      });
    }
  }
  return { entries: [...entries.values()], others, exitCode: run.verdict.exitCode };
}

/** The exact non-interactive commands that approve every offered entry, one per form. */
export function reviewCommands(entries: readonly ReviewEntry[], surface: Surface = 'cli'): string[] {
  const commands: string[] = [];
  for (const { form, flag } of APPROVE_FORMS) {
    const args = [...new Set(entries.filter((e) => e.form === form).flatMap((e) => e.approves))];
    if (args.length === 0) continue;
    const base = approveCommandFor([], surface).trimEnd();
    commands.push(`${base} ${flag}${args.join(' ')}`);
  }
  return commands;
}

/** The review as text: groups, each entry with what runs and its facts, what approve cannot waive, and the commands. */
export function formatReview(review: ApprovalReview, surface: Surface = 'cli'): string {
  if (review.entries.length === 0 && review.others.length === 0) return 'Nothing is blocked: every package in the lockfile is allowed.\n';
  const lines: string[] = [];
  for (const { form, heading } of APPROVE_FORMS) {
    const group = review.entries.filter((e) => e.form === form);
    if (group.length === 0) continue;
    lines.push(`${heading}:`);
    for (const entry of group) {
      lines.push(`  ${entry.package}@${entry.version}${entry.approves.length > 1 && form === 'scripts' ? ` (bundled in ${entry.approves[0]}, which is approved with it)` : ''}`);
      for (const runs of entry.runs) lines.push(`    runs ${runs}`);
      if (form !== 'scripts') lines.push(`    ${entry.reason}`);
      for (const fact of entry.facts) lines.push(`    ${fact}`);
    }
    lines.push('');
  }
  if (review.others.length > 0) {
    lines.push('Blocked for reasons approve does not waive:');
    for (const f of review.others) lines.push(`  ${f.code}  ${f.message}`, `    fix: ${f.fix}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`.replace(/\n\n\n$/, '\n\n');
}

/** What approving a selection wrote, per form. */
export interface ReviewedApproval {
  scripts?: Approval;
  cooldown?: CooldownApproval;
  publishers?: PublisherApproval;
}

/** Writes the chosen entries through approve's own functions (scripts, then cooldown exceptions, then publisher pins). */
export async function approveReviewed(dir: string, chosen: readonly ReviewEntry[], options: { env?: Env; kind?: LockfileKind; registryConfig?: RegistryConfig; offline?: boolean; fetch?: RegistryFetch } = {}): Promise<ReviewedApproval> {
  const args = (form: ApproveForm) => [...new Set(chosen.filter((e) => e.form === form).flatMap((e) => e.approves))];
  const base = { env: options.env ?? process.env, ...(options.kind ? { kind: options.kind } : {}) };
  const out: ReviewedApproval = {};
  if (args('scripts').length > 0) out.scripts = await approveScripts(dir, args('scripts'), base);
  if (args('cooldown').length > 0) out.cooldown = await approveCooldown(dir, args('cooldown'), base);
  if (args('publisher').length > 0) {
    out.publishers = await approvePublishers(dir, args('publisher'), {
      ...base,
      ...(options.registryConfig ? { registryConfig: options.registryConfig } : {}),
      ...(options.offline !== undefined ? { offline: options.offline } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }
  return out;
}

/** The lines approve prints for what it wrote. */
export function describeReviewed(approval: ReviewedApproval): string {
  return [approval.scripts && describeApproval(approval.scripts), approval.cooldown && describeCooldownApproval(approval.cooldown), approval.publishers && describePublisherApproval(approval.publishers)].filter((s) => s !== undefined).join('');
}
