/** `portcullis explain <name>`: why each installed copy of a package is allowed or blocked. */
import { parseArgs } from 'node:util';
import { createSpecMatcher, isOwnCode, PortcullisError, runCheck } from '@portcullis/core';
import { projectDir } from './options.js';

export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: 'string' }, offline: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  const [name] = positionals;
  if (name === undefined || positionals.length > 1) throw new PortcullisError('USAGE', 'explain takes one package name, e.g. `portcullis explain sharp`');
  const dir = projectDir(values.dir);
  const { project, result, evidence } = await runCheck(dir, { offline: values.offline });
  const copies = project.lockfile.packages.filter((p) => p.name === name || p.aliases.includes(name));
  if (copies.length === 0) throw new PortcullisError('USAGE', `${name} is not in ${project.lockfile.path}`);

  const allowScripts = createSpecMatcher(project.policy.scripts.allow);
  const lines: string[] = [];
  for (const pkg of copies) {
    const findings = result.findings.filter((f) => f.id === pkg.id);
    lines.push(`${pkg.name}@${pkg.version}${pkg.aliases.length ? ` (installed as ${pkg.aliases.join(', ')})` : ''} — ${findings.length ? 'BLOCKED' : 'allowed'}`);
    lines.push(`  source: ${pkg.source}${pkg.registry ? ` ${pkg.registry}` : ''}${pkg.resolved ? ` (${pkg.resolved})` : ''}`);
    lines.push(`  installed at: ${pkg.paths.join(', ') || '(not recorded)'}; required by: ${pkg.dependents.join(', ') || '(nothing)'}`);
    if (isOwnCode(pkg)) {
      lines.push('  your own code (workspace or a directory inside the project): no rule applies');
    } else {
      const scripts = evidence.scripts.get(pkg.id);
      const runs = scripts ? scripts.hasInstallScript || scripts.bindingGyp : pkg.hasInstallScript === true;
      const allowedBy = allowScripts(pkg.name, pkg.version);
      lines.push(
        `  scripts: ${runs ? `runs ${scripts?.scripts.join(', ') || (scripts?.bindingGyp ? 'node-gyp rebuild (binding.gyp)' : 'install scripts')} (per ${scripts?.source ?? 'lockfile'})` : 'none'}` +
          (runs ? (allowedBy ? ` — allowed by "${allowedBy.raw}"` : ' — not allowed by scripts.allow') : ''),
      );
      const signature = evidence.signatures.get(pkg.id);
      lines.push(`  signature: ${project.policy.signatures.require === 'off' ? 'not required (signatures.require is "off")' : signature ? signature.status + ('keyid' in signature && signature.keyid ? ` (${signature.keyid})` : '') : pkg.source === 'registry' ? 'not checked' : 'none (not from a registry)'}`);
    }
    for (const f of findings) lines.push(`  ✗ ${f.code}: ${f.message}`, `    fix: ${f.fix}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return result.findings.some((f) => copies.some((c) => c.id === f.id)) ? 1 : 0;
}
