/**
 * `.npmrc` as npm reads it: ini lines, `${ENV}` expansion, and the layering of global, user,
 * project and environment configuration. Only the registry, scope and credential keys matter here.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PortcullisError } from '../errors.js';
import { RegistryCredentials, createRegistryConfig, type RegistryConfig } from './config.js';
import { normalizeRegistryUrl } from '../registry-url.js';

/** Environment variables, as `process.env` holds them. */
import type { Env } from '../env.js';

/** An .npmrc file beyond this size is not a config file; refusing it keeps a mistake from eating memory. */
const MAX_NPMRC_BYTES = 1024 * 1024;

/**
 * Expands `${NAME}` from `env` as npm does: an unset variable stays literal, `${NAME?}` becomes
 * empty when unset, and a backslash escapes the expansion.
 */
export function expandEnv(text: string, env: Env): string {
  return text.replace(/(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g, (whole, escapes: string, name: string, optional?: string) => {
    if (escapes.length % 2 === 1) return whole.slice((escapes.length + 1) / 2);
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return escapes.slice(escapes.length / 2) + (value ?? (optional === '?' ? '' : `\${${name}}`));
  });
}

/** Reads an ini value the way npm's `ini` does: quotes are stripped, otherwise `;`/`#` starts a comment and `\;` `\#` escape. */
function iniValue(raw: string): string {
  const text = raw.trim();
  const quoted = (text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'"));
  if (quoted && text.length >= 2) {
    const inner = text.slice(1, -1);
    if (text.startsWith('"')) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'string') return parsed;
      } catch {
        // npm keeps the text as is when it is not valid JSON
      }
    }
    return inner;
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      out += next === ';' || next === '#' || next === '\\' ? next : `\\${next}`;
      i++;
    } else if (c === ';' || c === '#') {
      break;
    } else {
      out += c;
    }
  }
  return out.trim();
}

/**
 * Parses `.npmrc` text into its top-level `key → value` pairs (later lines win), expanding `${ENV}`
 * in keys and values. Lines under a `[section]` are ignored, as npm ignores them; a bare key means `true`.
 */
export function parseNpmrc(text: string, env: Env = {}): Map<string, string> {
  const values = new Map<string, string>();
  let inSection = false;
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    if (/^\[[^\]]*\]$/.test(line)) {
      inSection = true;
      continue;
    }
    if (inSection) continue;
    const eq = line.indexOf('=');
    const rawKey = eq === -1 ? line : line.slice(0, eq);
    let key = expandEnv(iniValue(rawKey), env);
    const value = eq === -1 ? 'true' : expandEnv(iniValue(line.slice(eq + 1)), env);
    // `key[] = value` is ini's array syntax; the last entry is the one a single-valued key keeps.
    if (key.endsWith('[]')) key = key.slice(0, -2);
    if (key !== '') values.set(key, value);
  }
  return values;
}

/** The `npm_config_*` variables as config keys, as npm maps them (`_` → `-`, lower case; `//…` keys kept as written). */
export function npmConfigFromEnv(env: Env): Map<string, string> {
  const values = new Map<string, string>();
  // Upper-case first so that the lower-case spelling npm itself exports wins when both are set.
  const names = Object.keys(env)
    .filter((name) => /^npm_config_/i.test(name))
    .sort((a, b) => Number(a.startsWith('npm_')) - Number(b.startsWith('npm_')));
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let key = name.slice('npm_config_'.length);
    if (!key.startsWith('//')) key = key.replace(/(?!^)_/g, '-').toLowerCase();
    values.set(key, value);
  }
  return values;
}

const CREDENTIAL_FIELDS = [':_authToken', ':_auth', ':username', ':_password'] as const;

/**
 * Builds a RegistryConfig from merged npm config values: `registry`, `@scope:registry`, and
 * `//host/path/:_authToken`, `:_auth`, `:username` + `:_password` (base64, as npm stores it).
 * Unscoped `_authToken`/`_auth` are ignored, as npm 9+ rejects them: a token not tied to a host
 * would follow the `registry` setting to whatever host it names.
 */
export function registryConfigFromNpmrc(
  values: ReadonlyMap<string, string>,
  sourceOf: (key: string) => string = () => '.npmrc',
): RegistryConfig {
  const scopes: Record<string, string> = Object.create(null);
  const perPrefix = new Map<string, Partial<Record<(typeof CREDENTIAL_FIELDS)[number], string>>>();
  for (const [key, value] of values) {
    const scoped = /^(@[^:/]+):registry$/.exec(key);
    if (scoped !== null) {
      scopes[scoped[1]!] = value;
      continue;
    }
    if (!key.startsWith('//')) continue;
    const field = CREDENTIAL_FIELDS.find((f) => key.endsWith(f));
    if (field === undefined) continue;
    const prefix = key.slice(0, -field.length);
    const entry = perPrefix.get(prefix) ?? {};
    entry[field] = value;
    perPrefix.set(prefix, entry);
  }

  const auth: Record<string, RegistryCredentials> = Object.create(null);
  for (const [prefix, fields] of perPrefix) {
    // npm's order of preference for one prefix: token, then _auth, then username/password.
    if (fields[':_authToken'] !== undefined && fields[':_authToken'] !== '') {
      auth[prefix] = RegistryCredentials.bearer(fields[':_authToken']);
    } else if (fields[':_auth'] !== undefined && fields[':_auth'] !== '') {
      auth[prefix] = RegistryCredentials.basicEncoded(fields[':_auth']);
    } else if (fields[':username'] !== undefined && fields[':_password'] !== undefined) {
      const password = Buffer.from(fields[':_password'], 'base64').toString('utf8');
      auth[prefix] = RegistryCredentials.basic(fields[':username'], password);
    }
  }

  // Check each URL here so that a bad one is reported with the file it came from.
  const checked = (key: string, url: string): string => {
    try {
      return normalizeRegistryUrl(url);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new PortcullisError('USAGE', `${sourceOf(key)}: ${key}: ${message}`);
    }
  };
  for (const scope of Object.keys(scopes)) scopes[scope] = checked(`${scope}:registry`, scopes[scope]!);
  const registry = values.get('registry');
  return createRegistryConfig({
    ...(registry !== undefined ? { defaultRegistry: checked('registry', registry) } : {}),
    scopes,
    auth,
  });
}

/** Where loadNpmConfig looks; every field defaults to this process's own. */
export interface LoadNpmConfigOptions {
  /** The project root: its `.npmrc` is the project config. */
  projectDir: string;
  env?: Env;
  homeDir?: string;
  /** The global npmrc (`$PREFIX/etc/npmrc`); skipped unless given here or by `npm_config_globalconfig`. */
  globalConfigFile?: string;
}

/**
 * Reads npm's configuration in npm's precedence (environment > project `.npmrc` > user `~/.npmrc`
 * or `npm_config_userconfig` > global) and returns the registry configuration it describes.
 */
export async function loadNpmConfig(options: LoadNpmConfigOptions): Promise<RegistryConfig> {
  const { values, sourceOf } = await loadNpmSettings(options);
  return registryConfigFromNpmrc(values, sourceOf);
}

/** Every npm setting as npm merges them (global, user and project `.npmrc`, then `npm_config_*`), and where each came from. */
export async function loadNpmSettings(options: LoadNpmConfigOptions): Promise<{ values: ReadonlyMap<string, string>; sourceOf: (key: string) => string }> {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? homedir();
  const fromEnv = npmConfigFromEnv(env);
  const projectFile = join(options.projectDir, '.npmrc');
  const project = await readNpmrc(projectFile, env);

  // npm reads the user config's location from the environment or the project config.
  const userFile = resolvePath(fromEnv.get('userconfig') ?? project?.get('userconfig') ?? join(home, '.npmrc'), home, options.projectDir);
  const globalSetting = fromEnv.get('globalconfig') ?? project?.get('globalconfig') ?? options.globalConfigFile;
  const globalFile = globalSetting === undefined ? undefined : resolvePath(globalSetting, home, options.projectDir);

  const merged = new Map<string, string>();
  const layers: Array<ReadonlyMap<string, string> | null> = [
    globalFile === undefined ? null : await readNpmrc(globalFile, env),
    // The project file doubles as the user file when they are the same path (npm reads it once).
    userFile === resolve(projectFile) ? null : await readNpmrc(userFile, env),
    project,
    fromEnv,
  ];
  const sources = new Map<string, string>();
  const names = [globalFile ?? '', userFile, projectFile, 'the npm_config_* environment'];
  layers.forEach((layer, i) => {
    for (const [key, value] of layer ?? []) {
      merged.set(key, value);
      sources.set(key, names[i]!);
    }
  });
  return { values: merged, sourceOf: (key) => sources.get(key) ?? 'npm configuration' };
}

/**
 * npm's cacache folder: `<cache>/_cacache`, `cache` as npm's settings say (`~` expanded, relative to `base`), else
 * npm's default (`~/.npm`; `%LocalAppData%\npm-cache` on Windows). Only a place to look for registry documents.
 */
export function npmCacache(values: ReadonlyMap<string, string>, base: string, env: NodeJS.ProcessEnv = process.env, home: string = homedir(), platform: NodeJS.Platform = process.platform): string {
  const set = values.get('cache');
  const cache = set !== undefined && set !== '' ? resolvePath(set, home, base) : platform === 'win32' ? join(env.LocalAppData ?? env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'npm-cache') : join(home, '.npm');
  return join(cache, '_cacache');
}

function resolvePath(path: string, home: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
  return isAbsolute(path) ? path : resolve(base, path);
}

/** Reads one npmrc; a missing file is no configuration, an unreadable one is a configuration error. */
async function readNpmrc(file: string, env: Env): Promise<Map<string, string> | null> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_NPMRC_BYTES) {
      throw new PortcullisError('INPUT_TOO_LARGE', `${file} is larger than ${MAX_NPMRC_BYTES} bytes; it is not an npm config file`, { file });
    }
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof PortcullisError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new PortcullisError('USAGE', `could not read ${file}: ${code ?? String(error)}`, { file });
  }
  return parseNpmrc(text, env);
}
