/** Registry settings from Yarn Berry's `.yarnrc.yml`: the same RegistryConfig the npm and pnpm paths build. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PortcullisError } from '../errors.js';
import { createRegistryConfig, DEFAULT_REGISTRY, RegistryCredentials, type RegistryConfig } from './config.js';
import { expandEnv, type Env } from './npmrc.js';

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

/** Loads registry, scopes and auth as Yarn would: project `.yarnrc.yml` over the home one, `YARN_*` env over both. */
export function loadYarnConfig(options: { projectDir: string; env?: Env; homeDir?: string }): RegistryConfig {
  const env = options.env ?? process.env;
  const home = readYarnrc(join(options.homeDir ?? homedir(), '.yarnrc.yml'));
  const project = readYarnrc(join(options.projectDir, '.yarnrc.yml'));
  const merged: Settings = { ...home, ...project };

  const defaultRegistry = env.YARN_NPM_REGISTRY_SERVER ?? text(merged, 'npmRegistryServer', env);
  const scopes: Record<string, string> = Object.create(null);
  const auth: Record<string, RegistryCredentials> = Object.create(null);
  // Yarn's own default host serves the npm registry's packages and signatures; trust it as that registry.
  const registry = defaultRegistry ?? DEFAULT_REGISTRY;

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
