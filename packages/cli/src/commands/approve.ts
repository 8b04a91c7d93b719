/** `portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { addScriptApprovals, approvalsFor, findPolicyFile, loadProject, POLICY_FILE, PortcullisError, starterPolicyText, writeFileAtomic } from '@portcullis/core';
import { projectDir } from './options.js';

export async function approveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) {
    throw new PortcullisError('USAGE', 'approve needs package names, e.g. `portcullis approve esbuild sharp@0.34.5`');
  }
  const dir = projectDir(values.dir);
  const { lockfile } = await loadProject(dir, { env: process.env });
  const entries = approvalsFor(lockfile.packages, positionals);

  const file = findPolicyFile(dir, process.env) ?? join(dir, POLICY_FILE);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : starterPolicyText();
  const { text, added } = addScriptApprovals(before, file, entries);
  if (added.length > 0) writeFileAtomic(file, text);
  for (const entry of entries) {
    process.stdout.write(`${added.includes(entry) ? '+' : '='} scripts.allow: "${entry}"${added.includes(entry) ? '' : ' (already there)'}\n`);
  }
  process.stdout.write(`${added.length} approval(s) written to ${file}\n`);
  return 0;
}
