/** Refreshed key lists, one file per registry beside the metadata cache (validated again on every read). */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';

/** The key cache `refreshKeys` reads and writes (structurally `KeyCache` of signatures/keyring.ts). */
export interface KeyListCache {
  get(registry: string): unknown;
  set(registry: string, entry: unknown): void;
}

export function keyCache(cacheDir: string): KeyListCache {
  const file = (registry: string) => join(cacheDir, 'keys-v1', `${createHash('sha256').update(registry).digest('hex')}.json`);
  return {
    get(registry) {
      try {
        return JSON.parse(readFileSync(file(registry), 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
    set(registry, entry) {
      try {
        mkdirSync(join(cacheDir, 'keys-v1'), { recursive: true });
        writeFileAtomic(file(registry), JSON.stringify(entry));
      } catch {
        // A cache that cannot be written only costs a fetch next time.
      }
    },
  };
}
