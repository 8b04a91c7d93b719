/**
 * What the hooks share about the project being installed: its policy and pnpm's own registry settings.
 * pnpm 12 may run each hook in a fresh worker, so every hook can also rebuild this from disk.
 */
import { createRegistryConfig, loadNpmConfig, loadPolicy, PortcullisError, registryConfigFromNpmrc, type Policy, type RegistryConfig } from '@portcullis/core';
import { pnpmError } from './errors.js';

export interface Project {
  dir: string;
  policy: Policy;
  registryConfig: RegistryConfig;
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

/** Called by updateConfig, which sees pnpm's resolved settings first. */
export function rememberProject(project: Project): void {
  remembered = project;
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
  const project = { dir, policy: policyFor(dir), registryConfig };
  remembered = project;
  return project;
}
