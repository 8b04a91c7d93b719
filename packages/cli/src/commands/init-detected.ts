/**
 * `portcullis init` with no package manager named: detect every package manager the repository uses, import every
 * build allowlist it already has into portcullis.json (pinned to the lockfile's versions), set each package manager up,
 * and say what was written and the one next step. A second run changes nothing, and says so.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectPackageManagers, findAllowlists, findPolicyFile, lockfilePackages, pinImported, POLICY_FILE, PortcullisError, projectFiles, writeImportedApprovals, type ManagerName } from '@portcullis/core';
import { enforceNpm, NPM_NEXT_STEP } from './init-npm.js';
import { enforcePnpm, PNPM_NEXT_STEP } from './init-pnpm.js';
import { enforceYarn, YARN_NEXT_STEP } from './init-yarn.js';

const NEXT_STEPS: Record<ManagerName, string> = { npm: NPM_NEXT_STEP, pnpm: PNPM_NEXT_STEP, yarn: YARN_NEXT_STEP };

export async function initDetected(dir: string): Promise<number> {
  if (!existsSync(join(dir, 'package.json'))) throw new PortcullisError('USAGE', `${dir} has no package.json: run portcullis init in the project root, or pass --dir`);
  const files = projectFiles(dir);
  const { managers, notes } = detectPackageManagers(files);
  if (managers.length === 0) {
    throw new PortcullisError('USAGE', `cannot tell which package manager ${dir} uses (no lockfile, packageManager field, pnpm-workspace.yaml or .yarnrc.yml)${notes.length > 0 ? `; ${notes.join('; ')}` : ''}: name it, \`portcullis init npm\`, \`portcullis init pnpm\` or \`portcullis init yarn\``);
  }
  const names = managers.map((m) => m.name);
  const out: string[] = [`detected ${managers.map((m) => `${m.name} (${m.because.join(', ')})`).join(', ')}`];
  for (const note of notes) out.push(`note: ${note}`);

  // The policy first: every allowlist the repository already has, pinned to the versions its lockfiles install.
  const found = findAllowlists(files);
  const pinned = pinImported(found.entries, lockfilePackages(dir, names));
  const policy = writeImportedApprovals(findPolicyFile(dir, process.env) ?? join(dir, POLICY_FILE), pinned.map((p) => p.entry));
  let changed = policy.created || policy.added.length > 0;
  if (policy.created) out.push(`wrote ${policy.file}`);
  for (const { entry, from } of pinned) {
    out.push(`${policy.added.includes(entry) ? '+' : '='} scripts.allow: "${entry}" (from ${from.join(', ')})${policy.added.includes(entry) ? '' : ' already there'}`);
  }
  if (!policy.created) out.push(`${policy.added.length > 0 ? `added ${policy.added.length} entr${policy.added.length === 1 ? 'y' : 'ies'} to` : 'unchanged'} ${policy.file}`);
  for (const skipped of found.skipped) out.push(`not imported: ${skipped}`);

  for (const name of names) {
    if (name === 'npm' && names.includes('pnpm')) {
      // pnpm reads .npmrc too: ignore-scripts=true there would stop the builds portcullis.json allows under pnpm.
      out.push('npm: not writing ignore-scripts=true to .npmrc (pnpm reads it too, and would then skip the builds portcullis.json allows); install with portcullis-npm');
      continue;
    }
    const step = name === 'npm' ? enforceNpm(dir) : name === 'pnpm' ? enforcePnpm(dir) : enforceYarn(dir);
    changed ||= step.changed;
    out.push(step.line);
  }
  if (!changed) out.push(`Nothing changed: Portcullis is already set up for ${names.join(' and ')} here.`);
  out.push(`Next: ${names.map((name) => NEXT_STEPS[name]).join('; and ')}.`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
