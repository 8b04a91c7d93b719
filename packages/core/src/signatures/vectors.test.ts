import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedVectorsDir, vectorsDir } from './vectors.fixture.js';

const PROVENANCE_VECTORS = [
  'attestations-@playwright-cli@0.1.1.json',
  'attestations-sigstore@0.4.0.json',
  'attestations-sigstore@1.0.0.json',
  'attestations-tuf-js@1.0.0.json',
  'attestations-index.json',
  'sigstore-trusted_root.json',
];

describe('test-vectors/', () => {
  it('holds every shared vector file byte for byte (checked where ../shared/vectors exists)', () => {
    const shared = sharedVectorsDir();
    const files = readdirSync(vectorsDir()).sort();
    expect(files).toContain('npm-registry-signatures.json');
    // The provenance vectors (provenance/*.test.ts): the four real attestations documents, their index and the root.
    for (const file of PROVENANCE_VECTORS) expect(files).toContain(file);
    if (shared === undefined) return; // a clone without the shared folder beside it: the copy is all there is
    expect(files).toEqual(readdirSync(shared).sort());
    for (const file of files) expect(readFileSync(join(vectorsDir(), file)).equals(readFileSync(join(shared, file))), file).toBe(true);
  });
});
