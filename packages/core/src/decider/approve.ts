/** `approve`: pin named packages' install scripts into scripts.allow — shared by the CLI and the Yarn command. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import type { LockfileKind } from '../model.js';
import { approvalsFor } from '../policy/approvals.js';
import { addScriptApprovals, starterPolicyText } from '../policy/edit.js';
import { POLICY_FILE } from '../policy/load.js';
import type { Env } from '../env.js';
import { loadProject } from './check.js';
import { openGate } from './gate.js';

/** What approve wrote: the policy file, every pinned entry asked for, and which of them were new. */
export interface Approval {
  file: string;
  entries: string[];
  added: string[];
}

/** Writes `name@version` entries for every installed version of the named packages into the project's policy. */
export async function approveScripts(dir: string, names: readonly string[], options: { env?: Env; kind?: LockfileKind } = {}): Promise<Approval> {
  const env = options.env ?? process.env;
  // The project's root (a workspace root from a member): its policy, never a new file in the sub-folder.
  const project = await loadProject(dir, { env, ...(options.kind ? { kind: options.kind } : {}) });
  // Opening the gate loads the policy the install obeys: an invalid one, or a nearer one than the root's, is refused.
  const gate = openGate({ dir: project.dir, start: project.start, packageManager: project.lockfile.kind, registryConfig: project.registryConfig, env });
  const entries = approvalsFor(project.lockfile.packages, names);
  const file = gate.policyFile ?? join(project.dir, POLICY_FILE);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : starterPolicyText();
  const { text, added } = addScriptApprovals(before, file, entries);
  if (added.length > 0) writeFileAtomic(file, text);
  return { file, entries, added };
}

/** The lines approve prints. */
export function describeApproval(approval: Approval): string {
  const lines = approval.entries.map((entry) => (approval.added.includes(entry) ? `+ scripts.allow: "${entry}"` : `= scripts.allow: "${entry}" (already there)`));
  lines.push(`${approval.added.length} approval(s) written to ${approval.file}`);
  return `${lines.join('\n')}\n`;
}
