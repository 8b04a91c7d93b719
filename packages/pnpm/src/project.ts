/**
 * The project being installed: pnpm's own registry settings, the workspace root, strict mode as pnpm's files
 * say it, and the project's gate. pnpm 12 may run each hook in a fresh worker, so every hook can also rebuild
 * this from disk.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { createRegistryConfig, loadNpmConfig, openGate, pnpmWorkspaceSettings, registryConfigFromNpmrc, strictScripts, type RegistryConfig, type SignatureVerification } from '@portcullis/core';
import { policyError } from './refuse.js';
import type { InstallState, PnpmProject } from './state.js';
import { inPnpm12HookWorker, mayBeWorkerThread } from './worker-kind.js';

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

/** The settings registryConfigFromPnpm reads, copied as plain strings (for the judging thread, judge-worker.ts). */
export function registrySettingsOf(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['authConfig', 'rawConfig'] as const) {
    const raw = config[key];
    if (typeof raw !== 'object' || raw === null) continue;
    const strings: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') strings[name] = value;
    out[key] = strings;
  }
  if (typeof config.registry === 'string') out.registry = config.registry;
  return out;
}

/** pnpm's own strict switch as written in the project's pnpm-workspace.yaml (`strictDepBuilds`), if any. */
export function writtenStrictDepBuilds(dir: string): unknown {
  try {
    return pnpmWorkspaceSettings(readFileSync(join(dir, 'pnpm-workspace.yaml'), 'utf8')).strictDepBuilds;
  } catch {
    return undefined;
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

/** A content hash of this pnpmfile's sources, set by build.mjs: remembered verdicts are kept per build. */
declare const PORTCULLIS_ENGINE_ID: string | undefined;
const engine = typeof PORTCULLIS_ENGINE_ID === 'string' ? { engine: `pnpm:${PORTCULLIS_ENGINE_ID}` } : {};

/**
 * Where this process verifies registry signatures. pnpm 12 runs the hooks in Node processes of their own (an argv of
 * `node` alone) beside its native process, which keeps the cores busy on a cold install: a verification handed to the
 * thread pool there took the core of the thread waiting for it, and cost more than verifying on that thread (measured,
 * 1,000 packages: handing one over ~0.2 ms of this thread, verifying it ~0.14; the install 1,352 against 1,450 ms).
 * pnpm 10 and 11 (hooks in pnpm's own process, the judging thread beside it) keep the pool.
 */
export function signatureVerificationHere(argv: readonly string[] = process.argv, mainThread: boolean = !mayBeWorkerThread(argv) || isMainThread): SignatureVerification {
  // The judging thread of pnpm 10 and 11 (judge-worker.ts) has a short argv too, as every worker thread has. A bare
  // `pnpm` (no command) on 10 or 11 also verifies on its thread: the same verdicts, only not beside pnpm's work.
  return inPnpm12HookWorker(argv) && mainThread ? 'calling-thread' : 'thread-pool';
}

/** Opens the project at `dir` with pnpm's registry settings; a portcullis.json that cannot be used stops pnpm. */
export async function openProject(dir: string, registryConfig: RegistryConfig, env: NodeJS.ProcessEnv = process.env): Promise<PnpmProject> {
  try {
    const strict = strictScripts('pnpm', { env, native: writtenStrictDepBuilds(dir) });
    return { dir, registryConfig, gate: await openGate({ dir, packageManager: 'pnpm', registryConfig, strict, env, signatureVerification: signatureVerificationHere(), ...engine }) };
  } catch (error) {
    throw policyError(error);
  }
}

/** The project at `dir`: as updateConfig saw it, or rebuilt from disk with pnpm's registries (a new worker on pnpm 12). */
export async function projectAt(state: InstallState, dir: string, registries?: Record<string, string>): Promise<PnpmProject> {
  if (state.project?.dir === dir) return state.project;
  const fromNpmrc = await loadNpmConfig({ projectDir: dir, env: process.env });
  const scopes = Object.fromEntries(Object.entries(registries ?? {}).filter(([scope]) => scope.startsWith('@')));
  const registryConfig =
    registries === undefined
      ? fromNpmrc
      : createRegistryConfig({ defaultRegistry: registries.default ?? fromNpmrc.defaultRegistry, scopes: { ...fromNpmrc.scopes, ...scopes }, auth: { ...fromNpmrc.auth } });
  return (state.project = await openProject(dir, registryConfig));
}

/**
 * The project being installed, for hooks that are not told where it is (readPackage, afterAllResolved): the
 * one updateConfig saw, or — in a fresh pnpm 12 worker — the one updateConfig of the same pnpm process told it of
 * (its folder and pnpm's registries, as preResolution would be told them: told.ts), else the workspace root of the
 * working folder, whose .npmrc pnpm reads (never a sub-folder's).
 */
export async function currentProject(state: InstallState): Promise<PnpmProject> {
  if (state.project !== undefined) return state.project;
  return state.told !== undefined ? projectAt(state, state.told.dir, state.told.registries) : projectAt(state, workspaceRootOf(process.cwd()));
}
