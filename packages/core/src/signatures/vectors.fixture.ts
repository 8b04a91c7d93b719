// Test-only: loads the real-world vectors (a copy of the shared vectors in test-vectors/ at the repository root).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor holding pnpm-workspace.yaml. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * Absolute path of the vectors folder: `test-vectors/` in the repository (a byte-identical copy of the shared
 * `../shared/vectors`, checked by vectors.test.ts when that folder exists), or PORTCULLIS_VECTORS. Throws when missing.
 */
export function vectorsDir(): string {
  const dir = process.env.PORTCULLIS_VECTORS ? resolve(process.env.PORTCULLIS_VECTORS) : resolve(repoRoot(), 'test-vectors');
  if (!existsSync(join(dir, 'npm-registry-signatures.json'))) {
    throw new Error(`real signature vectors not found in ${dir}: expected test-vectors/ in the repository (or set PORTCULLIS_VECTORS)`);
  }
  return dir;
}

/** The shared vectors beside the repository, when this checkout has them (the source test-vectors/ was copied from). */
export function sharedVectorsDir(): string | undefined {
  const dir = resolve(repoRoot(), '..', 'shared', 'vectors');
  return existsSync(join(dir, 'npm-registry-signatures.json')) ? dir : undefined;
}

/** One real `dist.signatures` entry with what it signs. */
export interface SignatureVector {
  name: string;
  version: string;
  integrity: string;
  keyid: string;
  sig: string;
  why?: string;
  expect?: boolean;
  forceKey?: boolean;
}

/** Reads a JSON vectors file by name. */
export function readVectors<T = SignatureVector[]>(file: string): T {
  return JSON.parse(readFileSync(join(vectorsDir(), file), 'utf8')) as T;
}
