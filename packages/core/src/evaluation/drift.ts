/**
 * Script drift: a version that a range or name approval lets build must run the install-time code that was reviewed
 * (scripts.fingerprints). Pure, like the rest of the evaluator.
 */
import semver from 'semver';
import type { Finding } from '../finding.js';
import type { PackageNode } from '../model.js';
import { compareFingerprints, FINGERPRINT_SCRIPTS, gitCommitOf, scriptDriftApplies, type CurrentFingerprint } from '../policy/fingerprint.js';
import type { Policy, RecordedFingerprint, ScriptFingerprint } from '../policy/types.js';
import type { ScriptEvidence } from './evidence.js';
import { findingFor } from './messages.js';

/** The implicit build's command line, as npm writes it into published metadata. */
const NODE_GYP_REBUILD = 'node-gyp rebuild';

/**
 * What is known about the install-time code of a copy now: its command lines (from the installed package.json or a full
 * metadata document), its implicit node-gyp build (with the binding.gyp's hash when the installed file was read), a git
 * dependency's commit.
 */
export function currentFingerprint(pkg: Pick<PackageNode, 'source' | 'resolved'>, scripts: ScriptEvidence | undefined): CurrentFingerprint {
  let commands: ScriptFingerprint['commands'] | undefined;
  let gypBuild = scripts?.bindingGyp === true;
  if (scripts?.commands !== undefined) {
    commands = {};
    for (const script of FINGERPRINT_SCRIPTS) {
      const command = scripts.commands[script];
      if (command !== undefined && scripts.scripts.includes(script)) commands[script] = command;
    }
    // npm publishes the implicit build as `install: "node-gyp rebuild"` in the registry's metadata, while the tarball's
    // package.json has no such script: both are the one node-gyp build of the binding.gyp.
    if (commands.install === NODE_GYP_REBUILD) {
      delete commands.install;
      gypBuild = true;
    }
  }
  const commit = pkg.source === 'git' ? gitCommitOf(pkg.resolved) : undefined;
  const bindingGyp = gypBuild ? (scripts?.bindingGypHash ?? true) : undefined;
  return { commands, ...(bindingGyp !== undefined ? { bindingGyp } : {}), ...(commit !== undefined ? { commit } : {}) };
}

/** The fingerprint to record for a copy, or undefined when its command lines are not known (nothing to record then). */
export function fingerprintToRecord(pkg: Pick<PackageNode, 'source' | 'resolved'>, scripts: ScriptEvidence | undefined): ScriptFingerprint | undefined {
  const current = currentFingerprint(pkg, scripts);
  if (current.commands === undefined && current.commit === undefined) return undefined;
  return { ...current, commands: current.commands ?? {} };
}

/**
 * SCRIPT_CHANGED when the copy's install-time code matches none of the fingerprints recorded for its name; METADATA_UNAVAILABLE
 * (rule scripts) when what it runs now cannot be told; null when drift is not checked for it or it runs reviewed code.
 */
export function driftFinding(policy: Policy, pkg: PackageNode, scripts: ScriptEvidence | undefined, recorded: (name: string) => readonly RecordedFingerprint[], entryFor: (name: string, version: string) => string | undefined): Finding | null {
  if (!scriptDriftApplies(policy, pkg, recorded)) return null;
  const current = currentFingerprint(pkg, scripts);
  const candidates = recorded(pkg.name);
  const results = candidates.map((entry) => ({ entry, result: compareFingerprints(entry.fingerprint, current) }));
  if (results.some((r) => r.result.status === 'same')) return null;
  const changed = results.filter((r) => r.result.status === 'changed');
  if (changed.length === 0) {
    return findingFor(pkg, { code: 'METADATA_UNAVAILABLE', reason: 'the command lines of its install scripts could not be read, so they cannot be compared with the ones scripts.fingerprints recorded when it was approved', rule: 'scripts' });
  }
  const before = nearest(changed.map((r) => r.entry), pkg.version);
  const what = changed.find((r) => r.entry === before)!.result;
  return findingFor(pkg, {
    code: 'SCRIPT_CHANGED',
    entry: entryFor(pkg.name, pkg.version) ?? pkg.name,
    approved: before.version,
    before: before.fingerprint,
    now: current,
    changed: what.status === 'changed' ? what.what : [],
  });
}

/** The recorded version to show: the highest at or below `version`, else the lowest above it. */
function nearest(entries: readonly RecordedFingerprint[], version: string): RecordedFingerprint {
  const valid = semver.valid(version) !== null;
  const sorted = [...entries].sort((a, b) => semver.compare(a.version, b.version));
  const below = valid ? sorted.filter((e) => semver.lte(e.version, version)) : [];
  return below.at(-1) ?? sorted[0]!;
}
