/**
 * `explain <name>`: for each installed copy of a package, every rule that was applied, the evidence it was judged
 * on, the policy line that decided, and the line that would change the verdict. Pure: it reads a finished check
 * (policy, packages, findings, evidence) and re-derives no rule — the findings say what blocks; this says why.
 */
import { PortcullisError } from '../errors.js';
import type { Evidence } from '../evaluation/evidence.js';
import type { Finding, Rule } from '../finding.js';
import { isOwnCode, type LockfileKind, type PackageNode, type SourceLocation } from '../model.js';
import { provenanceRequired, publisherFor } from '../policy/provenance.js';
import { createSpecMatcher, specMatches } from '../policy/spec.js';
import type { PackageSpec, Policy } from '../policy/types.js';
import type { CheckRun } from './check.js';

/** The rules explain reports on: the finding rules, plus the registry whose keys a signature is checked with. */
export type ExplainedRule = Rule | 'registry';

/** One line of the policy (or a built-in default) that decided a rule. */
export interface PolicyLine {
  /** The policy key, e.g. `scripts.allow`, `signatures.require`, `registries["http://…/"].keys`. */
  key: string;
  /** The entry or value as written (`esbuild@0.21.5`, `"registry"`), or absent when the key itself is meant. */
  value?: string;
  /** Whether the product's default decided (no line in any policy file). */
  default: boolean;
  /** The policy file the line stands in (null for a default); more than one file may contribute lines. */
  source: string | null;
  /** Where the entry stands in that file. */
  location?: SourceLocation;
}

/** What one rule made of one copy. */
export interface RuleExplanation {
  rule: ExplainedRule;
  /** `allowed`: the rule passed; `blocked`: it yielded a finding; `not-applicable`: nothing to judge (e.g. no install-time code). */
  outcome: 'allowed' | 'blocked' | 'not-applicable';
  /** The evidence in one sentence (signature key id and registry, provenance identity, publish time and age, advisory id). */
  evidence: string;
  /** The same evidence as data, for `--format json`. */
  facts: Record<string, unknown>;
  /** The policy lines that decided (empty when no line could: the evidence alone decided). */
  decidedBy: PolicyLine[];
  /** The one command or policy edit that would flip this rule's outcome, when one exists. */
  change?: string;
  /** The findings this rule produced for the copy. */
  findings: Finding[];
}

/** One installed copy of the package. */
export interface CopyExplanation {
  package: string;
  version: string;
  id: string;
  aliases: string[];
  source: PackageNode['source'];
  registry?: string;
  resolved?: string;
  /** Where it is installed (the lockfile's notation: `node_modules/a/node_modules/b`, a pnpm key, a Yarn locator). */
  paths: string[];
  /** Its entry in the lockfile. */
  lockfile: { path: string; line?: number };
  requiredBy: string[];
  verdict: 'allowed' | 'blocked';
  ownCode: boolean;
  rules: RuleExplanation[];
}

/** What explain prints, and its exit code (1 when any copy is blocked, 3 when one could not be decided). */
export interface Explanation {
  name: string;
  policy: string | null;
  /** The organisation policy `policy` extends (`@acme/portcullis-policy@1.2.3/portcullis.json`), when it extends one. */
  extends?: string;
  lockfile: { kind: LockfileKind; path: string };
  copies: CopyExplanation[];
  exitCode: 0 | 1 | 3;
}

/** What explain reads from a finished check. */
export interface ExplainInput {
  policy: Policy;
  packages: readonly PackageNode[];
  /** Every finding of the check (fixes spelled for the surface). */
  findings: readonly Finding[];
  evidence: Evidence;
  lockfile: { kind: LockfileKind; path: string };
}

const quoted = (s: string) => JSON.stringify(s);

function specLine(policy: Policy, key: string, spec: PackageSpec): PolicyLine {
  return { key, value: spec.raw, default: false, source: spec.source ?? policy.file, ...(spec.location ? { location: spec.location } : {}) };
}

function keyLine(policy: Policy, key: string, value: string, isDefault: boolean): PolicyLine {
  // Merged from an organisation policy (`extends`): the file the effective value was written in.
  const registry = /^registries\["(.*)"\]\.keys$/.exec(key);
  const origin = policy.origins[registry ? `registries.${registry[1]}` : key === 'advisories.osv' && value.startsWith('"') ? `advisories.osv.${JSON.parse(value) as string}` : key];
  return { key, value, default: isDefault, source: isDefault ? null : (origin?.source ?? policy.file) };
}

function ageText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

/** A rule that could not be judged because the copy's metadata could not be obtained (fail closed). */
function undecided(rule: ExplainedRule, reason: string, findings: Finding[]): RuleExplanation {
  return { rule, outcome: 'blocked', evidence: `not judged: its metadata could not be obtained (${reason})`, facts: { unavailable: reason }, decidedBy: [], change: findings[0]?.fix ?? 'make the registry reachable and run the check again', findings };
}

function scriptsRule(x: ExplainInput, pkg: PackageNode, findings: Finding[]): RuleExplanation {
  const scripts = x.evidence.scripts.get(pkg.id);
  const runs = scripts ? scripts.hasInstallScript || scripts.bindingGyp : pkg.hasInstallScript === true;
  const what = [...(scripts?.scripts ?? []), ...(scripts?.bindingGyp ? ['node-gyp rebuild (binding.gyp)'] : [])];
  const facts = { runs, scripts: scripts?.scripts ?? [], bindingGyp: scripts?.bindingGyp ?? false, per: scripts?.source ?? 'lockfile' };
  const per = `per the ${scripts?.source === 'installed' ? 'installed package.json' : (scripts?.source ?? 'lockfile')}`;
  if (!runs) return { rule: 'scripts', outcome: 'not-applicable', evidence: `runs nothing at install time (${per})`, facts, decidedBy: [], findings };
  const evidence = `runs ${what.join(', ') || 'install scripts'} at install time (${per})`;
  const allowed = createSpecMatcher(x.policy.scripts.allow);
  const entry = allowed(pkg.name, pkg.version);
  const bundler = pkg.bundledBy;
  if (findings.length > 0 && entry !== undefined && findings.every((f) => f.code !== 'SCRIPT_NOT_ALLOWED')) {
    // Allowed by a range or a name, and compared with what was approved (scripts.fingerprints): SCRIPT_CHANGED, or undecidable.
    const recorded = x.policy.scripts.fingerprints.filter((f) => f.name === pkg.name).map((f) => `${f.name}@${f.version}`);
    const decidedBy: PolicyLine[] = [specLine(x.policy, 'scripts.allow', entry), { key: 'scripts.fingerprints', value: recorded.join(', '), default: false, source: x.policy.file }];
    return { rule: 'scripts', outcome: 'blocked', evidence, facts, decidedBy, change: findings[0]!.fix, findings };
  }
  if (findings.length > 0) {
    const decidedBy: PolicyLine[] =
      entry !== undefined && bundler !== undefined
        ? [specLine(x.policy, 'scripts.allow', entry), { key: 'scripts.allow', default: true, source: null, value: `(no entry for its bundler ${bundler.name}@${bundler.version}: a bundled copy needs both)` }]
        : [{ key: 'scripts.allow', default: true, source: null, value: '(no entry covers it: denied by default)' }];
    return { rule: 'scripts', outcome: 'blocked', evidence, facts, decidedBy, change: findings[0]!.fix, findings };
  }
  if (entry === undefined) return { rule: 'scripts', outcome: 'allowed', evidence, facts, decidedBy: [], findings };
  const decidedBy = [specLine(x.policy, 'scripts.allow', entry)];
  if (bundler !== undefined) {
    const bundlerEntry = allowed(bundler.name, bundler.version);
    if (bundlerEntry !== undefined) decidedBy.push(specLine(x.policy, 'scripts.allow', bundlerEntry));
  }
  return { rule: 'scripts', outcome: 'allowed', evidence, facts, decidedBy, change: `remove ${quoted(entry.raw)} from scripts.allow in ${x.policy.file ?? 'portcullis.json'} (its scripts would then be skipped: SCRIPT_NOT_ALLOWED)`, findings };
}

function registryRule(x: ExplainInput, pkg: PackageNode, findings: Finding[]): RuleExplanation | undefined {
  if (pkg.source !== 'registry' || pkg.registry === undefined || x.policy.signatures.require === 'off') return undefined;
  const trust = x.policy.registries[pkg.registry];
  const key = `registries[${quoted(pkg.registry)}].keys`;
  if (trust === undefined) {
    const untrusted = findings.filter((f) => f.code === 'UNTRUSTED_REGISTRY');
    return {
      rule: 'registry',
      outcome: untrusted.length > 0 ? 'blocked' : 'allowed',
      evidence: `${pkg.registry}: no trusted signing keys configured`,
      facts: { registry: pkg.registry, keys: null },
      decidedBy: [{ key, default: true, source: null, value: '(not configured)' }],
      change: untrusted[0]?.fix ?? `add ${key} to ${x.policy.file ?? 'portcullis.json'}`,
      // The finding itself is listed under signatures.
      findings: [],
    };
  }
  const keys = trust.keys === 'npm' ? '"npm" (the npm registry\'s embedded keys)' : `${trust.keys.length} key(s): ${trust.keys.map((k) => k.keyid).join(', ')}`;
  return {
    rule: 'registry',
    outcome: 'allowed',
    evidence: `${pkg.registry}: trusted with ${keys}`,
    facts: { registry: pkg.registry, keys: trust.keys === 'npm' ? 'npm' : trust.keys.map((k) => k.keyid) },
    decidedBy: [keyLine(x.policy, key, trust.keys === 'npm' ? '"npm"' : `[${trust.keys.length} key(s)]`, x.policy.file === null)],
    findings: [],
  };
}

function signaturesRule(x: ExplainInput, pkg: PackageNode, findings: Finding[], bundled: boolean): RuleExplanation {
  const requireLine = keyLine(x.policy, 'signatures.require', quoted(x.policy.signatures.require), x.policy.file === null);
  if (x.policy.signatures.require === 'off') {
    return { rule: 'signatures', outcome: 'not-applicable', evidence: 'not checked', facts: { required: false }, decidedBy: [requireLine], change: `set "signatures": { "require": "registry" } in ${x.policy.file ?? 'portcullis.json'}`, findings };
  }
  if (bundled) return { rule: 'signatures', outcome: 'not-applicable', evidence: `ships inside ${pkg.bundledBy ? `${pkg.bundledBy.name}@${pkg.bundledBy.version}` : 'its parent'}'s tarball, which that package's signature covers`, facts: { bundled: true }, decidedBy: [], findings };
  const signature = x.evidence.signatures.get(pkg.id);
  const facts: Record<string, unknown> = { required: true, status: signature?.status ?? (pkg.source === 'registry' ? 'not-checked' : 'unsigned-source'), ...(signature && 'keyid' in signature ? { keyid: signature.keyid } : {}), ...(pkg.registry ? { registry: pkg.registry } : {}), integrity: x.evidence.integrities?.get(pkg.id) ?? pkg.integrity ?? null };
  let evidence: string;
  if (pkg.source !== 'registry') evidence = `none: a ${pkg.source} dependency (${pkg.resolved ?? 'no origin recorded'}) carries no registry signature by nature`;
  else if (signature === undefined) evidence = 'not checked';
  else if (signature.status === 'verified') evidence = `verified: signed by key ${signature.keyid} of ${pkg.registry} over ${pkg.name}@${pkg.version}:${String(facts.integrity)}`;
  else if ('keyid' in signature) evidence = `${signature.status}: key ${signature.keyid} of ${pkg.registry}`;
  else if (signature.status === 'unavailable') evidence = `could not be checked (${signature.reason})`;
  else evidence = `${signature.status} (${pkg.registry})`;
  const waiver = createSpecMatcher(x.policy.signatures.allowUnsigned)(pkg.name, pkg.version);
  if (findings.length > 0) return { rule: 'signatures', outcome: 'blocked', evidence, facts, decidedBy: [requireLine], change: findings[0]!.fix, findings };
  if (signature?.status === 'verified') return { rule: 'signatures', outcome: 'allowed', evidence, facts, decidedBy: [requireLine], findings };
  // Not verified and no finding: only allowUnsigned waives that (never a bad signature).
  return {
    rule: 'signatures',
    outcome: 'allowed',
    evidence,
    facts,
    decidedBy: waiver !== undefined ? [requireLine, specLine(x.policy, 'signatures.allowUnsigned', waiver)] : [requireLine],
    ...(waiver !== undefined ? { change: `remove ${quoted(waiver.raw)} from signatures.allowUnsigned in ${x.policy.file ?? 'portcullis.json'}` } : {}),
    findings,
  };
}

function provenanceRule(x: ExplainInput, pkg: PackageNode, findings: Finding[]): RuleExplanation {
  const evidence = x.evidence.provenance?.get(pkg.id);
  const downgrade = x.evidence.downgrades?.get(pkg.id);
  const facts: Record<string, unknown> = { status: evidence?.status ?? 'not-checked' };
  let text: string;
  if (evidence?.status === 'verified') {
    const id = evidence.identity;
    facts.identity = id;
    text = `verified: built by ${id.repository}${id.repositoryId ? ` (repository id ${id.repositoryId}${id.ownerId ? `, owner id ${id.ownerId}` : ''})` : ''}, workflow ${id.workflow}${id.ref ? ` at ${id.ref}` : ''}${id.trigger ? ` (${id.trigger})` : ''}`;
  } else if (evidence !== undefined) {
    text = evidence.status + ('reason' in evidence ? ` (${evidence.reason})` : '');
  } else text = 'not checked (no provenance rule asks about it)';
  if (downgrade !== undefined) {
    facts.downgrade = downgrade;
    text += `; the earlier ${pkg.name}@${downgrade.earlier} had verified provenance from ${downgrade.repository}`;
  }
  const decidedBy: PolicyLine[] = [];
  const pin = publisherFor(x.policy, pkg.name, pkg.version);
  const required = provenanceRequired(x.policy, pkg.name, pkg.version);
  if (pin !== undefined) decidedBy.push(specLine(x.policy, 'provenance.publishers', pin.spec));
  else {
    const entry = x.policy.provenance.require.find((spec) => specMatches(spec, pkg.name, pkg.version, 'requires'));
    if (entry !== undefined) decidedBy.push(specLine(x.policy, 'provenance.require', entry));
  }
  if (downgrade !== undefined) {
    const waiver = x.policy.provenance.allowDowngrade.find((spec) => specMatches(spec, pkg.name, pkg.version));
    decidedBy.push(waiver !== undefined ? specLine(x.policy, 'provenance.allowDowngrade', waiver) : keyLine(x.policy, 'provenance.noDowngrade', String(x.policy.provenance.noDowngrade), x.policy.file === null));
  }
  if (findings.length > 0) return { rule: 'provenance', outcome: 'blocked', evidence: text, facts, decidedBy, change: findings[0]!.fix, findings };
  if (!required && downgrade === undefined) {
    return { rule: 'provenance', outcome: 'not-applicable', evidence: text, facts, decidedBy: [], change: `to require it: add ${quoted(pkg.name)} to provenance.require in ${x.policy.file ?? 'portcullis.json'}`, findings };
  }
  return { rule: 'provenance', outcome: 'allowed', evidence: text, facts, decidedBy, findings };
}

function cooldownRule(x: ExplainInput, pkg: PackageNode, findings: Finding[]): RuleExplanation {
  const limit = x.policy.cooldown.minimumReleaseAge;
  if (limit === null) return { rule: 'cooldown', outcome: 'not-applicable', evidence: 'no cooldown is set', facts: { minimumReleaseAge: null }, decidedBy: [keyLine(x.policy, 'cooldown.minimumReleaseAge', '(not set)', true)], findings };
  const limitLine = keyLine(x.policy, 'cooldown.minimumReleaseAge', quoted(limit.raw), false);
  const excluded = createSpecMatcher(x.policy.cooldown.exclude)(pkg.name, pkg.version);
  if (excluded !== undefined) {
    return { rule: 'cooldown', outcome: 'not-applicable', evidence: 'excluded from the cooldown', facts: { minimumReleaseAge: limit.raw, excluded: excluded.raw }, decidedBy: [specLine(x.policy, 'cooldown.exclude', excluded)], change: `remove ${quoted(excluded.raw)} from cooldown.exclude in ${x.policy.file ?? 'portcullis.json'}`, findings };
  }
  const published = x.evidence.published?.get(pkg.id);
  const now = x.evidence.now;
  const facts: Record<string, unknown> = { minimumReleaseAge: limit.raw, published: published ?? null };
  let evidence: string;
  if (published === undefined || published === null || now === undefined || Number.isNaN(Date.parse(published))) evidence = `publish time ${published === undefined ? 'not checked' : 'unknown'} (an unknown age is never old enough)`;
  else {
    const age = Math.max(0, now - Date.parse(published));
    facts.ageMs = age;
    facts.installableAt = new Date(Date.parse(published) + limit.ms).toISOString();
    evidence = `published ${published}, ${ageText(age)} ago; the cooldown is ${limit.raw}: ${age >= limit.ms ? 'old enough' : `too new until ${String(facts.installableAt)}`}`;
  }
  const exception = x.policy.cooldown.exceptions.find((e) => specMatches(e.spec, pkg.name, pkg.version) && (now === undefined || Date.parse(e.until) > now));
  if (findings.length > 0) return { rule: 'cooldown', outcome: 'blocked', evidence, facts, decidedBy: [limitLine], change: findings[0]!.fix, findings };
  if (exception !== undefined) {
    facts.exceptionUntil = exception.until;
    return { rule: 'cooldown', outcome: 'allowed', evidence: `${evidence}; excepted until ${exception.until}`, facts, decidedBy: [limitLine, { ...specLine(x.policy, 'cooldown.exceptions', exception.spec), value: `${exception.spec.raw}: ${exception.until}` }], findings };
  }
  return { rule: 'cooldown', outcome: 'allowed', evidence, facts, decidedBy: [limitLine], findings };
}

function advisoriesRule(x: ExplainInput, pkg: PackageNode, findings: Finding[]): RuleExplanation {
  const sources = x.policy.advisories.osv;
  if (sources.length === 0) return { rule: 'advisories', outcome: 'not-applicable', evidence: 'no advisory sources are read', facts: { osv: [] }, decidedBy: [keyLine(x.policy, 'advisories.osv', '(not set)', true)], findings };
  const listed = x.evidence.advisories?.get(pkg.id) ?? [];
  const decidedBy = sources.map((s) => keyLine(x.policy, 'advisories.osv', quoted(s), false));
  const facts = { osv: sources, advisories: listed };
  if (listed.length === 0) return { rule: 'advisories', outcome: 'allowed', evidence: `listed in none of ${sources.length} advisory source(s)`, facts, decidedBy, findings };
  return { rule: 'advisories', outcome: 'blocked', evidence: `listed as malicious by ${listed.map((a) => `${a.id} (${a.summary})`).join(', ')}`, facts, decidedBy, change: findings[0]?.fix ?? 'remove this version from the lockfile: nothing waives a known-malicious version', findings };
}

/** Explains one copy: each rule, its evidence, the deciding line and what would change it. */
function explainCopy(x: ExplainInput, pkg: PackageNode): CopyExplanation {
  const mine = x.findings.filter((f) => f.id === pkg.id);
  const of = (rule: Rule) => mine.filter((f) => f.rule === rule);
  const ownCode = isOwnCode(pkg);
  const rules: RuleExplanation[] = [];
  const bundled = pkg.inBundle === true && x.evidence.notBundled?.has(pkg.id) !== true;
  if (!ownCode) {
    rules.push(advisoriesRule(x, pkg, of('advisories')));
    const unavailable = x.evidence.unavailable.get(pkg.id);
    if (unavailable !== undefined) {
      // Fail closed: with no metadata the other rules were not judged; the finding says so.
      const pending = mine.filter((f) => f.code === 'METADATA_UNAVAILABLE');
      for (const rule of ['scripts', 'signatures'] as const) rules.push(undecided(rule, unavailable, rule === 'signatures' ? pending : []));
    } else {
      rules.push(scriptsRule(x, pkg, of('scripts')));
      const signatureFindings = of('signatures');
      const registry = registryRule(x, pkg, signatureFindings);
      rules.push(signaturesRule(x, pkg, signatureFindings, bundled));
      if (registry !== undefined && !bundled) rules.push(registry);
      if (pkg.source === 'registry' && !bundled) rules.push(provenanceRule(x, pkg, of('provenance')), cooldownRule(x, pkg, of('cooldown')));
    }
  }
  // Never hide a finding: one no rule above claimed is listed under its own rule.
  const shown = new Set(rules.flatMap((r) => r.findings));
  for (const f of mine) {
    if (shown.has(f)) continue;
    const home = rules.find((r) => r.rule === f.rule && r.outcome === 'blocked');
    if (home !== undefined) home.findings.push(f);
    else rules.push({ rule: f.rule, outcome: 'blocked', evidence: f.message, facts: {}, decidedBy: [], change: f.fix, findings: [f] });
  }
  return {
    package: pkg.name,
    version: pkg.version,
    id: pkg.id,
    aliases: pkg.aliases,
    source: pkg.source,
    ...(pkg.registry !== undefined ? { registry: pkg.registry } : {}),
    ...(pkg.resolved !== undefined ? { resolved: pkg.resolved } : {}),
    paths: pkg.paths,
    lockfile: { path: x.lockfile.path, ...(pkg.location ? { line: pkg.location.line } : {}) },
    requiredBy: pkg.dependents,
    verdict: mine.length > 0 ? 'blocked' : 'allowed',
    ownCode,
    rules,
  };
}

/** Explains every copy of `name` (or of an alias installed under that name) from a finished check's parts. */
export function explainCopies(x: ExplainInput, name: string): Explanation {
  const copies = x.packages.filter((p) => p.name === name || p.aliases.includes(name));
  if (copies.length === 0) throw new PortcullisError('USAGE', `${name} is not in ${x.lockfile.path}: explain names a package the lockfile installs (check the spelling, or run the install first)`);
  const explained = copies.map((pkg) => explainCopy(x, pkg));
  const all = explained.flatMap((c) => c.rules.flatMap((r) => r.findings));
  const exitCode = all.some((f) => f.code === 'METADATA_UNAVAILABLE') ? 3 : explained.some((c) => c.verdict === 'blocked') ? 1 : 0;
  const inherited = x.policy.sources.slice(0, -1);
  return { name, policy: x.policy.file, ...(inherited.length > 0 ? { extends: inherited.join(', ') } : {}), lockfile: x.lockfile, copies: explained, exitCode };
}

/** Explains every copy of `name` in a check run. */
export function explainPackage(run: CheckRun, name: string): Explanation {
  return explainCopies({ policy: run.policy, packages: run.project.lockfile.packages, findings: run.verdict.findings, evidence: run.verdict.evidence, lockfile: { kind: run.project.lockfile.kind, path: run.project.lockfile.path } }, name);
}

function lineText(line: PolicyLine): string {
  const what = line.value !== undefined ? `${line.key}: ${line.value}` : line.key;
  if (line.default) return `${what} (default)`;
  const where = line.source === null ? '' : ` (${line.source}${line.location ? `:${line.location.line}:${line.location.column}` : ''})`;
  return `${what}${where}`;
}

const MARK: Record<RuleExplanation['outcome'], string> = { allowed: '✓', blocked: '✗', 'not-applicable': '-' };

/** The human form of an explanation. */
export function formatExplanationText(explanation: Explanation): string {
  const lines: string[] = [];
  for (const copy of explanation.copies) {
    if (lines.length > 0) lines.push('');
    lines.push(`${copy.package}@${copy.version}${copy.aliases.length ? ` (installed as ${copy.aliases.join(', ')})` : ''} — ${copy.verdict === 'blocked' ? 'BLOCKED' : 'allowed'}`);
    lines.push(`  installed at: ${copy.paths.join(', ') || '(not recorded)'} — ${copy.lockfile.path}${copy.lockfile.line !== undefined ? ` line ${copy.lockfile.line}` : ''}`);
    lines.push(`  source: ${copy.source}${copy.registry ? ` ${copy.registry}` : ''}${copy.resolved ? ` (${copy.resolved})` : ''}; required by: ${copy.requiredBy.join(', ') || '(nothing)'}`);
    if (copy.ownCode) lines.push('  your own code (a workspace or a directory inside the project): no rule applies');
    for (const rule of copy.rules) {
      lines.push(`  ${MARK[rule.outcome]} ${rule.rule}: ${rule.evidence}`);
      if (rule.decidedBy.length > 0) lines.push(`      decided by: ${rule.decidedBy.map(lineText).join('; ')}`);
      for (const f of rule.findings) lines.push(`      ${f.code}: ${f.message}`);
      if (rule.change !== undefined) lines.push(`      ${rule.outcome === 'blocked' ? 'fix' : 'would change'}: ${rule.change}`);
    }
  }
  lines.push('', `policy: ${explanation.policy ?? 'defaults (no portcullis.json)'}${explanation.extends ? ` (extends ${explanation.extends})` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** The JSON form of an explanation (`explain --format json`). */
export function formatExplanationJson(explanation: Explanation): string {
  const copies = explanation.copies.map((c) => ({
    ...c,
    rules: c.rules.map((r) => ({ ...r, findings: r.findings.map(({ package: p, version, rule, code, message, fix }) => ({ package: p, version, rule, code, message, fix })) })),
  }));
  return `${JSON.stringify({ package: explanation.name, policy: explanation.policy, lockfile: explanation.lockfile, exitCode: explanation.exitCode, copies }, null, 2)}\n`;
}
