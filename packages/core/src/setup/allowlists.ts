/**
 * Every build allowlist a repository already has, as scripts.allow entries (`portcullis init` with no argument):
 * pnpm's `allowBuilds`/`onlyBuiltDependencies` wherever pnpm reads them, npm's `allowScripts`, Yarn's
 * `dependenciesMeta.<name>.built`, LavaMoat's `lavamoat.allowScripts` — pinned to the versions in the lockfile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLockfile, LOCKFILE_NAMES } from '../lockfile/index.js';
import { isOwnCode, type PackageNode } from '../model.js';
import { addScriptApprovals, starterPolicyText } from '../policy/edit.js';
import { parsePackageSpec, specMatches } from '../policy/spec.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { writeFileAtomic } from '../atomic-write.js';
import { declaredPackageManager, type ManagerName, type ProjectFiles } from './detect.js';
import { pnpmApprovals, pnpmWorkspaceSettings } from './pnpm.js';
import { builtDependencies } from './yarn.js';
import { compareText } from '../evaluation/order.js';

/** One imported entry and where it was found. */
export interface ImportedEntry {
  entry: string;
  from: string;
}

export interface FoundAllowlists {
  entries: ImportedEntry[];
  /** What was not carried over, with the reason. */
  skipped: string[];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** npm's `allowScripts` approvals (`{"name": true, "name@1.2.3": true}`) as scripts.allow entries; denials and keys that are no package spec are left out. */
export function importAllowScripts(manifest: unknown): { allow: string[]; skipped: string[] } {
  const allow: string[] = [];
  const skipped: string[] = [];
  const field = record(record(manifest)?.allowScripts);
  if (field === undefined) return { allow, skipped };
  for (const [key, value] of Object.entries(field)) {
    if (value !== true) continue;
    if (typeof parsePackageSpec(key) === 'string') skipped.push(key);
    else allow.push(key);
  }
  return { allow, skipped };
}

/**
 * LavaMoat's `lavamoat.allowScripts` (true entries). Its keys are dependency paths (`parent>child`): the package is the
 * last segment, allowed wherever it is installed (Portcullis allows a package by identity, not by path).
 */
export function lavamoatAllowScripts(manifest: unknown): { allow: string[]; skipped: string[] } {
  const allow: string[] = [];
  const skipped: string[] = [];
  const field = record(record(record(manifest)?.lavamoat)?.allowScripts);
  if (field === undefined) return { allow, skipped };
  for (const [key, value] of Object.entries(field)) {
    if (value !== true) continue;
    const name = key.split('>').at(-1)!.trim();
    const spec = parsePackageSpec(name);
    if (typeof spec === 'string' || spec.scope !== undefined || spec.range !== null) skipped.push(`${key} (lavamoat.allowScripts: not a package name)`);
    else if (!allow.includes(spec.name)) allow.push(spec.name);
  }
  return { allow, skipped };
}

/** `only-built-dependencies[]=name` lines of an .npmrc (pnpm 9 and 10 read the setting there too). */
function npmrcOnlyBuilt(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*only-built-dependencies(?:\[\])?\s*=\s*(.*?)\s*$/.exec(line);
    if (m && m[1] !== '') out.push(m[1]!.replace(/^["']|["']$/g, ''));
  }
  return out;
}

/** Reads every allowlist of the project root's files. Unreadable JSON/YAML is skipped with a note, never guessed at. */
export function findAllowlists(files: ProjectFiles): FoundAllowlists {
  const entries: ImportedEntry[] = [];
  const skipped: string[] = [];
  const add = (from: string, found: { allow: string[]; skipped: string[] }) => {
    for (const entry of found.allow) entries.push({ entry, from });
    for (const entry of found.skipped) skipped.push(`${entry} (${from})`);
  };
  // onlyBuiltDependencies (wherever written) is read by pnpm 10 only (measured: 11.28 and 12.21 ignore it, in
  // pnpm-workspace.yaml, package.json and .npmrc): not carried over when package.json declares a pnpm that ignores it.
  const declared = declaredPackageManager(files);
  const onlyBuiltDependencies = !(declared?.name === 'pnpm' && declared.major !== undefined && declared.major >= 11);
  const workspaceYaml = files.read('pnpm-workspace.yaml');
  if (workspaceYaml !== undefined) add('pnpm-workspace.yaml', pnpmApprovals(pnpmWorkspaceSettings(workspaceYaml), { onlyBuiltDependencies }));
  const npmrc = files.read('.npmrc');
  if (npmrc !== undefined) add('.npmrc only-built-dependencies', pnpmApprovals({ onlyBuiltDependencies: npmrcOnlyBuilt(npmrc) }, { onlyBuiltDependencies }));
  const packageJson = files.read('package.json');
  if (packageJson !== undefined) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(packageJson);
    } catch {
      skipped.push('package.json (not valid JSON)');
    }
    if (manifest !== undefined) {
      add('package.json pnpm', pnpmApprovals(record(record(manifest)?.pnpm) ?? {}, { onlyBuiltDependencies }));
      add('package.json allowScripts', importAllowScripts(manifest));
      add('package.json dependenciesMeta', builtDependencies(packageJson));
      add('package.json lavamoat.allowScripts', lavamoatAllowScripts(manifest));
    }
  }
  return { entries, skipped };
}

/** The packages of every lockfile of the detected package managers at `dir` (names and versions, for pinning). */
export function lockfilePackages(dir: string, managers: readonly ManagerName[]): PackageNode[] {
  const packages: PackageNode[] = [];
  for (const kind of managers) {
    const name = LOCKFILE_NAMES[kind].find((file) => existsSync(join(dir, file)));
    if (name === undefined) continue;
    // An empty yarn.lock (before the first install) has no packages.
    if (kind === 'yarn' && readFileSync(join(dir, name), 'utf8').trim() === '') continue;
    packages.push(...readLockfile(join(dir, name), { projectDir: dir, registryFor: () => NPM_REGISTRY_URL }).packages);
  }
  return packages;
}

/**
 * Pins imported entries as approve does: every installed version an entry covers becomes `name@version`; an entry no
 * lockfile package matches (or with no lockfile at all) is kept as written. Sorted, each once.
 */
export function pinImported(entries: readonly ImportedEntry[], packages: readonly PackageNode[]): Array<{ entry: string; from: string[] }> {
  const pinned = new Map<string, string[]>();
  const put = (entry: string, from: string) => pinned.set(entry, [...new Set([...(pinned.get(entry) ?? []), from])]);
  for (const { entry, from } of entries) {
    const spec = parsePackageSpec(entry);
    if (typeof spec === 'string') continue;
    const versions = [...new Set(packages.filter((p) => !isOwnCode(p) && specMatches(spec, p.name, p.version)).map((p) => `${p.name}@${p.version}`))];
    if (versions.length === 0) put(spec.raw, from);
    for (const version of versions) put(version, from);
  }
  return [...pinned].sort(([a], [b]) => compareText(a, b)).map(([entry, from]) => ({ entry, from }));
}

/** What writing the imported entries did: the file, whether it was created, and which entries were new. */
export interface ImportWrite {
  file: string;
  created: boolean;
  added: string[];
}

/** Writes entries into the policy: a starter portcullis.json with them when there is none, else only the missing ones (nothing written when none is missing). */
export function writeImportedApprovals(file: string, entries: readonly string[]): ImportWrite {
  if (!existsSync(file)) {
    writeFileAtomic(file, starterPolicyText(entries));
    return { file, created: true, added: [...entries] };
  }
  const { text, added } = addScriptApprovals(readFileSync(file, 'utf8'), file, entries);
  if (added.length > 0) writeFileAtomic(file, text);
  return { file, created: false, added };
}
