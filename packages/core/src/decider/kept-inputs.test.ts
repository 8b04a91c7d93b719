import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as keptMetadata from '../layouts/kept-metadata.js';
import { OpenedCacheFiles, registryFolder } from '../layouts/pnpm-metadata-cache.js';
import type { PackageNode } from '../model.js';
import { pnpmKeptInputs, pnpmKeptReleaseLine } from './kept-inputs.js';

const registry = 'http://127.0.0.1:4998/';
const ATTESTATIONS = { url: 'https://registry.example/att', provenance: { predicateType: 'https://slsa.dev/provenance/v1' } };
const doc = (version: string, claims: boolean) => ({ name: 'left-pad', version, dist: { integrity: `sha512-${version}`, signatures: [{ keyid: 'SHA256:k', sig: 'MEUC' }], ...(claims ? { attestations: ATTESTATIONS } : {}) } });

/** A pnpm 12 cache folder holding left-pad's file: `pnpm-meta-v1`, header, index, documents. */
function cache(docs: Array<Record<string, unknown>>): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-kept-'));
  const folder = join(dir, 'v12', 'metadata', registryFolder(registry)!);
  mkdirSync(folder, { recursive: true });
  const header = JSON.stringify({ etag: '"x"' });
  const bodies = docs.map((d) => Buffer.from(JSON.stringify(d)));
  let offset = 0;
  const index = JSON.stringify({ name: 'left-pad', versions: docs.map((d, i) => [d.version, (offset += i === 0 ? 0 : bodies[i - 1]!.length), bodies[i]!.length]) });
  const file = join(folder, 'left-pad.jsonl');
  writeFileSync(file, `pnpm-meta-v1 ${Buffer.byteLength(header)} ${Buffer.byteLength(index)}\n${header}${index}${Buffer.concat(bodies).toString()}`);
  return { dir, file };
}

/** Spies on every read of a kept file (whole, its front, a range of it): `count()` of them so far. */
function fileReads(): { count: () => number; restore: () => void } {
  const spies = [vi.spyOn(keptMetadata, 'readAll'), vi.spyOn(keptMetadata, 'readFrontOf'), vi.spyOn(keptMetadata, 'readRangeOf')];
  return { count: () => spies.reduce((n, spy) => n + spy.mock.calls.length, 0), restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

const node = (version: string): PackageNode => ({ id: `left-pad@${version}`, name: 'left-pad', version, source: 'registry', registry, integrity: `sha512-${version}`, aliases: [], paths: [], dependents: ['.'] });

describe('pnpmKeptInputs', () => {
  it("supplies each version's document and its release line from one read of the file", () => {
    const { dir, file } = cache([doc('1.0.0', true), doc('1.1.0', false), doc('1.2.0', false)]);
    const reads = fileReads();
    try {
      // No file kept between questions (a real lockfile's files outgrow what is kept): each lookup would read it again.
      const inputs = pnpmKeptInputs([dir], () => true, new OpenedCacheFiles(0));
      expect(inputs.supplied!(node('1.2.0'))?.dist.integrity).toBe('sha512-1.2.0');
      expect(reads.count()).toBe(1);
      rmSync(file);
      // The release line was found with the document: asked for now, it comes without reading the file (gone) again.
      expect([...(inputs.suppliedPackument!(node('1.2.0'))?.versions.keys() ?? [])]).toEqual(['1.0.0']);
      expect(reads.count()).toBe(1);
      // Once: a second question reads the file (gone now: nothing kept, the gate fetches).
      expect(inputs.suppliedPackument!(node('1.2.0'))).toBeUndefined();
    } finally {
      reads.restore();
    }
  });

  it('looks for no file where pnpm keeps no documents of the registry, nor twice for a version its file lacks', () => {
    const reads = fileReads();
    try {
      // A runner that restored Portcullis' cache but not pnpm's: no folder for the registry, no file looked for.
      const empty = pnpmKeptInputs([mkdtempSync(join(tmpdir(), 'portcullis-pnpm-kept-empty-'))], () => true);
      expect(empty.supplied!(node('1.2.0'))).toBeUndefined();
      expect(empty.suppliedPackument!(node('1.2.0'))).toBeUndefined();
      expect(reads.count()).toBe(0);
      // The file lacks the version (each layout looked in once); its release line is not looked for again.
      const { dir } = cache([doc('1.0.0', true)]);
      const inputs = pnpmKeptInputs([dir], () => true);
      expect(inputs.supplied!(node('1.2.0'))).toBeUndefined();
      const looked = reads.count();
      expect(looked).toBeGreaterThan(0);
      expect(inputs.suppliedPackument!(node('1.2.0'))).toBeUndefined();
      expect(reads.count()).toBe(looked);
      // A version it holds is found as ever.
      expect(inputs.supplied!(node('1.0.0'))?.version).toBe('1.0.0');
    } finally {
      reads.restore();
    }
  });

  it('reads a release line only for the packages the downgrade check asks about, and later when asked anyway', () => {
    const { dir } = cache([doc('1.0.0', true), doc('1.1.0', false)]);
    const inputs = pnpmKeptInputs([dir], (pkg) => pkg.version !== '1.1.0');
    expect(inputs.supplied!(node('1.1.0'))?.version).toBe('1.1.0');
    expect([...(inputs.suppliedPackument!(node('1.1.0'))?.versions.keys() ?? [])]).toEqual(['1.0.0']);
    // Not a registry package, or no cache folder at all: nothing supplied.
    expect(inputs.supplied!({ ...node('1.1.0'), source: 'git', registry: undefined })).toBeUndefined();
    expect(pnpmKeptInputs([], () => true)).toEqual({});
  });

  it('pnpmKeptReleaseLine: the earlier versions of the line that claim attestations, for a registry package only', () => {
    const { dir } = cache([doc('0.9.0', true), doc('1.0.0', true), doc('1.1.0', false), doc('1.2.0', false), doc('2.0.0', true)]);
    expect([...(pnpmKeptReleaseLine([dir], node('1.2.0'))?.versions.keys() ?? [])]).toEqual(['1.0.0']);
    expect(pnpmKeptReleaseLine([dir], { ...node('1.2.0'), source: 'git', registry: undefined })).toBeUndefined();
    expect(pnpmKeptReleaseLine([dir], { ...node('1.2.0'), integrity: 'sha512-other' })).toBeUndefined();
  });
});
