/**
 * Builds the normalized package list. Copies of one package (same name, version and origin) are grouped
 * into one node with several `paths`: a policy decides per `name@version`, so one decision covers every
 * copy, while `paths` and `dependents` still let `explain` walk each installed copy.
 */
import type { PackageNode, PackagePatch, SourceKind, SourceLocation } from '../model.js';
import { isValidPackageName } from '../package-name.js';

/** What a reader knows about one installed copy. */
export interface CopyFacts {
  name: string;
  version: string;
  source: SourceKind;
  integrity?: string;
  registry?: string;
  resolved?: string;
  hasInstallScript?: boolean;
  patches?: PackagePatch[];
  insideProject?: boolean;
  packedOnInstall?: boolean;
  inBundle?: boolean;
  bundledBy?: { name: string; version: string };
  yarnChecksum?: string;
  integrityCheckedOnDownload?: boolean;
  location?: SourceLocation;
  /** Overrides the id, for workspaces (their importer path). */
  id?: string;
}

/** The id of a package: `name@version`, plus the origin for everything not from a registry. */
export function packageId(facts: Pick<CopyFacts, 'name' | 'version' | 'source' | 'resolved'>): string {
  const base = `${facts.name}@${facts.version}`;
  if (facts.source === 'registry' || facts.resolved === undefined) return base;
  return `${base} (${facts.resolved})`;
}

/**
 * What keeps two copies with one id (`packageId`, or a workspace's path) apart: what is installed (integrity), where from
 * (registry), and whether it ships inside a parent. Copies that differ in any of these are each checked on their own.
 */
export function copyIdentity(baseId: string, facts: Pick<CopyFacts, 'integrity' | 'registry' | 'inBundle'>): string {
  return [baseId, facts.integrity ?? '', facts.registry ?? '', facts.inBundle === true ? 'bundled' : ''].join('\u0000');
}

interface Draft {
  node: PackageNode;
  paths: Set<string>;
  aliases: Set<string>;
  dependents: Set<string>;
}

/** Collects copies and dependency edges, then emits sorted, de-duplicated nodes. */
export class PackageGraph {
  private readonly byIdentity = new Map<string, Draft>();
  private readonly byId = new Map<string, Draft>();

  /** Records one installed copy at `path`; returns the id of the node it belongs to. */
  addCopy(facts: CopyFacts, path: string, alias?: string): string {
    const baseId = facts.id ?? packageId(facts);
    const identity = copyIdentity(baseId, facts);
    let draft = this.byIdentity.get(identity);
    if (draft === undefined) {
      let id = baseId;
      for (let n = 2; this.byId.has(id); n++) id = `${baseId} [${n}]`;
      const node: PackageNode = {
        id,
        name: facts.name,
        version: facts.version,
        source: facts.source,
        aliases: [],
        paths: [],
        dependents: [],
      };
      if (facts.integrity !== undefined) node.integrity = facts.integrity;
      if (facts.registry !== undefined) node.registry = facts.registry;
      if (facts.resolved !== undefined) node.resolved = facts.resolved;
      if (facts.hasInstallScript !== undefined) node.hasInstallScript = facts.hasInstallScript;
      if (facts.patches !== undefined) node.patches = facts.patches.map((p) => ({ hash: p.hash, files: [...p.files] }));
      if (facts.insideProject !== undefined) node.insideProject = facts.insideProject;
      if (facts.packedOnInstall === true) node.packedOnInstall = true;
      if (facts.inBundle !== undefined) node.inBundle = facts.inBundle;
      if (facts.bundledBy !== undefined) node.bundledBy = { ...facts.bundledBy };
      if (facts.yarnChecksum !== undefined) node.yarnChecksum = facts.yarnChecksum;
      if (facts.integrityCheckedOnDownload === true) node.integrityCheckedOnDownload = true;
      if (facts.location !== undefined) node.location = facts.location;
      draft = { node, paths: new Set(), aliases: new Set(), dependents: new Set() };
      this.byIdentity.set(identity, draft);
      this.byId.set(id, draft);
    } else {
      // Any copy claiming install scripts makes the package one that has them.
      if (facts.hasInstallScript === true) draft.node.hasInstallScript = true;
      // Any copy packed from its folder runs that folder's `prepare`.
      if (facts.packedOnInstall === true) draft.node.packedOnInstall = true;
      // A copy pnpm patches makes the package patched: every patch of every copy is judged.
      for (const patch of facts.patches ?? []) {
        const patches = (draft.node.patches ??= []);
        if (!patches.some((p) => p.hash === patch.hash)) patches.push({ hash: patch.hash, files: [...patch.files] });
      }
      if (draft.node.location === undefined && facts.location !== undefined) draft.node.location = facts.location;
    }
    draft.paths.add(path);
    if (alias !== undefined && alias !== facts.name && isValidPackageName(alias)) draft.aliases.add(alias);
    return draft.node.id;
  }

  /** Whether a node with this id exists. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Records another name node `id` is installed or required under (an alias). */
  addAlias(id: string, alias: string): void {
    const draft = this.byId.get(id);
    // Aliases are names too (reports, install paths): a lockfile key that is no package name is not one.
    if (draft !== undefined && alias !== draft.node.name && isValidPackageName(alias)) draft.aliases.add(alias);
  }

  /** Records that `dependent` (a node id, or `.`/an importer path) depends on node `id`. */
  addDependent(id: string, dependent: string, alias?: string): void {
    const draft = this.byId.get(id);
    if (draft === undefined) return;
    if (dependent !== id) draft.dependents.add(dependent);
    if (alias !== undefined && alias !== draft.node.name && isValidPackageName(alias)) draft.aliases.add(alias);
  }

  /** The nodes, sorted by id, with sorted dependents and aliases. */
  nodes(): PackageNode[] {
    const out: PackageNode[] = [];
    for (const draft of this.byId.values()) {
      draft.node.paths = [...draft.paths];
      draft.node.aliases = [...draft.aliases].sort();
      draft.node.dependents = [...draft.dependents].sort();
      out.push(draft.node);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
