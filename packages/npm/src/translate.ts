/**
 * npm's structures in the core's terms: the command's settings that decide where packages come from, the
 * lockfile npm wrote as PackageNodes, and whether npm will resolve anything new.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadNpmSettings, npmCacache, PortcullisError, registryConfigFromNpmrc, readNpmLockfile, type Lockfile, type RegistryConfig } from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import { lockfileIn } from './project-files.js';

/** npm config given on the command line that decides where packages come from, as the `npm_config_*` npm reads. */
export function configEnv(cmd: NpmCommand, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const [key, value] of cmd.options) {
    if (typeof value !== 'string') continue;
    if (key === 'registry' || key === 'userconfig' || key === 'globalconfig' || /^@[^:/]+:registry$/.test(key)) out[`npm_config_${key}`] = value;
  }
  return out;
}

/**
 * The user's arguments with the wrapper's own options after theirs, where npm's parser (last one wins, and
 * abbreviations such as `--dry=false` expand) keeps them, and before a `--` (after it npm reads no options).
 */
export function withOwnFlags(argv: readonly string[], flags: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return end === -1 ? [...argv, ...flags] : [...argv.slice(0, end), ...flags, ...argv.slice(end)];
}

/**
 * The registries (and credentials) npm installs this project from, with the command line's own settings; and npm's
 * cacache folder, where npm keeps the registry documents it fetched.
 */
export async function npmSettings(dir: string, cmd: NpmCommand, env: NodeJS.ProcessEnv): Promise<{ registryConfig: RegistryConfig; npmCacache: string; globalFrom: GlobalSettings; linkedFrom: string | undefined }> {
  const { values, sourceOf } = await loadNpmSettings({ projectDir: dir, env: configEnv(cmd, env) });
  // `--cache <dir>` on the command line beats every other setting of it (npm resolves it from the working folder).
  const cache = cmd.options.get('cache');
  const settings = typeof cache === 'string' && cache !== '' ? new Map([...values, ['cache', resolve(cache)]]) : values;
  return { registryConfig: registryConfigFromNpmrc(values, sourceOf), npmCacache: npmCacache(settings, dir, env), globalFrom: globalSettingSource(values, sourceOf), linkedFrom: values.get('install-strategy') === 'linked' ? `install-strategy=linked in ${sourceOf('install-strategy')}` : undefined };
}

/** A setting of npm's configuration that makes every command global, and where it was set (`global=true in /p/.npmrc`). */
export interface GlobalSettings {
  global: string | undefined;
  location: string | undefined;
}

/**
 * Where npm's configuration (an `.npmrc` of the project, the user or the global one, or the environment) makes every
 * command global (`global=true`, `location=global`): npm then installs into its global prefix, outside the project the
 * gate judged.
 */
function globalSettingSource(values: ReadonlyMap<string, string>, sourceOf: (key: string) => string): GlobalSettings {
  const global = values.get('global');
  return {
    global: global !== undefined && global !== '' && global !== 'false' ? `global=${global} in ${sourceOf('global')}` : undefined,
    location: values.get('location') === 'global' ? `location=global in ${sourceOf('location')}` : undefined,
  };
}

/**
 * Where npm installs with its linked strategy (`install-strategy=linked`, the command line's own value first): npm then
 * keeps each package that is no direct dependency only under `node_modules/.store`, and the installed files the gate
 * reads at the lockfile's install paths are not there. Undefined when it does not.
 */
export function linkedStrategy(cmd: NpmCommand, fromConfiguration: string | undefined): string | undefined {
  const given = cmd.options.get('install-strategy');
  if (typeof given === 'string') return given === 'linked' ? 'install-strategy=linked on the command line' : undefined;
  return fromConfiguration;
}

/** Whether npm runs `cmd` global by `settings`, which its own command line beats (`--no-global`, `--location=user`). */
export function globalByConfiguration(cmd: NpmCommand, settings: GlobalSettings): string | undefined {
  const globalOff = cmd.options.has('no-global') || cmd.options.get('global') === 'false';
  const location = cmd.options.get('location');
  if (settings.global !== undefined && !globalOff) return settings.global;
  if (settings.location !== undefined && (typeof location !== 'string' || location === 'global')) return settings.location;
  return undefined;
}

/**
 * `-g`, `--location=global` (or an abbreviation npm expands to `--location` with a warning, seen on npm 11.19:
 * `--locat`, `--locati`, `--locatio`; `--loca` is `--local`), or the same from the environment (npm reads
 * `npm_config_*` case-insensitively).
 */
export function globalInstall(cmd: NpmCommand, env: NodeJS.ProcessEnv): boolean {
  if (cmd.options.has('global')) return true;
  for (const [key, value] of cmd.options) if (value === 'global' && key.length >= 'locat'.length && 'location'.startsWith(key)) return true;
  for (const [key, value] of Object.entries(env)) {
    const name = key.toLowerCase();
    if (name === 'npm_config_global' && value !== undefined && value !== '' && value !== 'false') return true;
    if (name === 'npm_config_location' && value === 'global') return true;
  }
  return false;
}

/** The lockfile npm uses, as text: its file and exact content. */
export interface LockfileText {
  file: string;
  text: string;
}

/** A lockfile as read: its file, its exact text, and the packages that text lists. */
export interface ReadLockfile extends LockfileText {
  lockfile: Lockfile;
}

/** The text of the lockfile this npm (`npmVersion`) uses in `dir` (project-files.ts `lockfileIn`). */
export function lockfileText(dir: string, npmVersion: string | undefined): LockfileText {
  const file = lockfileIn(dir, npmVersion);
  if (file === undefined) throw new PortcullisError('LOCKFILE_NOT_FOUND', `npm wrote no lockfile in ${dir}; portcullis-npm needs one (is package-lock=false set?)`);
  return { file, text: readFileSync(file, 'utf8') };
}

/**
 * The packages a lockfile's text lists, registries from the settings npm installs with. Given the lockfile read
 * before (same file, same text, byte for byte), its packages are reused instead of parsing the same text again.
 */
export function lockfilePackages(read: LockfileText, registryConfig: RegistryConfig, before?: ReadLockfile): ReadLockfile {
  if (before !== undefined && before.file === read.file && before.text === read.text) return before;
  return { ...read, lockfile: readNpmLockfile(read.text, { path: read.file, projectDir: dirname(read.file), registryFor: (name) => registryConfig.registryFor(name) }) };
}

/**
 * Every install path a lockfile's text names (the keys of its `packages` but the root's), without translating it: what the stamp
 * of the installed copies covers. Undefined for anything else (a v1 lockfile, text that does not parse).
 */
export function installPaths(read: LockfileText): string[] | undefined {
  try {
    const packages = (JSON.parse(read.text) as { packages?: unknown }).packages;
    if (typeof packages !== 'object' || packages === null || Array.isArray(packages)) return undefined;
    // '' is the project itself: npm's root, never a judged copy (core remembers nothing should one ever be one).
    return Object.keys(packages).filter((path) => path !== '');
  } catch {
    return undefined;
  }
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const;

/**
 * A bare `npm install` (no packages, no options) in a project whose node_modules npm installed from exactly
 * this package-lock.json (npm's hidden lockfile, node_modules/.package-lock.json, lists the same packages),
 * and whose package.json still asks for what the lockfile's root entry records: npm resolves nothing new, so
 * the lock-only resolution (a whole npm process: ~0.5 s of a ~0.65 s no-op install on 1,000 packages) is
 * skipped. The lockfile is still decided before npm runs; should npm change it anyway, the re-decision
 * after the install judges the new one before any script runs. Anything unusual (workspaces, overrides,
 * bundled dependencies, a shrinkwrap, an unreadable file) takes the full path.
 */
export function lockfileIsCurrent(dir: string, cmd: NpmCommand): boolean {
  if (cmd.command !== 'install' || cmd.positionals.length > 0 || cmd.optionArgs.length > 0) return false;
  if (existsSync(join(dir, 'npm-shrinkwrap.json'))) return false;
  try {
    const read = (...parts: string[]) => JSON.parse(readFileSync(join(dir, ...parts), 'utf8')) as Record<string, unknown>;
    const manifest = read('package.json');
    if (['workspaces', 'overrides', 'bundleDependencies', 'bundledDependencies'].some((k) => manifest[k] !== undefined)) return false;
    const lock = read('package-lock.json');
    if (typeof lock.lockfileVersion !== 'number' || lock.lockfileVersion < 2) return false;
    const packages = lock.packages as Record<string, Record<string, unknown>> | undefined;
    if (packages === null || typeof packages !== 'object') return false;
    const { '': rootEntry, ...installed } = packages;
    if (rootEntry === undefined) return false;
    const same = (a: unknown, b: unknown) => isDeepStrictEqual(a ?? {}, b ?? {});
    if (!DEPENDENCY_FIELDS.every((field) => same(manifest[field], rootEntry[field]))) return false;
    // npm writes its hidden lockfile as the lockfile without the root entry, laid out the same way: compared first as
    // text with that serialised (text equal to a serialisation parses back to the same data; ~5 ms less than parsing
    // it and comparing 1,000 entries), and parsed and compared only when the text differs.
    const hiddenText = readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8');
    const { packages: _packages, ...header } = lock;
    if (hiddenText === `${JSON.stringify({ ...header, packages: installed }, null, 2)}\n`) return true;
    const hidden = JSON.parse(hiddenText) as Record<string, unknown>;
    if (lock.lockfileVersion !== hidden.lockfileVersion || hidden.packages === null || typeof hidden.packages !== 'object') return false;
    return isDeepStrictEqual(installed, hidden.packages);
  } catch {
    return false;
  }
}
