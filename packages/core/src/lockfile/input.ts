/**
 * Reading untrusted lockfile input: size limits, positions for reports, typed errors, and access to
 * parsed objects that never touches inherited properties (a lockfile may contain `__proto__` keys).
 */
import { PortcullisError } from '../errors.js';
import { MAX_LOCKFILE_BYTES } from '../limits.js';
import type { RegistryFor, SourceLocation } from '../model.js';

/** Options every lockfile reader takes. */
export interface LockfileReadOptions {
  /** Absolute path of the lockfile, used in errors and in the result. */
  path: string;
  /** The project root (the lockfile's folder); decides whether a local directory is inside the project. */
  projectDir: string;
  /** The registry a package is fetched from when the lockfile does not say. */
  registryFor: RegistryFor;
}

/** Refuses input over the limit before any parsing. */
export function assertLockfileSize(bytes: number, file: string, max = MAX_LOCKFILE_BYTES): void {
  if (bytes > max) {
    throw new PortcullisError(
      'INPUT_TOO_LARGE',
      `${file} is ${bytes} bytes, over the ${max}-byte limit for lockfiles; a lockfile this large is not one a package manager wrote.`,
      { file },
    );
  }
}

/** A `LOCKFILE_INVALID` error naming the file, what is wrong and, when known, where. */
export function invalidLockfile(file: string, what: string, location?: SourceLocation): PortcullisError {
  const at = location ? ` (line ${location.line}, column ${location.column})` : '';
  return new PortcullisError('LOCKFILE_INVALID', `${file}${at}: ${what}`, location ? { file, location } : { file });
}

/** Strips a UTF-8 byte order mark, which editors on some systems add and parsers reject. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Maps string offsets to 1-based line/column, computing line starts once. */
export class LinePositions {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** The 1-based position of a 0-based offset. */
  at(offset: number): SourceLocation {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }
}

/** A plain-object record from parsed input; only own properties are ever read. */
export type LockRecord = { readonly [key: string]: unknown };

/** Whether a value is a non-array object. */
export function isRecord(value: unknown): value is LockRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property, never one inherited from `Object.prototype`. */
export function own(record: LockRecord | undefined, key: string): unknown {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An own property that must be an object when present. */
export function ownRecord(record: LockRecord | undefined, key: string): LockRecord | undefined {
  const value = own(record, key);
  return isRecord(value) ? value : undefined;
}

/** An own property that must be a string when present (YAML may give numbers for bare versions). */
export function ownString(record: LockRecord | undefined, key: string): string | undefined {
  const value = own(record, key);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The own string-valued entries of a `{name: range}` map; anything else is skipped. */
export function stringEntries(record: LockRecord | undefined): [string, string][] {
  if (record === undefined) return [];
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') out.push([key, value]);
    else if (typeof value === 'number') out.push([key, String(value)]);
  }
  return out;
}
