/** `explain <name>`: for each installed copy of a package, which rule applied, with which evidence, and what decided. */
import { PortcullisError } from '../errors.js';
import { isOwnCode, type PackageNode } from '../model.js';
import type { CheckRun } from './check.js';

/** What explain prints, and its exit code (1 when any copy is blocked). */
export interface Explanation {
  text: string;
  exitCode: 0 | 1;
}

/** ` (from <file>)` when the effective policy merges more than one file (an organisation policy it extends). */
function from(run: CheckRun, key: Parameters<CheckRun['gate']['sourceOf']>[0], pkg?: PackageNode): string {
  if (run.gate.policySources.length < 2) return '';
  const source = run.gate.sourceOf(key, pkg?.name, pkg?.version);
  return source === undefined ? '' : ` (from ${source})`;
}

function scriptLine(run: CheckRun, pkg: PackageNode): string {
  const scripts = run.verdict.evidence.scripts.get(pkg.id);
  const runs = scripts ? scripts.hasInstallScript || scripts.bindingGyp : pkg.hasInstallScript === true;
  if (!runs) return '  scripts: none';
  const what = scripts?.scripts.join(', ') || (scripts?.bindingGyp ? 'node-gyp rebuild (binding.gyp)' : 'install scripts');
  const entry = run.gate.builds.entryFor(pkg.name, pkg.version);
  const bundler = pkg.bundledBy;
  const decided = !run.verdict.mayBuild(pkg)
    ? entry !== undefined && bundler !== undefined
      ? ` — allowed by "${entry}", but its bundler ${bundler.name}@${bundler.version} is not (a bundled copy needs both)`
      : ' — not allowed by scripts.allow'
    : ` — allowed by "${entry ?? '?'}"${from(run, 'scripts.allow', pkg)}`;
  return `  scripts: runs ${what} (per ${scripts?.source ?? 'lockfile'})${decided}`;
}

function signatureLine(run: CheckRun, pkg: PackageNode): string {
  if (!run.gate.signaturesRequired) return '  signature: not required (signatures.require is "off")';
  const signature = run.verdict.evidence.signatures.get(pkg.id);
  if (signature !== undefined) return `  signature: ${signature.status}${'keyid' in signature && signature.keyid ? ` (${signature.keyid})` : ''}`;
  return `  signature: ${pkg.source === 'registry' ? 'not checked' : 'none (not from a registry)'}`;
}

/** Who built it (verified provenance), and whether its release line lost provenance. */
function provenanceLine(run: CheckRun, pkg: PackageNode): string | undefined {
  const evidence = run.verdict.evidence.provenance?.get(pkg.id);
  const downgrade = run.verdict.evidence.downgrades?.get(pkg.id);
  if (evidence === undefined && downgrade === undefined) return undefined;
  let line = '  provenance: ';
  if (evidence?.status === 'verified') {
    const id = evidence.identity;
    line += `verified — built by ${id.repository}${id.repositoryId ? ` (repository id ${id.repositoryId}${id.ownerId ? `, owner id ${id.ownerId}` : ''})` : ''}, workflow ${id.workflow}${id.ref ? ` at ${id.ref}` : ''}${id.trigger ? ` (${id.trigger})` : ''}`;
  } else if (evidence !== undefined) {
    line += evidence.status + ('reason' in evidence ? ` (${evidence.reason})` : '');
  } else line += 'not checked';
  const required = from(run, 'provenance.require', pkg);
  if (required !== '') line += `; required${required}`;
  if (downgrade !== undefined) line += `; the earlier ${pkg.name}@${downgrade.earlier} had verified provenance from ${downgrade.repository}`;
  return line;
}

/** How old it is, for the cooldown. */
function publishedLine(run: CheckRun, pkg: PackageNode): string | undefined {
  const published = run.verdict.evidence.published?.get(pkg.id);
  if (published === undefined) return undefined;
  const now = run.verdict.evidence.now;
  if (published === null || now === undefined) return '  published: unknown';
  const days = (now - Date.parse(published)) / 86_400_000;
  return `  published: ${published} (${days >= 1 ? `${Math.floor(days)} days` : `${Math.floor(days * 24)} h`} ago)${run.gate.policySources.length > 1 ? `; cooldown.minimumReleaseAge${from(run, 'cooldown.minimumReleaseAge')}` : ''}`;
}

/** Explains every copy of `name` (or of an alias installed under that name) in a check run. */
export function explainPackage(run: CheckRun, name: string): Explanation {
  const copies = run.project.lockfile.packages.filter((p) => p.name === name || p.aliases.includes(name));
  if (copies.length === 0) throw new PortcullisError('USAGE', `${name} is not in ${run.project.lockfile.path}`);
  const lines: string[] = [];
  // Which files the effective policy came from: the organisation policy it extends, then the project's.
  if (run.gate.policySources.length > 1) lines.push(`policy: ${run.gate.policySources.join(' + ')}`);
  let blocked = false;
  for (const pkg of copies) {
    const findings = run.verdict.findings.filter((f) => f.id === pkg.id);
    if (findings.length > 0) blocked = true;
    lines.push(`${pkg.name}@${pkg.version}${pkg.aliases.length ? ` (installed as ${pkg.aliases.join(', ')})` : ''} — ${findings.length ? 'BLOCKED' : 'allowed'}`);
    lines.push(`  source: ${pkg.source}${pkg.registry ? ` ${pkg.registry}` : ''}${pkg.resolved ? ` (${pkg.resolved})` : ''}`);
    lines.push(`  installed at: ${pkg.paths.join(', ') || '(not recorded)'}; required by: ${pkg.dependents.join(', ') || '(nothing)'}`);
    if (isOwnCode(pkg)) {
      lines.push('  your own code (workspace or a directory inside the project): no rule applies');
    } else {
      lines.push(scriptLine(run, pkg), signatureLine(run, pkg));
      for (const line of [provenanceLine(run, pkg), publishedLine(run, pkg)]) if (line !== undefined) lines.push(line);
      for (const advisory of run.verdict.evidence.advisories?.get(pkg.id) ?? []) lines.push(`  advisory: ${advisory.id} — ${advisory.summary}`);
    }
    for (const f of findings) lines.push(`  ✗ ${f.code}: ${f.message}`, `    fix: ${f.fix}`);
  }
  return { text: `${lines.join('\n')}\n`, exitCode: blocked ? 1 : 0 };
}
