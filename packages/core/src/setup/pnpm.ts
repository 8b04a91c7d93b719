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

/** pnpm's folder settings as each place spells them: pnpm-workspace.yaml and pnpm's configuration, .npmrc, the environment. */
const STORE_KEYS: ReadonlyArray<{ key: PnpmStoreKey; rc: string; env: RegExp }> = [
  { key: 'storeDir', rc: 'store-dir', env: /^pnpm_config_store_dir$/i },
  { key: 'virtualStoreDir', rc: 'virtual-store-dir', env: /^pnpm_config_virtual_store_dir$/i },
  { key: 'modulesDir', rc: 'modules-dir', env: /^pnpm_config_modules_dir$/i },
];

/**
 * Every place the project in `dir` and the environment set pnpm's store folder (`storeDir`) or virtual store folder
 * (`virtualStoreDir`): pnpm-workspace.yaml, the project's .npmrc (`store-dir`, `virtual-store-dir`: pnpm 10 reads
 * them; 11 and 12 ignore them, measured — listed all the same), and the `pnpm_config_…` (pnpm 11, 12) and
 * `npm_config_…` (pnpm 10) variables. The first two are the repository's own files (`fromRepository`).
 */
export function pnpmStoreSettings(dir: string, env: Env): PnpmStoreSetting[] {
  const out: PnpmStoreSetting[] = [];
  const workspace = pnpmWorkspaceSettingsIn(dir);
  const npmrc = readBounded(join(dir, '.npmrc'), MAX_WORKSPACE_YAML_BYTES);
  const rc = npmrc === undefined ? undefined : parseNpmrc(npmrc.toString('utf8'), env);
  const fromEnv = npmConfigFromEnv(env);
  for (const { key, rc: rcKey, env: envName } of STORE_KEYS) {
    const inWorkspace = workspace[key];
    if (typeof inWorkspace === 'string') out.push({ key, value: inWorkspace, place: 'in pnpm-workspace.yaml', base: dir, fromRepository: true });
    const inNpmrc = rc?.get(rcKey);
    if (inNpmrc !== undefined) out.push({ key, value: inNpmrc, place: `in the project's .npmrc (${rcKey})`, base: dir, fromRepository: true });
    const inNpmEnv = fromEnv.get(rcKey);
    if (inNpmEnv !== undefined) out.push({ key, value: inNpmEnv, place: `in the environment (npm_config_${rcKey.replace(/-/g, '_')})`, base: dir });
    for (const name of Object.keys(env)) {
      const value = env[name];
      if (envName.test(name) && value !== undefined && value !== '') out.push({ key, value, place: `in the environment (${name})`, base: dir });
    }
  }
  return out;
}

/** Whether pnpm-workspace.yaml, the project's .npmrc or the environment turn pnpm's global virtual store on (`enableGlobalVirtualStore`). */
export function pnpmGlobalVirtualStore(dir: string, env: Env): boolean {
  const on = (value: unknown): boolean => value === true || value === 'true';
  if (on(pnpmWorkspaceSettingsIn(dir).enableGlobalVirtualStore)) return true;
  const npmrc = readBounded(join(dir, '.npmrc'), MAX_WORKSPACE_YAML_BYTES);
  if (npmrc !== undefined && on(parseNpmrc(npmrc.toString('utf8'), env).get('enable-global-virtual-store'))) return true;
  if (on(npmConfigFromEnv(env).get('enable-global-virtual-store'))) return true;
  return Object.keys(env).some((name) => /^pnpm_config_enable_global_virtual_store$/i.test(name) && on(env[name]));
}

/**
 * Where pnpm-workspace.yaml, the project's .npmrc or the environment set `sharedWorkspaceLockfile` to false (pnpm then
 * installs each workspace project from its own pnpm-lock.yaml, measured on 11.28.10 and 12.24.0), or undefined.
 */
export function pnpmPerProjectLockfiles(dir: string, env: Env): string | undefined {
  const off = (value: unknown): boolean => value === false || value === 'false';
  if (off(pnpmWorkspaceSettingsIn(dir).sharedWorkspaceLockfile)) return 'sharedWorkspaceLockfile: false in pnpm-workspace.yaml';
  const npmrc = readBounded(join(dir, '.npmrc'), MAX_WORKSPACE_YAML_BYTES);
  if (npmrc !== undefined && off(parseNpmrc(npmrc.toString('utf8'), env).get('shared-workspace-lockfile'))) return "shared-workspace-lockfile=false in the project's .npmrc";
  if (off(npmConfigFromEnv(env).get('shared-workspace-lockfile'))) return 'npm_config_shared_workspace_lockfile=false in the environment';
  const name = Object.keys(env).find((key) => /^pnpm_config_shared_workspace_lockfile$/i.test(key) && off(env[key]));
  return name === undefined ? undefined : `${name}=false in the environment`;
}

/**
 * Where pnpm-workspace.yaml, the project's .npmrc or the environment set `lockfileDir` to another folder than `dir`
 * (pnpm then installs from that folder's pnpm-lock.yaml and looks for the pnpmfile there; measured on 10.34.8 with
 * both, 11.28.10 and 12.24.0 with pnpm-workspace.yaml): the setting and the folder, or undefined.
 */
export function pnpmLockfileElsewhere(dir: string, env: Env): { setting: string; folder: string } | undefined {
  const elsewhere = (value: unknown, setting: string) => {
    if (typeof value !== 'string' || value === '') return undefined;
    const folder = resolve(dir, value);
    return folder === resolve(dir) ? undefined : { setting, folder };
  };
  const inYaml = elsewhere(pnpmWorkspaceSettingsIn(dir).lockfileDir, 'lockfileDir in pnpm-workspace.yaml');
  if (inYaml !== undefined) return inYaml;
  const npmrc = readBounded(join(dir, '.npmrc'), MAX_WORKSPACE_YAML_BYTES);
  const inRc = npmrc === undefined ? undefined : elsewhere(parseNpmrc(npmrc.toString('utf8'), env).get('lockfile-dir'), "lockfile-dir in the project's .npmrc");
  if (inRc !== undefined) return inRc;
  const inNpmEnv = elsewhere(npmConfigFromEnv(env).get('lockfile-dir'), 'npm_config_lockfile_dir in the environment');
  if (inNpmEnv !== undefined) return inNpmEnv;
  for (const name of Object.keys(env)) {
    if (!/^pnpm_config_lockfile_dir$/i.test(name)) continue;
    const found = elsewhere(env[name], `${name} in the environment`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Where pnpm-workspace.yaml, the project's .npmrc or the environment turn pnpm's lockfile off (`lockfile: false`): pnpm
 * then reads no pnpm-lock.yaml and resolves package.json anew at every install (measured: 11.28.10 and 12.24.0 with
 * pnpm-workspace.yaml, 10.34.8 with .npmrc, a stale clean lockfile beside it), or undefined.
 */
export function pnpmNoLockfile(dir: string, env: Env): string | undefined {
  const off = (value: unknown): boolean => value === false || value === 'false';
  const workspace = pnpmWorkspaceSettingsIn(dir);
  if (off(workspace.lockfile) || off(workspace.useLockfile)) return 'lockfile: false in pnpm-workspace.yaml';
  const npmrc = readBounded(join(dir, '.npmrc'), MAX_WORKSPACE_YAML_BYTES);
  if (npmrc !== undefined && off(parseNpmrc(npmrc.toString('utf8'), env).get('lockfile'))) return "lockfile=false in the project's .npmrc";
  if (off(npmConfigFromEnv(env).get('lockfile'))) return 'npm_config_lockfile=false in the environment';
  const name = Object.keys(env).find((key) => /^pnpm_config_lockfile$/i.test(key) && off(env[key]));
  return name === undefined ? undefined : `${name}=false in the environment`;
}
