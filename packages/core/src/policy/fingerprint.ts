/**
 * Script fingerprints: what install-time code a reviewed version runs, recorded beside its approval in
 * `scripts.fingerprints` (`"name@version": { "postinstall": "node install.js", … }`). The record is the command
 * lines themselves, not a hash of them, so a reviewer reads in the diff what was approved and a SCRIPT_CHANGED
 * message can show old and new side by side.
 */
import type { PackageNode } from '../model.js';
import { createSpecMatcher, namesExactly } from './spec.js';
import type { FingerprintScript, Policy, RecordedFingerprint, ScriptFingerprint } from './types.js';

export type { FingerprintScript, RecordedFingerprint, ScriptFingerprint } from './types.js';

/** The lifecycle scripts a fingerprint records (`prepare` only runs for git dependencies). */
export const FINGERPRINT_SCRIPTS: readonly FingerprintScript[] = ['preinstall', 'install', 'postinstall', 'prepare'];

/** Longest command line a fingerprint keeps (longer ones are refused as input, never truncated). */
export const MAX_FINGERPRINT_COMMAND = 16 * 1024;

/** What is known now about a version's install-time code: its command lines may be unknown (abbreviated metadata, a lockfile). */
export type CurrentFingerprint = Omit<ScriptFingerprint, 'commands'> & { commands: ScriptFingerprint['commands'] | undefined };

/** The JSON object a fingerprint is written as: keys in a fixed order, only known fields. */
export function fingerprintJson(fingerprint: ScriptFingerprint): Record<string, string> {
  const out: Record<string, string> = {};
  for (const script of FINGERPRINT_SCRIPTS) {
    const command = fingerprint.commands[script];
    if (command !== undefined) out[script] = command;
  }
  if (fingerprint.bindingGyp !== undefined) out.bindingGyp = fingerprint.bindingGyp === true ? 'node-gyp rebuild' : fingerprint.bindingGyp;
  if (fingerprint.commit !== undefined) out.commit = fingerprint.commit;
  return out;
}

/** A 40-hex git commit at the end of a git URL (`…#<commit>`, `…/commit/<sha>`), lower-cased; undefined when there is none. */
export function gitCommitOf(resolved: string | undefined): string | undefined {
  if (resolved === undefined) return undefined;
  const match = /(?:#|\/commit\/|\/tar\.gz\/|\/archive\/)([0-9a-fA-F]{40})(?:\.tar\.gz|\.zip)?(?:[&?].*)?$/.exec(resolved) ?? /[#&]commit=([0-9a-fA-F]{40})\b/.exec(resolved);
  return match?.[1]?.toLowerCase();
}

/**
 * Where two fingerprints differ: `same`, `changed` with what changed, or `unknown` when the current one does not
 * tell enough to compare. A git commit decides alone when both have one (the same commit is the same code); a
 * binding.gyp's hash counts only when both sides know it (metadata says only that one exists).
 */
export function compareFingerprints(recorded: ScriptFingerprint, current: CurrentFingerprint): { status: 'same' } | { status: 'changed'; what: string[] } | { status: 'unknown' } {
  if (recorded.commit !== undefined && current.commit !== undefined) {
    return recorded.commit === current.commit ? { status: 'same' } : { status: 'changed', what: ['commit'] };
  }
  const commands = current.commands;
  if (commands === undefined) return { status: 'unknown' };
  const what: string[] = [];
  for (const script of FINGERPRINT_SCRIPTS) if (recorded.commands[script] !== commands[script]) what.push(script);
  const gypBefore = recorded.bindingGyp !== undefined;
  const gypNow = current.bindingGyp !== undefined;
  if (gypBefore !== gypNow) what.push('binding.gyp');
  else if (typeof recorded.bindingGyp === 'string' && typeof current.bindingGyp === 'string' && recorded.bindingGyp !== current.bindingGyp) what.push('binding.gyp');
  return what.length === 0 ? { status: 'same' } : { status: 'changed', what };
}

/** `postinstall: node install.js; node-gyp rebuild (binding.gyp sha256:…)`: one line for a message. */
export function describeFingerprint(fingerprint: ScriptFingerprint): string {
  const parts: string[] = [];
  for (const script of FINGERPRINT_SCRIPTS) {
    const command = fingerprint.commands[script];
    if (command !== undefined) parts.push(`${script}: ${JSON.stringify(command)}`);
  }
  if (fingerprint.bindingGyp !== undefined) parts.push(`node-gyp rebuild (binding.gyp${fingerprint.bindingGyp === true ? '' : ` ${fingerprint.bindingGyp}`})`);
  if (fingerprint.commit !== undefined) parts.push(`commit ${fingerprint.commit}`);
  return parts.length > 0 ? parts.join('; ') : 'nothing';
}

/**
 * Whether script drift is checked for a copy: scripts.fingerprints records some version of it, and the approval that
 * lets it run is a range or a name. A pinned approval (`name@1.2.3`) is a review of that very version, and a registry
 * version's bytes never change (its integrity and signature pin them), so there is nothing to drift; a git or tarball
 * dependency's version number pins nothing, and a bundled copy's bytes are its bundler's, so they are compared even when pinned.
 */
export function scriptDriftApplies(policy: Policy, pkg: Pick<PackageNode, 'name' | 'version' | 'source' | 'inBundle'>, recorded: (name: string) => readonly RecordedFingerprint[] = recordedIn(policy)): boolean {
  if (recorded(pkg.name).length === 0) return false;
  const pinnedByVersion = pkg.source === 'registry' && pkg.inBundle !== true;
  if (!pinnedByVersion) return true;
  return !policy.scripts.allow.some((spec) => spec.scope === undefined && spec.name === pkg.name && spec.range !== null && namesExactly(spec.range, pkg.version));
}

/** The recorded fingerprints of a name, looked up in one pass over the policy. */
export function recordedIn(policy: Policy): (name: string) => readonly RecordedFingerprint[] {
  const byName = new Map<string, RecordedFingerprint[]>();
  for (const entry of policy.scripts.fingerprints) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  return (name) => byName.get(name) ?? [];
}

/** The scripts.allow entry that lets a version run (first match, as the allow rule reads it), for messages. */
export function allowEntryFor(policy: Policy): (name: string, version: string) => string | undefined {
  const match = createSpecMatcher(policy.scripts.allow);
  return (name, version) => match(name, version)?.raw;
}
