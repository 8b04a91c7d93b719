/**
 * pnpm's store (its content-addressable files and their index): pnpm links the files its index lists for a package's
 * integrity, each checked only against the index's own per-file digest, never against the integrity the lockfile pins
 * (measured on pnpm 10.34.8, 11.28.10 and 12.24.0). So whoever can write the store chooses the bytes installed under a
 * registry-signed integrity: a store the repository's own files can fill — a committed folder that `storeDir` points at
 * — is refused, by the rule Portcullis applies to every folder a package manager reads (checkout.ts).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { outsideCheckout } from './checkout.js';

/** One place pnpm's store folder is set: its value as written, where (for messages), and the folder a relative value is read from. */
export interface PnpmStoreSetting {
  value: string;
  /** `in pnpm-workspace.yaml (storeDir)`, `on pnpm's command line or in its configuration (storeDir)`. */
  place: string;
  /** pnpm resolves a relative value against the workspace's (else the project's) folder. */
  base: string;
}

/** A store setting that points into the checkout: the folder it names, the sentence that says so, and the fix. */
export interface PnpmStoreRefusal {
  path: string;
  message: string;
  fix: string;
}

/** The folder a store setting names, as pnpm reads it (`~/` from the home folder, a relative value from `base`), without pnpm's `v10`/`v11` sub-folder. */
export function pnpmStorePath(value: string, base: string, home: string): string {
  if (value.startsWith('~/') || value.startsWith('~\\')) return join(home, value.slice(2));
  return isAbsolute(value) ? value : resolve(base, value);
}

/**
 * Undefined when the store `setting` names is outside the project's checkout (checkout.ts); else why it is refused.
 * An empty value is no setting (pnpm's default store, in the user's home folder).
 */
export function pnpmStoreRefusal(setting: PnpmStoreSetting, projectDir: string, home: string): PnpmStoreRefusal | undefined {
  if (setting.value === '') return undefined;
  const path = pnpmStorePath(setting.value, setting.base, home);
  if (outsideCheckout(path, projectDir)) return undefined;
  return {
    path,
    message: `pnpm's store (storeDir ${JSON.stringify(setting.value)} ${setting.place}) is ${path}, inside the project's checkout: pnpm installs the files its store lists for a package's integrity without checking them against that integrity, so a store the repository supplies could install other bytes than the ones Portcullis verified`,
    fix: `keep pnpm's store outside the checkout: remove storeDir ${setting.place} (pnpm's default store is in your home folder), or run pnpm with --store-dir pointing at a folder in your home folder (--store-dir=~/.pnpm-store)`,
  };
}
