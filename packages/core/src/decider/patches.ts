/**
 * The patch files of patched packages (pnpm's `patchedDependencies`), found and read for the judgement
 * (evaluation/patches.ts decides what they do). A patch is known by the hash the lockfile records for it: a file is
 * that patch only when pnpm's hash of its text is that hash, so what is judged is exactly what pnpm applies under this
 * lockfile. Candidates are the files the lockfile names (pnpm 10) and those `patchedDependencies` names in
 * pnpm-workspace.yaml and package.json (pnpm 11 and 12 record only the hash). Hostile input: only files inside the
 * project, by real path, of a bounded size; a patch not found or not readable may add install scripts (fail closed).
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { PatchEvidence } from '../evaluation/evidence.js';
import { patchMayChangeInstallScripts } from '../evaluation/patches.js';
import type { PackageNode, PackagePatch } from '../model.js';
import { patchedDependencyKey, patchSelectorCovers } from '../lockfile/pnpm.js';
import { readBounded } from '../read-bounded.js';
import { pnpmWorkspaceSettingsIn } from '../setup/pnpm.js';

/** A patch file larger than this is not read (it may add install scripts). */
const MAX_PATCH_BYTES = 16 * 1024 * 1024;
/** At most this many candidate files are read per judgement. */
const MAX_CANDIDATES = 1_000;

/** pnpm's hash of a patch file: sha256, hex, of its text (UTF-8) with CRLF read as LF. */
export function pnpmPatchHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes.toString('utf8').split('\r\n').join('\n')).digest('hex');
}

/** One `patchedDependencies` entry of the project's settings: its key (`name`, `name@version`, `name@range`) and file. */
interface SettingsPatch {
  key: string;
  file: string;
}

/** `patchedDependencies` of the project's pnpm-workspace.yaml and package.json (`pnpm` field): every entry naming a file. */
function settingsPatches(projectDir: string): SettingsPatch[] {
  const out: SettingsPatch[] = [];
  const add = (section: unknown): void => {
    if (typeof section !== 'object' || section === null || Array.isArray(section)) return;
    for (const [key, file] of Object.entries(section)) if (typeof file === 'string' && file !== '') out.push({ key, file });
  };
  add(pnpmWorkspaceSettingsIn(projectDir).patchedDependencies);
  const manifest = readBounded(join(projectDir, 'package.json'), MAX_PATCH_BYTES);
  try {
    const pnpm = manifest === undefined ? undefined : (JSON.parse(manifest.toString('utf8')) as { pnpm?: { patchedDependencies?: unknown } }).pnpm;
    add(typeof pnpm === 'object' && pnpm !== null ? pnpm.patchedDependencies : undefined);
  } catch {
    // Not JSON: pnpm cannot read it either; the lockfile's own files, if any, are still candidates.
  }
  return out;
}

/** `file` (as a setting or the lockfile writes it) inside the project by real path, or undefined. */
function insideProject(projectDir: string, file: string): string | undefined {
  try {
    const root = realpathSync(projectDir);
    const real = realpathSync(isAbsolute(file) ? file : resolve(projectDir, file));
    return real.startsWith(root.endsWith(sep) ? root : root + sep) ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The bytes of a patch candidate as the judgement reads them: inside the project by real path, bounded; else null. */
function readCandidate(projectDir: string, path: string): Buffer | null {
  const real = insideProject(projectDir, path);
  return (real === undefined ? undefined : readBounded(real, MAX_PATCH_BYTES)) ?? null;
}

/**
 * What judgements read of the project's patches: a digest of its settings' `patchedDependencies` entries and every
 * candidate file by its absolute path, with the bytes judged (null: none read there: missing, outside the project,
 * too large, or past the candidate limit). Every evidence a patch gives is a function of these, so a verdict may be
 * replayed while they hold (`patchesHold`).
 */
export interface PatchReads {
  settings: string;
  files: ReadonlyArray<readonly [path: string, bytes: Buffer | null]>;
}

/** PatchReads as a remembered verdict keeps them: each file's bytes as a digest. */
export interface RememberedPatches {
  settings: string;
  files: Array<[path: string, digest: string | null]>;
}

const bytesDigest = (bytes: Buffer | null): string | null => (bytes === null ? null : createHash('sha256').update(bytes).digest('base64'));

/** What a remembered verdict keeps of `reads`. */
export function rememberedPatches(reads: PatchReads): RememberedPatches {
  return { settings: reads.settings, files: reads.files.map(([path, bytes]) => [path, bytesDigest(bytes)]) };
}

/** The digest of the project's settings' `patchedDependencies` entries (of none, when it names no patch). */
function settingsDigest(entries: readonly SettingsPatch[]): string {
  return createHash('sha256').update(JSON.stringify(entries.map((e) => [e.key, e.file]))).digest('base64');
}

/**
 * Whether what a verdict read of the project's patches (`remembered`) still holds: the same settings' entries, and each
 * file it read read again to the same bytes (or again none). The reads, when they hold (for a surface that keeps its
 * own record of them: pnpm's replay.ts); undefined when anything differs.
 */
export function patchesHold(projectDir: string, remembered: RememberedPatches): PatchReads | undefined {
  if (settingsDigest(settingsPatches(projectDir)) !== remembered.settings) return undefined;
  const files: Array<readonly [string, Buffer | null]> = [];
  for (const [path, digest] of remembered.files) {
    const bytes = readCandidate(projectDir, path);
    if (bytesDigest(bytes) !== digest) return undefined;
    files.push([path, bytes]);
  }
  return { settings: remembered.settings, files };
}

/**
 * Reads patch candidates once each: a file's hash, and whether it may change install scripts. One per decider (an
 * install or a check): the project's settings and each file are read once, and what was read is kept (`reads`).
 */
export class PatchFiles {
  private readonly read = new Map<string, { hash: string; changes: boolean } | undefined>();
  /** Every candidate read, by absolute path, with the bytes read (null: none). */
  private readonly bytes = new Map<string, Buffer | null>();
  private settings: SettingsPatch[] | undefined;

  constructor(private readonly projectDir: string) {}

  /** The project's settings' `patchedDependencies` entries, read once. */
  named(): SettingsPatch[] {
    return (this.settings ??= settingsPatches(this.projectDir));
  }

  /** What was read so far (the settings are read first, if they were not yet). */
  reads(): PatchReads {
    return { settings: settingsDigest(this.named()), files: [...this.bytes] };
  }

  /** What `patch` does, from the first candidate whose hash is the patch's. */
  evidence(patch: PackagePatch): PatchEvidence {
    for (const file of [...patch.files, ...this.named().map((s) => s.file)]) {
      const found = this.file(file);
      if (found === undefined || found.hash !== patch.hash) continue;
      const shown = relative(this.projectDir, resolve(this.projectDir, file)) || file;
      return found.changes ? { mayAddScripts: true, reason: `its patch ${shown} changes package.json or binding.gyp` } : { mayAddScripts: false, reason: `its patch ${shown} touches neither package.json nor binding.gyp` };
    }
    return { mayAddScripts: true, reason: `its patch (patch_hash=${patch.hash.slice(0, 12)}…) is no file inside the project with that hash, so what it changes is unknown` };
  }

  /**
   * What the patch file a settings entry names does, whatever its hash: pnpm 10 applies the file its settings name for a
   * package by name and version even where the lockfile's key has no `(patch_hash=…)` (r43b). Unreadable: it may.
   */
  evidenceOfFile(entry: SettingsPatch): PatchEvidence {
    const found = this.file(entry.file);
    const shown = relative(this.projectDir, resolve(this.projectDir, entry.file)) || entry.file;
    if (found === undefined) return { mayAddScripts: true, reason: `its patch ${shown} (patchedDependencies ${JSON.stringify(entry.key)}) is no readable file inside the project, so what it changes is unknown` };
    return found.changes ? { mayAddScripts: true, reason: `its patch ${shown} changes package.json or binding.gyp` } : { mayAddScripts: false, reason: `its patch ${shown} touches neither package.json nor binding.gyp` };
  }

  private file(file: string): { hash: string; changes: boolean } | undefined {
    if (this.read.has(file)) return this.read.get(file);
    let found: { hash: string; changes: boolean } | undefined;
    const path = isAbsolute(file) ? file : resolve(this.projectDir, file);
    const known = this.bytes.get(path);
    // Past the limit nothing more is read: such a candidate may add scripts, and counts as none read.
    const bytes = known !== undefined ? known : this.bytes.size < MAX_CANDIDATES ? readCandidate(this.projectDir, path) : null;
    this.bytes.set(path, bytes);
    if (bytes !== null) found = { hash: pnpmPatchHash(bytes), changes: patchMayChangeInstallScripts(bytes.toString('utf8')) };
    this.read.set(file, found);
    return found;
  }
}

/**
 * Evidence for every patched package of `packages`: those with patches the lockfile records (`PackageNode.patches`,
 * by key or by its `patchedDependencies` section) and those the project's pnpm-workspace.yaml or package.json
 * `patchedDependencies` names (`name`, `name@version`, `name@range`: lockfile/pnpm.ts patchSelectorCovers), whatever
 * the lockfile says. One that any of its patches may give install-time code (or whose patch cannot be found) may add
 * scripts. Without a project folder (no `files`) nothing is read: each recorded patch may. Packages without patches are
 * not listed.
 */
export function gatherPatches(packages: readonly PackageNode[], files: PatchFiles | undefined): Map<string, PatchEvidence> {
  const out = new Map<string, PatchEvidence>();
  const byName = new Map<string, Array<{ entry: SettingsPatch; selector: string | undefined }>>();
  for (const entry of files?.named() ?? []) {
    const key = patchedDependencyKey(entry.key);
    if (key === undefined) continue;
    const list = byName.get(key.name) ?? [];
    list.push({ entry, selector: key.selector });
    byName.set(key.name, list);
  }
  for (const pkg of packages) {
    const each: PatchEvidence[] = (pkg.patches ?? []).map((patch) => files?.evidence(patch) ?? { mayAddScripts: true, reason: 'its patch could not be looked for (no project folder)' });
    for (const { entry, selector } of byName.get(pkg.name) ?? []) if (patchSelectorCovers(selector, pkg.version)) each.push(files!.evidenceOfFile(entry));
    if (each.length === 0) continue;
    out.set(pkg.id, each.find((e) => e.mayAddScripts) ?? each[0]!);
  }
  return out;
}
