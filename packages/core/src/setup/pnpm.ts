/**
 * pnpm's own build allowlist (`allowBuilds` in pnpm-workspace.yaml, `onlyBuiltDependencies` there or in
 * package.json's `pnpm` field) as scripts.allow entries, so `portcullis init pnpm` keeps a working setup.
 */
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Env } from '../env.js';
import type { PnpmStoreKey, PnpmStoreSetting } from '../layouts/pnpm-store.js';
import { parsePackageSpec } from '../policy/spec.js';
import { readBounded } from '../read-bounded.js';
import { npmConfigFromEnv, parseNpmrc } from '../registry/npmrc.js';

/** What was carried over, and what could not be (with the reason). */
export interface ImportedApprovals {
  allow: string[];
  skipped: string[];
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Reads the allowlists out of pnpm-workspace.yaml text and package.json text (either may be absent). */
export function approvalsFromPnpmSettings(sources: { workspaceYaml?: string; packageJson?: string }): ImportedApprovals {
  const settings: Array<Record<string, unknown>> = [];
  if (sources.workspaceYaml !== undefined) {
    const doc = record(parse(sources.workspaceYaml) as unknown);
    if (doc) settings.push(doc);
  }
  if (sources.packageJson !== undefined) {
    const pnpm = record(record(JSON.parse(sources.packageJson) as unknown)?.pnpm);
    if (pnpm) settings.push(pnpm);
  }
  const allow: string[] = [];
  const skipped: string[] = [];
  for (const s of settings) {
    const found = pnpmApprovals(s);
    for (const entry of found.allow) if (!allow.includes(entry)) allow.push(entry);
    skipped.push(...found.skipped);
  }
  return { allow, skipped };
}

/**
 * The allowlists of one set of pnpm settings: `allowBuilds` (`true` entries) and, unless told that this pnpm ignores
 * it (pnpm 11 and 12 do: measured), `onlyBuiltDependencies`.
 */
export function pnpmApprovals(settings: Record<string, unknown>, options: { onlyBuiltDependencies?: boolean } = {}): ImportedApprovals {
  const candidates: string[] = [];
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(record(settings.allowBuilds) ?? {})) if (value === true) candidates.push(key);
  if (Array.isArray(settings.onlyBuiltDependencies)) {
    for (const entry of settings.onlyBuiltDependencies) {
      if (typeof entry !== 'string') continue;
      if (options.onlyBuiltDependencies === false) skipped.push(`${entry} (onlyBuiltDependencies: the pnpm this repository declares ignores it; only pnpm 10 reads it)`);
      else candidates.push(entry);
    }
  }
  if (settings.dangerouslyAllowAllBuilds === true) skipped.push('dangerouslyAllowAllBuilds: true (Portcullis never allows every build; list the packages instead)');
  const allow: string[] = [];
  for (const entry of candidates) {
    const spec = parsePackageSpec(entry.trim());
    if (typeof spec === 'string') skipped.push(`${entry} (${spec})`);
    // Not carried over: whether this pnpm reads it as a pattern or as a literal name is not ours to guess, and a wildcard only widens.
    else if (spec.scope !== undefined) skipped.push(`${entry} (a scope wildcard: add "${spec.raw}" to scripts.allow by hand if every package of ${spec.scope} may build)`);
    else if (!allow.includes(spec.raw)) allow.push(spec.raw);
  }
  return { allow, skipped };
}

/** The largest pnpm-workspace.yaml read (pnpm's own files are a few KiB). */
const MAX_WORKSPACE_YAML_BYTES = 1024 * 1024;

/**
 * The settings written in a pnpm-workspace.yaml, as a plain object (empty when the text is not a YAML mapping,
 * too large, or malformed: pnpm itself refuses such a file). Keys that could pollute prototypes are dropped.
 */
export function pnpmWorkspaceSettings(text: string): Record<string, unknown> {
  if (Buffer.byteLength(text, 'utf8') > MAX_WORKSPACE_YAML_BYTES) return {};
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 }) as unknown;
  } catch {
    return {};
  }
  const settings = record(doc);
  if (settings === undefined) return {};
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(settings)) if (key !== '__proto__' && key !== 'constructor' && key !== 'prototype') out[key] = value;
  return out;
}

/** The settings of the pnpm-workspace.yaml in `dir` (empty when there is none, or it cannot be read: see pnpmWorkspaceSettings). */
export function pnpmWorkspaceSettingsIn(dir: string): Record<string, unknown> {
  const bytes = readBounded(join(dir, 'pnpm-workspace.yaml'), MAX_WORKSPACE_YAML_BYTES);
  return bytes === undefined ? {} : pnpmWorkspaceSettings(bytes.toString('utf8'));
}

/** Where a pnpm setting was found: its key or variable name as written there, and its value. */
interface PnpmSettingPlace {
  where: 'pnpm-workspace.yaml' | '.npmrc' | 'environment';
  name: string;
  value: unknown;
}

/**
 * Every place the project in `dir` and the environment give one pnpm setting a value, in this order: pnpm-workspace.yaml
 * (its camelCase keys, `yaml`), the project's .npmrc (its kebab-case name, `rc`), `npm_config_<rc>` (pnpm 10) and
 * `pnpm_config_<rc>` in any case (pnpm 11, 12). The first two are the repository's own files. An empty variable is none.
 */
function pnpmSettingPlaces(dir: string, env: Env, names: { yaml: readonly string[]; rc: string }, files?: { workspace: Record<string, unknown>; rc: Map<string, string> | undefined }): PnpmSettingPlace[] {
  const out: PnpmSettingPlace[] = [];
  const workspace = files?.workspace ?? pnpmWorkspaceSettingsIn(dir);
  for (const key of names.yaml) if (workspace[key] !== undefined) out.push({ where: 'pnpm-workspace.yaml', name: key, value: workspace[key] });
  const rc = files !== undefined ? files.rc : projectNpmrc(dir, env);
  const inRc = rc?.get(names.rc);
  if (inRc !== undefined) out.push({ where: '.npmrc', name: names.rc, value: inRc });
  const inNpmEnv = npmConfigFromEnv(env).get(names.rc);
  if (inNpmEnv !== undefined) out.push({ where: 'environment', name: `npm_config_${names.rc.replace(/-/g, '_')}`, value: inNpmEnv });
  const pnpmName = new RegExp(`^pnpm_config_${names.rc.replace(/-/g, '_')}$`, 'i');
  for (const name of Object.keys(env)) {
    const value = env[name];
    if (pnpmName.test(name) && value !== undefined && value !== '') out.push({ where: 'environment', name, value });
  }
  return out;
}

/** The project's .npmrc settings, or undefined when it has none (or it cannot be read). */
function projectNpmrc(dir: string, env: Env): Map<string, string> | undefined {
  const npmrc = readBounded(join(dir, '.npmrc'), MAX_WORKSPACE_YAML_BYTES);
  return npmrc === undefined ? undefined : parseNpmrc(npmrc.toString('utf8'), env);
}

/** Where a place is, as the messages say it. */
const placeText = (place: PnpmSettingPlace): string => (place.where === '.npmrc' ? "the project's .npmrc" : place.where === 'environment' ? 'the environment' : 'pnpm-workspace.yaml');
/** `lockfileDir in pnpm-workspace.yaml`, `lockfile-dir in the project's .npmrc`, `pnpm_config_lockfile_dir in the environment`. */
const placeName = (place: PnpmSettingPlace): string => `${place.name} in ${placeText(place)}`;
/** `sharedWorkspaceLockfile: false in pnpm-workspace.yaml`, `shared-workspace-lockfile=false in the project's .npmrc`. */
const offAt = (place: PnpmSettingPlace): string => `${place.name}${place.where === 'pnpm-workspace.yaml' ? ': ' : '='}false in ${placeText(place)}`;
/** A boolean setting as each place writes it. */
const isOn = (value: unknown): boolean => value === true || value === 'true';
const isOff = (value: unknown): boolean => value === false || value === 'false';

/** pnpm's folder settings as each place spells them: pnpm-workspace.yaml and pnpm's configuration, .npmrc. */
const STORE_KEYS: ReadonlyArray<{ key: PnpmStoreKey; rc: string }> = [
  { key: 'storeDir', rc: 'store-dir' },
  { key: 'virtualStoreDir', rc: 'virtual-store-dir' },
  { key: 'modulesDir', rc: 'modules-dir' },
];

/**
 * Every place the project in `dir` and the environment set pnpm's store folder (`storeDir`) or virtual store folder
 * (`virtualStoreDir`): pnpm-workspace.yaml, the project's .npmrc (`store-dir`, `virtual-store-dir`: pnpm 10 reads
 * them; 11 and 12 ignore them, measured — listed all the same), and the `pnpm_config_…` (pnpm 11, 12) and
 * `npm_config_…` (pnpm 10) variables. The first two are the repository's own files (`fromRepository`).
 */
export function pnpmStoreSettings(dir: string, env: Env): PnpmStoreSetting[] {
  const out: PnpmStoreSetting[] = [];
  const files = { workspace: pnpmWorkspaceSettingsIn(dir), rc: projectNpmrc(dir, env) };
  for (const { key, rc } of STORE_KEYS) {
    for (const place of pnpmSettingPlaces(dir, env, { yaml: [key], rc }, files)) {
      if (typeof place.value !== 'string') continue;
      const fromRepository = place.where !== 'environment';
      const shown = place.where === 'pnpm-workspace.yaml' ? 'in pnpm-workspace.yaml' : place.where === '.npmrc' ? `in the project's .npmrc (${rc})` : `in the environment (${place.name})`;
      out.push({ key, value: place.value, place: shown, base: dir, ...(fromRepository ? { fromRepository: true } : {}) });
    }
  }
  return out;
}

/** Whether pnpm-workspace.yaml, the project's .npmrc or the environment turn pnpm's global virtual store on (`enableGlobalVirtualStore`). */
export function pnpmGlobalVirtualStore(dir: string, env: Env): boolean {
  return pnpmSettingPlaces(dir, env, { yaml: ['enableGlobalVirtualStore'], rc: 'enable-global-virtual-store' }).some((place) => isOn(place.value));
}

/**
 * Where pnpm-workspace.yaml, the project's .npmrc or the environment set `sharedWorkspaceLockfile` to false (pnpm then
 * installs each workspace project from its own pnpm-lock.yaml, measured on 11.28.10 and 12.24.0), or undefined.
 */
export function pnpmPerProjectLockfiles(dir: string, env: Env): string | undefined {
  const off = pnpmSettingPlaces(dir, env, { yaml: ['sharedWorkspaceLockfile'], rc: 'shared-workspace-lockfile' }).find((place) => isOff(place.value));
  return off === undefined ? undefined : offAt(off);
}

/**
 * Where pnpm-workspace.yaml, the project's .npmrc or the environment set `lockfileDir` to another folder than `dir`
 * (pnpm then installs from that folder's pnpm-lock.yaml and looks for the pnpmfile there; measured on 10.34.8 with
 * both, 11.28.10 and 12.24.0 with pnpm-workspace.yaml): the setting and the folder, or undefined.
 */
export function pnpmLockfileElsewhere(dir: string, env: Env): { setting: string; folder: string } | undefined {
  for (const place of pnpmSettingPlaces(dir, env, { yaml: ['lockfileDir'], rc: 'lockfile-dir' })) {
    if (typeof place.value !== 'string' || place.value === '') continue;
    const folder = resolve(dir, place.value);
    if (folder !== resolve(dir)) return { setting: placeName(place), folder };
  }
  return undefined;
}

/**
 * Where pnpm-workspace.yaml, the project's .npmrc or the environment turn pnpm's lockfile off (`lockfile: false`): pnpm
 * then reads no pnpm-lock.yaml and resolves package.json anew at every install (measured: 11.28.10 and 12.24.0 with
 * pnpm-workspace.yaml, 10.34.8 with .npmrc, a stale clean lockfile beside it), or undefined.
 */
export function pnpmNoLockfile(dir: string, env: Env): string | undefined {
  const off = pnpmSettingPlaces(dir, env, { yaml: ['lockfile', 'useLockfile'], rc: 'lockfile' }).find((place) => isOff(place.value));
  return off === undefined ? undefined : offAt(off);
}
