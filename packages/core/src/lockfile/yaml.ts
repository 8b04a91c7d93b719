/**
 * YAML lockfiles (pnpm-lock.yaml, Yarn Berry's yarn.lock) parsed with positions, so that findings can
 * point at the line of a package's entry.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import type { SourceLocation } from '../model.js';
import { invalidLockfile, isRecord, type LockRecord } from './input.js';
import { parseLockfileYamlFast } from './yaml-fast.js';

/** A parsed YAML lockfile and the positions of the keys of its top-level sections. */
export interface ParsedYaml {
  data: LockRecord;
  /** Positions of the keys of the mapping at `section` (or of the top level when undefined). */
  keyLocations(section?: string): Map<string, SourceLocation>;
}

/**
 * Parses YAML strictly: duplicate keys and any syntax error are fatal, aliases are capped.
 * `failsafe` keeps every scalar a string, as Yarn's own parser does (so `1.10` stays `1.10`).
 */
export function parseYamlLockfile(text: string, file: string, schema: 'core' | 'failsafe'): ParsedYaml {
  // The plain subset package managers write is read by a fast reader; anything else by the full parser.
  const fast = parseLockfileYamlFast(text, schema);
  if (fast !== undefined) {
    return { data: fast.data, keyLocations: (section) => new Map(section === undefined ? fast.topLocations : (fast.locations.get(section) ?? [])) };
  }
  return parseYamlLockfileFully(text, file, schema);
}

/** The full YAML parser, with the same strictness; what every document outside the fast reader's subset gets. */
export function parseYamlLockfileFully(text: string, file: string, schema: 'core' | 'failsafe'): ParsedYaml {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    // yaml's own uniqueKeys check compares every pair of keys (O(n²): minutes on a large hostile file); ours is a Set.
    doc = parseDocument(text, { lineCounter, schema, uniqueKeys: false, prettyErrors: false, merge: false });
  } catch (error) {
    throw invalidLockfile(file, `not valid YAML (${(error as Error).message})`);
  }
  const first = doc.errors[0];
  if (first !== undefined) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw invalidLockfile(file, `not valid YAML: ${first.message.split('\n')[0]}`, { line, column: col });
  }
  const duplicate = firstDuplicateKey(doc.contents);
  if (duplicate !== undefined) {
    const { line, col } = lineCounter.linePos(duplicate.offset);
    throw invalidLockfile(file, `not valid YAML: duplicate key ${JSON.stringify(duplicate.key.slice(0, 200))}`, { line, column: col });
  }
  // pnpm's YAML parser merges a `<<` key's mappings into the mapping that holds it (YAML 1.1), adding what it does not
  // spell out — a resolution's `type` or `tarball`, say — where this reader would see a key named `<<`. pnpm never writes
  // one, so a lockfile holding one is refused rather than read otherwise than pnpm reads it. Yarn's parser does not merge.
  const merge = schema === 'core' ? firstMergeKey(doc.contents) : undefined;
  if (merge !== undefined) {
    const { line, col } = lineCounter.linePos(merge);
    throw invalidLockfile(file, 'a YAML merge key (`<<`): pnpm would merge another mapping in there, which Portcullis does not read. pnpm never writes one: run pnpm install to write the lockfile again', { line, column: col });
  }
  let data: unknown;
  try {
    // A small alias budget: lockfiles never use anchors, and expanding them is a denial-of-service vector.
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    throw invalidLockfile(file, `could not be read (${(error as Error).message})`);
  }
  if (data === null || data === undefined) data = {};
  if (!isRecord(data)) throw invalidLockfile(file, 'expected a mapping at the top level');
  return {
    data,
    keyLocations(section) {
      const found = new Map<string, SourceLocation>();
      const map = section === undefined ? doc.contents : doc.get(section, true);
      if (!isMap(map)) return found;
      for (const pair of map.items) {
        const key = pair.key;
        if (!isScalar(key) || key.range === undefined || key.range === null) continue;
        const { line, col } = lineCounter.linePos(key.range[0]);
        found.set(String(key.value), { line, column: col });
      }
      return found;
    },
  };
}

/** The first answer `inMap` gives for a mapping anywhere in the tree (each mapping once, keys too); one pass, no recursion. */
function firstInMaps<T>(root: unknown, inMap: (map: YAMLMap) => T | undefined): T | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const found = inMap(node);
      if (found !== undefined) return found;
      for (const pair of node.items) stack.push(pair.key, pair.value);
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    } else if (isPair(node)) {
      stack.push(node.key, node.value);
    }
  }
  return undefined;
}

/** The offset of the first `<<` key of any mapping in the tree, quoted or not. */
function firstMergeKey(root: unknown): number | undefined {
  return firstInMaps(root, (map) => {
    for (const { key } of map.items) {
      if (isScalar(key) ? key.value === '<<' : String(key) === '<<') return (isScalar(key) ? key.range?.[0] : undefined) ?? 0;
    }
    return undefined;
  });
}

/** The first key that repeats within one mapping, anywhere in the tree. */
function firstDuplicateKey(root: unknown): { key: string; offset: number } | undefined {
  return firstInMaps(root, (map) => {
    const seen = new Set<string>();
    for (const { key } of map.items) {
      // Scalars compare by type and value, as yaml's own check does; other keys by their text.
      const id = isScalar(key) ? `${typeof key.value}:${String(key.value)}` : `node:${String(key)}`;
      if (seen.has(id)) return { key: id.slice(id.indexOf(':') + 1), offset: (isScalar(key) ? key.range?.[0] : undefined) ?? 0 };
      seen.add(id);
    }
    return undefined;
  });
}
