/** Registry settings from Yarn Berry's `.yarnrc.yml`: the same RegistryConfig the npm and pnpm paths build. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { PortcullisError } from '../errors.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { createRegistryConfig, RegistryCredentials, type RegistryConfig } from './config.js';
import type { Env } from '../env.js';
import { expandEnv } from './npmrc.js';

const MAX_YARNRC_BYTES = 1024 * 1024;

type Settings = { [key: string]: unknown };

function record(value: unknown): Settings | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Settings) : undefined;
}

function text(settings: Settings | undefined, key: string, env: Env): string | undefined {
  const value = settings !== undefined && Object.hasOwn(settings, key) ? settings[key] : undefined;
  return typeof value === 'string' ? expandEnv(value, env) : undefined;
}

function credentials(settings: Settings | undefined, env: Env): RegistryCredentials | undefined {
  const token = text(settings, 'npmAuthToken', env);
  if (token) return RegistryCredentials.bearer(token);
  const ident = text(settings, 'npmAuthIdent', env);
  if (ident) return RegistryCredentials.basicEncoded(ident.includes(':') ? Buffer.from(ident).toString('base64') : ident);
  return undefined;
}

function readYarnrc(file: string): Settings {
  if (!existsSync(file)) return {};
  const body = readFileSync(file);
  if (body.length > MAX_YARNRC_BYTES) throw new PortcullisError('USAGE', `${file} is larger than ${MAX_YARNRC_BYTES} bytes`);
  try {
    return record(parse(body.toString('utf8'), { maxAliasCount: 10, logLevel: 'error' })) ?? {};
  } catch (error) {
    throw new PortcullisError('USAGE', `${file} is not valid YAML: ${(error as Error).message}`, { file });
  }
}

/** Maps Yarn merges key by key across rc files (a nearer file's entry wins); every other setting: the nearer file wins. */
const MERGED_MAPS = new Set(['npmScopes', 'npmRegistries']);

/**
 * The rc files Yarn reads when started in `from`, farthest first: the home folder's, then every folder's
 * from the filesystem root down to `from` (Yarn 4 merges them all; a nearer file wins), named by `YARN_RC_FILENAME`.
 */
function yarnrcFiles(from: string, home: string, env: Env): string[] {
  const name = env.YARN_RC_FILENAME || '.yarnrc.yml';
  const chain: string[] = [];
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    chain.unshift(join(dir, name));
    if (dirname(dir) === dir) break;
  }
  const homeFile = join(resolve(home), name);
  return chain.includes(homeFile) ? chain : [homeFile, ...chain];
}

function mergeSettings(files: readonly string[]): Settings {
  const merged: Settings = Object.create(null) as Settings;
  for (const file of files) {
    const settings = readYarnrc(file);
    for (const key of Object.keys(settings)) {
      const value = settings[key];
      const before = record(merged[key]);
      const map = record(value);
      merged[key] = MERGED_MAPS.has(key) && before !== undefined && map !== undefined ? mergeMaps(before, map) : value;
    }
  }
  return merged;
}

/** Per entry (a scope, a registry URL): the nearer file's fields over the farther one's. */
function mergeMaps(farther: Settings, nearer: Settings): Settings {
  const out: Settings = Object.create(null) as Settings;
  for (const key of Object.keys(farther)) out[key] = farther[key];
  for (const key of Object.keys(nearer)) {
    const a = record(out[key]);
    const b = record(nearer[key]);
    out[key] = a !== undefined && b !== undefined ? { ...a, ...b } : nearer[key];
  }
  return out;
}

/**
 * Loads registry, scopes and auth as Yarn does when started in `projectDir`: every `.yarnrc.yml` from there up
 * to the filesystem root over the home one (a nearer file wins), `YARN_*` env over all of them.
 */
export function loadYarnConfig(options: { projectDir: string; env?: Env; homeDir?: string }): RegistryConfig {
  const env = options.env ?? process.env;
  const merged = mergeSettings(yarnrcFiles(options.projectDir, options.homeDir ?? homedir(), env));

  const defaultRegistry = env.YARN_NPM_REGISTRY_SERVER ?? text(merged, 'npmRegistryServer', env);
  const scopes: Record<string, string> = Object.create(null);
  const auth: Record<string, RegistryCredentials> = Object.create(null);
  // Yarn's own default host serves the npm registry's packages and signatures; trust it as that registry.
  const registry = defaultRegistry ?? NPM_REGISTRY_URL;

  const top = credentials(merged, env) ?? (env.YARN_NPM_AUTH_TOKEN ? RegistryCredentials.bearer(env.YARN_NPM_AUTH_TOKEN) : undefined);
  if (top) auth[registry] = top;

  const npmScopes = record(merged.npmScopes) ?? {};
  for (const scope of Object.keys(npmScopes)) {
    const settings = record(npmScopes[scope]);
    const server = text(settings, 'npmRegistryServer', env);
    if (server) scopes[`@${scope.replace(/^@/, '')}`] = server;
    const scoped = credentials(settings, env);
    if (scoped) auth[server ?? registry] = scoped;
  }
  const npmRegistries = record(merged.npmRegistries) ?? {};
  for (const url of Object.keys(npmRegistries)) {
    const scoped = credentials(record(npmRegistries[url]), env);
    if (scoped) auth[url.startsWith('//') ? `https:${url}` : url] = scoped;
  }
  return createRegistryConfig({ defaultRegistry: registry, scopes, auth });
}

/** The name Yarn gives a package's folder in the unplugged folder (`structUtils.slugifyLocator`: `<readable>-<10 hex of its hash>`). */
export const YARN_UNPLUGGED_ENTRY = /-[0-9a-f]{10}$/;

/**
 * The folder Yarn's PnP linker unpacks packages into (`pnpUnpluggedFolder`, default `.yarn/unplugged` in the project), when
 * the linker is PnP (`nodeLinker`, Yarn's default); undefined for the other linkers. A relative path in an rc file is
 * relative to that file's folder, as Yarn reads it; `YARN_*` environment variables win.
 */
export function yarnUnpluggedFolder(options: { projectDir: string; env?: Env; homeDir?: string }): string | undefined {
  const env = options.env ?? process.env;
  let linker: string | undefined;
  let folder: string | undefined;
  for (const file of yarnrcFiles(options.projectDir, options.homeDir ?? homedir(), env)) {
    const settings = readYarnrc(file);
    linker = text(settings, 'nodeLinker', env) ?? linker;
    const set = text(settings, 'pnpUnpluggedFolder', env);
    if (set !== undefined) folder = resolve(dirname(file), set);
  }
  linker = env.YARN_NODE_LINKER || linker;
  if (env.YARN_PNP_UNPLUGGED_FOLDER) folder = resolve(options.projectDir, env.YARN_PNP_UNPLUGGED_FOLDER);
  if ((linker ?? 'pnp') !== 'pnp') return undefined;
  return folder ?? join(resolve(options.projectDir), '.yarn', 'unplugged');
}
