/**
 * What the verified-versions memo remembers about a version's metadata, and the metadata rebuilt from it:
 * the translation between registry metadata and the memo's stored facts.
 */
import { INSTALL_SCRIPTS } from '../model.js';
import { installScriptsOf, type PackumentVersion } from '../registry/packument.js';
import type { VersionFacts } from '../cache/verified-versions.js';

/** Script facts of registry metadata, as stored; undefined when the metadata does not say (nothing to remember). */
export function factsOf(metadata: PackumentVersion, integrity: string, keyid: string): VersionFacts | undefined {
  const listed = installScriptsOf(metadata, INSTALL_SCRIPTS);
  if (!listed.known) return undefined;
  const facts: VersionFacts = {
    integrity,
    keyid,
    hasInstallScript: listed.hasInstallScript,
    gypfile: metadata.gypfile === true,
    scripts: listed.scripts,
  };
  if (bundlesCopies(metadata)) facts.bundles = true;
  if (metadata.scripts !== undefined) {
    const commands: Record<string, string> = Object.create(null);
    for (const script of listed.scripts) commands[script] = metadata.scripts[script] ?? '';
    facts.commands = commands;
  }
  return facts;
}

/** The metadata-shaped view of remembered facts, for the same script evidence as fresh metadata gives. */
export function metadataOf(name: string, version: string, facts: VersionFacts): PackumentVersion {
  const scripts: Record<string, string> = Object.create(null);
  for (const script of facts.scripts) scripts[script] = facts.commands?.[script] ?? '';
  return {
    name,
    version,
    dist: { integrity: facts.integrity, signatures: [] },
    // Explicit either way: remembered facts are known facts.
    hasInstallScript: facts.hasInstallScript,
    ...(facts.gypfile ? { gypfile: true } : {}),
    // With their command lines remembered, the scripts are listed (even none); without, only their names count.
    ...(facts.commands !== undefined || facts.scripts.length > 0 ? { scripts } : {}),
  };
}

/** Whether a version's metadata names bundled dependencies (`bundleDependencies`, or `true` with dependencies). */
export function bundlesCopies(metadata: Pick<PackumentVersion, 'bundleDependencies'>): boolean {
  return (metadata.bundleDependencies?.length ?? 0) > 0;
}

/** Whether remembered facts carry the command lines (script drift needs them). */
export function factsKnowCommands(facts: VersionFacts): boolean {
  return facts.commands !== undefined;
}
