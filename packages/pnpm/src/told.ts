/**
 * pnpm 12: what updateConfig tells the other hook workers of the same pnpm process about the project — its folder and
 * pnpm's registries by scope, as pnpm hands them to preResolution. pnpm 12 runs updateConfig in a first worker and the
 * other hooks in a second one, which pnpm hands the project's own manifest (`readPackage`) before anything else: that
 * worker, told nothing, opened the project from the `.npmrc` files alone, so a registry set only on pnpm's command line
 * (`--registry`) or in pnpm's own settings was not the one a resolution was judged against (such an install was refused:
 * the metadata was fetched from the registry the `.npmrc` files named).
 *
 * Which registry a package comes from decides which keys verify it, so this is not a hint: it is kept in this user's
 * state folder, beside the memo secret and never in the cache folder (state-file.ts: believed for where it is), named by
 * pnpm's pid and start time and the pnpmfile, and believed for two minutes. Only URLs by scope are written (`default`,
 * `@scope`; http or https, no user or password in them): credentials still come from the `.npmrc` files. Anything else
 * — no /proc, nothing told, a file stale, malformed or not this user's — and the worker reads the `.npmrc` files as before.
 * An updateConfig replayed from its record (replay.ts) tells nothing: it answers an install with an up-to-date lockfile,
 * which pnpm does not resolve again.
 */
import { isAbsolute } from 'node:path';
import type { PnpmProcess } from './ancestor.js';
import { perProcessFile, readStateFile, writeStateFile } from './state-file.js';

const FOLDER = 'pnpm-told-v1';
const VALID_MS = 2 * 60 * 1000;
const MAX_BYTES = 256 * 1024;
const MAX_REGISTRIES = 256;
const SCOPE = /^@[a-z0-9][a-z0-9._~-]*$/i;
/** An http(s) URL with no user or password in it, and no white space. */
const REGISTRY_URL = /^https?:\/\/[^\s@/]+(?:\/\S*)?$/;

/** What the other workers are told: the project's folder and pnpm's registries by scope. */
export interface Told {
  dir: string;
  registries: Record<string, string>;
}

/** pnpm's registries by scope (`default`, `@scope`) → an http(s) URL without credentials, bounded; nothing else. */
function isRegistries(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length > 0 &&
    entries.length <= MAX_REGISTRIES &&
    entries.every(([scope, url]) => (scope === 'default' || SCOPE.test(scope)) && typeof url === 'string' && url.length <= 2048 && REGISTRY_URL.test(url))
  );
}

/** The registries pnpm hands preResolution, as updateConfig's configuration holds them (`registriesByScope`); undefined when they are not that. */
export function registriesOf(config: Record<string, unknown>): Record<string, string> | undefined {
  const byScope = config.registriesByScope;
  return isRegistries(byScope) ? Object.fromEntries(Object.entries(byScope)) : undefined;
}

const location = (pnpmfile: string, pnpm: PnpmProcess, env: NodeJS.ProcessEnv): string | undefined => perProcessFile(FOLDER, pnpmfile, pnpm, env);

/** updateConfig (pnpm 12): tells the other workers of this pnpm process the project's folder and pnpm's registries. Best effort. */
export function tellWorkers(pnpmfile: string, pnpm: PnpmProcess, dir: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, now: number = Date.now()): boolean {
  try {
    const registries = registriesOf(config);
    const file = location(pnpmfile, pnpm, env);
    if (registries === undefined || file === undefined || !isAbsolute(dir)) return false;
    writeStateFile(file, FOLDER, { pnpmfile, pid: pnpm.pid, startTime: pnpm.startTime, dir, registries, at: now }, [], VALID_MS, now);
    return true;
  } catch {
    // Not written: the worker reads the .npmrc files, as before.
    return false;
  }
}

/** A hook worker of pnpm 12, loading: what updateConfig of this same pnpm process told, if anything (see the top). */
export function toldByUpdateConfig(pnpmfile: string, pnpm: PnpmProcess | undefined, env: NodeJS.ProcessEnv = process.env, now: number = Date.now()): Told | undefined {
  try {
    const file = pnpm === undefined ? undefined : location(pnpmfile, pnpm, env);
    const stored = file === undefined ? undefined : readStateFile(file, FOLDER, MAX_BYTES, true);
    if (stored === undefined || stored.blobs.length !== 0) return undefined;
    const told = stored.header as Record<string, unknown> | null;
    if (typeof told !== 'object' || told === null || Array.isArray(told)) return undefined;
    const { pnpmfile: forFile, pid, startTime, dir, registries, at } = told;
    if (forFile !== pnpmfile || pid !== pnpm!.pid || startTime !== pnpm!.startTime || typeof dir !== 'string' || !isAbsolute(dir) || !isRegistries(registries)) return undefined;
    if (typeof at !== 'number' || now - at < 0 || now - at > VALID_MS) return undefined;
    return { dir, registries: Object.fromEntries(Object.entries(registries)) };
  } catch {
    return undefined;
  }
}
