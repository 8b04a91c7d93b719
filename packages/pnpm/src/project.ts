/**
 * What the hooks share about the project being installed: its policy and pnpm's own registry settings.
 * pnpm 12 may run each hook in a fresh worker, so every hook can also rebuild this from disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRegistryConfig, loadNpmConfig, loadPolicy, PortcullisError, registryConfigFromNpmrc, type Policy, type RegistryConfig } from '@portcullis/core';
import { pnpmError } from './errors.js';

export interface Project {
  /** The folder of pnpm-lock.yaml (a workspace's root), where portcullis.json is looked up from. */
  dir: string;
  policy: Policy;
  registryConfig: RegistryConfig;
  /** Strict mode: a skipped build fails the install. */
  strictBuilds: boolean;
  /** Builds updateConfig denied outright (`name`, `name@version`): pnpm skips them without suggesting its own approval. */
  deniedBuilds?: ReadonlySet<string>;
}

let remembered: Project | undefined;

/** Loads the policy for `dir`; a malformed portcullis.json stops pnpm with its file, line and column. */
export function policyFor(dir: string): Policy {
  try {
    return loadPolicy(dir, process.env);
  } catch (error) {
    if (error instanceof PortcullisError) throw pnpmError('POLICY', error.message, 'Fix portcullis.json (see docs/policy.md), then run the install again.');
    throw error;
  }
}

/**
 * Registry settings exactly as pnpm resolved them: `authConfig` (pnpm 11, 12) or `rawConfig` (pnpm 10)
 * hold the merged `.npmrc` / `pnpm-workspace.yaml` keys — registry, `@scope:registry`, `//host/:_authToken`.
 */
export function registryConfigFromPnpm(config: Record<string, unknown>): RegistryConfig | undefined {
  const raw = config.authConfig ?? config.rawConfig;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') values.set(key, value);
  if (typeof config.registry === 'string' && !values.has('registry')) values.set('registry', config.registry);
  return registryConfigFromNpmrc(values, () => 'pnpm configuration');
}

/** Strict mode: `PORTCULLIS_STRICT_BUILDS=1`, or `strictDepBuilds: true` written in pnpm-workspace.yaml. */
export function strictBuilds(dir: string): boolean {
  if (/^(1|true)$/i.test(process.env.PORTCULLIS_STRICT_BUILDS ?? '')) return true;
  try {
    return /^strictDepBuilds:\s*true\s*(#.*)?$/m.test(readFileSync(join(dir, 'pnpm-workspace.yaml'), 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The workspace root pnpm installs from when run in `cwd` (a workspace sub-folder included): the workspace
 * folder pnpm is told (`pnpm_config_workspace_dir`, `npm_config_workspace_dir`), else the nearest folder up
 * with pnpm-workspace.yaml, as pnpm finds it; else `cwd`.
 */
export function workspaceRootOf(cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const told = env.pnpm_config_workspace_dir ?? env.PNPM_CONFIG_WORKSPACE_DIR ?? env.npm_config_workspace_dir ?? env.NPM_CONFIG_WORKSPACE_DIR;
  if (told) return resolve(cwd, told);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/** Called by updateConfig, which sees pnpm's resolved settings first. */
export function rememberProject(project: Project): void {
  remembered = project;
}

/**
 * The project being installed, for hooks that are not told where it is (readPackage, afterAllResolved): the
 * one updateConfig saw, or — in a fresh pnpm 12 worker — the workspace root of the working folder, whose
 * .npmrc pnpm reads (never a sub-folder's).
 */
export async function currentProject(): Promise<Project> {
  return remembered ?? projectAt(workspaceRootOf(process.cwd()));
}

/** The project at `dir`: as updateConfig saw it, or rebuilt from disk with pnpm's registries (a new worker on pnpm 12). */
export async function projectAt(dir: string, registries?: Record<string, string>): Promise<Project> {
  if (remembered?.dir === dir) return remembered;
  const fromNpmrc = await loadNpmConfig({ projectDir: dir, env: process.env });
  const scopes = Object.fromEntries(Object.entries(registries ?? {}).filter(([scope]) => scope.startsWith('@')));
  const registryConfig =
    registries === undefined
      ? fromNpmrc
      : createRegistryConfig({ defaultRegistry: registries.default ?? fromNpmrc.defaultRegistry, scopes: { ...fromNpmrc.scopes, ...scopes }, auth: { ...fromNpmrc.auth } });
  const project = { dir, policy: policyFor(dir), registryConfig, strictBuilds: strictBuilds(dir) };
  remembered = project;
  return project;
}
