/**
 * pnpm's store (its content-addressable files and their index) and its virtual store (the package folders it links
 * node_modules to). pnpm links the files its store's index lists for a package's integrity, each checked only against
 * the index's own per-file digest, never against the integrity the lockfile pins (measured on pnpm 10.34.8, 11.28.10
 * and 12.24.0); and it links the package folders it finds in a virtual store without importing them again (pnpm 11.28.10
 * and 12.24.0 with `enableGlobalVirtualStore`, pnpm 12.24.0 for any `virtualStoreDir`; measured). So whoever can write
 * either chooses the bytes installed under a registry-signed integrity: a folder the repository's own files can fill —
 * a committed folder that `storeDir` or `virtualStoreDir` points at — is refused, by the rule Portcullis applies to
 * every folder a package manager reads (checkout.ts). pnpm's default virtual store, `<project>/node_modules/.pnpm`, is
 * the project's own installed tree and is left alone (a committed one is a residual risk: docs/threat-model.md).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { outsideCheckout } from './checkout.js';

/**
 * The pnpm settings that name a folder pnpm installs package files from: its store, its virtual store, and its modules
 * folder (which holds the virtual store by default, `<modulesDir>/.pnpm`, and the links pnpm finds "up to date").
 */
export type PnpmStoreKey = 'storeDir' | 'virtualStoreDir' | 'modulesDir';

/** One place pnpm's store (or virtual store) folder is set: its value as written, where (for messages), and the folder a relative value is read from. */
export interface PnpmStoreSetting {
  /** Which folder; `storeDir` when not said. */
  key?: PnpmStoreKey;
  value: string;
  /** `in pnpm-workspace.yaml`, `in pnpm's configuration`. */
  place: string;
  /** pnpm resolves a relative value against the workspace's (else the project's) folder. */
  base: string;
  /** Written in the repository's own files (pnpm-workspace.yaml, the project's .npmrc), not by the user (command line, environment). */
  fromRepository?: boolean;
}

/** A setting that points into the checkout: the folder it names, the sentence that says so, and the fix. */
export interface PnpmStoreRefusal {
  path: string;
  message: string;
  fix: string;
}

/** Whether a value starts with `~` as a folder (`~`, `~/…`, `~\…`). */
function tilde(value: string): boolean {
  return value === '~' || value.startsWith('~/') || value.startsWith('~\\');
}

/**
 * The folder a store setting names as pnpm 10 and 11 read it (`~/` from the home folder, a relative value from
 * `base`), without pnpm's `v10`/`v11` sub-folder.
 */
export function pnpmStorePath(value: string, base: string, home: string): string {
  if (tilde(value)) return join(home, value.slice(2));
  return isAbsolute(value) ? value : resolve(base, value);
}

/**
 * Every folder a setting may name: pnpm 10 and 11 read a leading `~/` as the home folder, pnpm 12.24.0 does not (it
 * uses `<base>/~/…`; measured) — and a check does not know which pnpm will install, so both readings are judged.
 */
export function pnpmStorePaths(value: string, base: string, home: string): string[] {
  const expanded = pnpmStorePath(value, base, home);
  return tilde(value) ? [expanded, resolve(base, value)] : [expanded];
}

/** Options of a judgement: whether pnpm's global virtual store is on (`enableGlobalVirtualStore`). */
export interface PnpmStoreOptions {
  globalVirtualStore?: boolean;
}

/**
 * Undefined when every folder the `setting` may name is outside the project's checkout (checkout.ts); else why it is
 * refused. An empty value is no setting (pnpm's default store, in the user's home folder; its default virtual store).
 * A `virtualStoreDir` naming pnpm's default, `<project>/node_modules/.pnpm`, is left alone unless the global virtual
 * store is on (pnpm then links what it finds in that folder as the global store's packages).
 */
export function pnpmStoreRefusal(setting: PnpmStoreSetting, projectDir: string, home: string, options: PnpmStoreOptions = {}): PnpmStoreRefusal | undefined {
  if (setting.value === '') return undefined;
  const key = setting.key ?? 'storeDir';
  const relativeFromRepository = setting.fromRepository === true && !isAbsolute(setting.value);
  const gvs = options.globalVirtualStore === true;
  const defaultVirtualStore = resolve(projectDir, 'node_modules', '.pnpm');
  const defaultModules = resolve(projectDir, 'node_modules');
  for (const path of pnpmStorePaths(setting.value, setting.base, home)) {
    if (key === 'virtualStoreDir' && !gvs && resolve(path) === defaultVirtualStore) continue;
    if (key === 'modulesDir' && resolve(path) === defaultModules) continue;
    if (outsideCheckout(path, projectDir, { relativeFromRepository })) continue;
    const written = `${key} ${JSON.stringify(setting.value)} ${setting.place}`;
    if (key === 'storeDir') {
      return {
        path,
        message: `pnpm's store (${written}) is ${path}, inside the project's checkout: pnpm installs the files its store lists for a package's integrity without checking them against that integrity, so a store the repository supplies could install other bytes than the ones Portcullis verified`,
        fix: `keep pnpm's store outside the checkout: remove storeDir ${setting.place} (pnpm's default store is in your home folder), or run pnpm with --store-dir pointing at a folder in your home folder, written in full (--store-dir=$HOME/.pnpm-store: pnpm 12 does not read a leading ~ as the home folder)`,
      };
    }
    if (key === 'modulesDir') {
      return {
        path,
        message: `pnpm's modules folder (${written}) is ${path}, inside the project's checkout and not its node_modules: pnpm keeps its virtual store there (${join(path, '.pnpm')}, unless virtualStoreDir says otherwise) and links the package folders it finds in it without importing them again from the verified files, so a modules folder the repository supplies could install other bytes than the ones Portcullis verified`,
        fix: `remove modulesDir ${setting.place} (pnpm's default is node_modules), or point it at a folder outside the checkout`,
      };
    }
    return {
      path,
      message: `pnpm's ${gvs ? 'global ' : ''}virtual store (${written}${gvs ? ', enableGlobalVirtualStore on' : ''}) is ${path}, inside the project's checkout: pnpm links the package folders it finds there without importing them again from the verified files, so a virtual store the repository supplies could install other bytes than the ones Portcullis verified`,
      fix: gvs
        ? `remove virtualStoreDir ${setting.place} (the global virtual store then lives in pnpm's store, in your home folder), or turn enableGlobalVirtualStore off`
        : `remove virtualStoreDir ${setting.place} (pnpm's default is node_modules/.pnpm), or point it at a folder outside the checkout`,
    };
  }
  return undefined;
}
