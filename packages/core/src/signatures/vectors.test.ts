import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedVectorsDir, vectorsDir } from './vectors.fixture.js';

describe('test-vectors/', () => {
  it('holds every shared vector file byte for byte (checked where ../shared/vectors exists)', () => {
    const shared = sharedVectorsDir();
    const files = readdirSync(vectorsDir()).sort();
    expect(files).toContain('npm-registry-signatures.json');
    if (shared === undefined) return; // a clone without the shared folder beside it: the copy is all there is
    expect(files).toEqual(readdirSync(shared).sort());
    for (const file of files) expect(readFileSync(join(vectorsDir(), file)).equals(readFileSync(join(shared, file))), file).toBe(true);
  });
});
