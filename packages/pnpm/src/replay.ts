/**
 * pnpm 12, warm and frozen installs: updateConfig's answer replayed by the pnpmfile's loader, without the engine.
 *
 * Any pnpmfile makes pnpm 12 start a hook worker for `updateConfig` on every install, and that worker loading the
 * engine (~40 ms) and deciding (~25 ms) was most of what Portcullis added to a warm install (docs/benchmarks.md).
 * Yet an install repeated with nothing changed asks updateConfig the very same question. So when updateConfig of a
 * pnpm 12 worker judged the lockfile itself (early.ts) and let the install go on, it leaves a record: what it was
 * asked, what it answered, and every file it was answered from. The loader of a later worker, asked the same
 * question, gives the same answer from that record — while every file still has the bytes it had then — and leaves
 * the second worker the same token updateConfig would have left.
 *
 * pnpm 10 and 11 call updateConfig in their own process, and on an install with nothing to do (pnpm 11) or a command
 * that installs nothing (`run`, `exec`) no other hook: there the engine's load and decision (~20 ms on pnpm 11 at 3,000
 * packages) were all Portcullis added. With a lockfile on disk, updateConfig leaves the same kind of record there (the
 * lockfile is one of the files it was answered from; it judges nothing then: preResolution does), and the loader
 * answers the same question from it without loading the engine. A hook called after such an answer loads the engine,
 * which decides updateConfig again from the configuration pnpm handed over: the hooks need what it sets up, and an
 * answer that differs from the one replayed stops the install (loader.ts; the record is then the new answer).
 *
 * What "the same question" covers (any difference and the engine decides, as before):
 * - the engine build, Node's version, the pnpmfile, the worker's folder, its whole environment (`PORTCULLIS_*`, the
 *   cache and state folders, pnpm's `pnpm_config_*`), whether the hooks run in a pnpm 12 worker or in pnpm's own
 *   process, and pnpm's command line (pnpm 12: from /proc; pnpm restores command-line settings after the hook, so they
 *   are refused there);
 * - the configuration pnpm hands the hook, in full (`pnpm-workspace.yaml`, `.npmrc` and environment settings as pnpm
 *   merged them: `allowBuilds`, `dangerouslyAllowAllBuilds`, registries and tokens, `minimumReleaseAge`, ...),
 *   compared key-sorted (pnpm 12 does not keep the order of every map from one run to the next; measured);
 * - the lockfile's bytes, the project's `package.json` and `pnpm-workspace.yaml` (present or absent), and every file
 *   the gate's policy was found and loaded from (core's `Gate.localInputs`: each `portcullis.json` path the lookup
 *   looked at, so one appearing nearer the project is noticed; the trusted root), and the advisory sources the policy
 *   names with the same state (the stat-only key the gate keys its remembered verdicts by). A policy that also depends
 *   on what no local file holds (an organisation policy, refreshed keys) leaves no record, nor does an install whose
 *   registry settings pnpm did not hand over (the engine then reads `.npmrc` files itself).
 * - Not covered, by design: the registry's version list of a ranged `scripts.allow` entry, which updateConfig asks for
 *   to list versions that are not in the lockfile. A version published since is then left out of the allowance for
 *   the record's hour — not built, never the reverse (as when the registry cannot be reached); an install from the
 *   same lockfile and package.json installs none of them.
 *
 * The record is kept in this user's state folder, beside the memo secret and never in the cache folder (state-file.ts:
 * believed for where it is, as the secret is), holds the question in full and the state of every file it was decided
 * from (file-state.ts: its settled stamp, taken before the engine read it, or its bytes where a stat cannot vouch for
 * them), and is used for an hour at most. Only answers that let the install go on are recorded (a refusal throws before
 * anything is recorded, and is decided again every time), only when none of the files changed while updateConfig
 * decided, and the lockfile is still judged again by the gate's remembered verdict (a day at most) once the record is
 * gone. Replaying one loads no `node:crypto` and hashes nothing: the worker compares text, stats and bytes. Hostile input all
 * the same: bounded, parsed defensively, never applied to an object's prototype.
 */
import { isAbsolute, join } from 'node:path';
import { defaultStateDir, listSourceFiles, type AdvisorySourcesState } from '@portcullis/core/loader';
import type { PnpmProcess } from './ancestor.js';
import { fileState, sameState, stillHeld, type FileState } from './file-state.js';
import { readStateFile, stateFileName, writeStateFile } from './state-file.js';
import { inPnpm12HookWorker } from './worker-kind.js';

const FOLDER = 'pnpm-replay-v3';
/** A record is replayed for an hour at most after it was made. */
export const REPLAY_FOR_MS = 60 * 60 * 1000;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const MAX_FILES = 1_000;
const MAX_TEXT = 64 * 1024;
const MAX_NOTICED = 10_000;
const MAX_DEPTH = 64;
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A value that is not data (a function, or an object of a class: pnpm 10 hands its hooks and log stream over too). */
class NotData extends Error {}

/** JSON with every object's keys sorted: the same value gives the same text whatever order its maps came in. */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > MAX_DEPTH) throw new Error('too deep');
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v, depth + 1)).join(',')}]`;
  if (typeof value === 'function' || typeof value === 'symbol') throw new NotData(typeof value);
  if (typeof value === 'object' && value !== null) {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) throw new NotData('an object of a class');
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
  }
  if (typeof value === 'bigint') throw new Error('not JSON: bigint');
  return JSON.stringify(value) ?? 'null';
}

/** Everything updateConfig is asked besides files. */
export interface ReplayQuestion {
  engine: string;
  pnpmfile: string;
  pnpm: PnpmProcess;
  /** The configuration pnpm handed over, before the hook changed it (configSnapshot). */
  config: ReadonlyMap<string, string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** A question in full (`text`, compared whole) and the name of its record (from the working folder, pnpmfile and pnpm's command line). */
export interface AskedQuestion {
  text: string;
  name: string;
}

/** `q` as the text a record holds and is compared by, and the record's name. */
export function questionOf(q: ReplayQuestion): AskedQuestion | undefined {
  try {
    const env = Object.keys(q.env)
      .sort()
      .map((k) => [k, q.env[k]]);
    const config = [...q.config.keys()].sort().map((k) => `${JSON.stringify(k)}:${q.config.get(k)!}`);
    const hooks = inPnpm12HookWorker() ? 'pnpm 12 worker' : 'pnpm process';
    const text = `${canonicalJson({ format: FOLDER, engine: q.engine, node: process.version, arch: process.arch, hooks, pnpmfile: q.pnpmfile, cwd: q.cwd, argv: q.pnpm.argv, env })}\0{${config.join(',')}}`;
    return { text, name: stateFileName(JSON.stringify([q.cwd, q.pnpmfile, q.pnpm.argv])) };
  } catch {
    return undefined;
  }
}

/** updateConfig's answer: the configuration keys it set or removed, what it said, and the token it left (early.ts). */
export interface ReplayAnswer {
  set: Array<[string, unknown]>;
  removed: string[];
  /** What updateConfig wrote to stderr (the skipped-builds notice). */
  said: string;
  /** The lockfile judged and its state (its stamp or its bytes), as in the token. */
  lockfile: string;
  judged: string | Buffer;
  noticed: string[];
}

/** A record's header (its blobs: the bytes of each file kept as bytes, in order). */
interface ReplayRecord extends Omit<ReplayAnswer, 'judged'> {
  question: string;
  /** Each file the answer was decided from, and its settled stamp, or whether it was there (its bytes: the record's blobs). */
  files: Array<[string, string | boolean]>;
  advisories: AdvisorySourcesState | null;
  at: number;
}

/** Whether the advisory sources still have the state `advisories` recorded (stat alone, as the gate keys them). */
function advisoriesUnchanged(advisories: AdvisorySourcesState | null): boolean {
  if (advisories === null) return true;
  try {
    return listSourceFiles(advisories.sources, advisories.format).key === advisories.key;
  } catch {
    return false;
  }
}

/** The folder the records are kept in: this user's state directory. */
export const replayRecordsFolder = (env: NodeJS.ProcessEnv): string => join(defaultStateDir(env), FOLDER);
const location = (name: string, env: NodeJS.ProcessEnv): string => join(replayRecordsFolder(env), name);

/** The states of `paths` now (file-state.ts); undefined when one cannot be told. */
export function fileStates(paths: Iterable<string>, now: number = Date.now()): Array<[string, FileState]> | undefined {
  const out: Array<[string, FileState]> = [];
  for (const path of new Set(paths)) {
    if (!isAbsolute(path)) return undefined;
    const state = fileState(path, now);
    if (state === undefined) return undefined;
    out.push([path, state]);
  }
  return out.length > MAX_FILES ? undefined : out;
}

/**
 * The configuration keys `after` sets or removes relative to `before` (the canonical JSON of each key's value before
 * the hook ran): the answer to replay.
 */
export function configChanges(before: ReadonlyMap<string, string>, after: Record<string, unknown>): Pick<ReplayAnswer, 'set' | 'removed'> | undefined {
  try {
    const set: Array<[string, unknown]> = [];
    for (const key of Object.keys(after)) {
      if (after[key] === undefined) continue;
      let text: string;
      try {
        text = canonicalJson(after[key]);
      } catch (error) {
        // Not a setting and not one before either (configSnapshot): pnpm's own objects, left as they were.
        if (error instanceof NotData && !before.has(key)) continue;
        throw error;
      }
      if (before.get(key) !== text) set.push([key, JSON.parse(JSON.stringify(after[key])) as unknown]);
    }
    const removed = [...before.keys()].filter((key) => after[key] === undefined);
    return { set, removed };
  } catch {
    return undefined;
  }
}

/**
 * Each top-level key's value as canonical JSON, taken before the hook changes the configuration in place. A key whose
 * value is not data is not a setting (pnpm 10 hands over its hooks and its log stream): it is left out, as the engine
 * reads none.
 */
export function configSnapshot(config: Record<string, unknown>): Map<string, string> | undefined {
  try {
    const out = new Map<string, string>();
    for (const key of Object.keys(config)) {
      if (config[key] === undefined) continue;
      try {
        out.set(key, canonicalJson(config[key]));
      } catch (error) {
        if (!(error instanceof NotData)) throw error;
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * What each file still holds, as it is to be kept from now on (file-state.ts `stillHeld`: bytes a stat can now vouch for
 * become a stamp); undefined when one does not hold what its state says.
 */
function stillHeldAll(files: ReadonlyArray<[string, FileState]>, now: number): Array<[string, FileState]> | undefined {
  const out: Array<[string, FileState]> = [];
  for (const [path, state] of files) {
    const held = stillHeld(path, state, now);
    if (held === undefined) return undefined;
    out.push([path, held]);
  }
  return out;
}

/** Writes `record` with the states of `files` (bytes as its blobs) under `name`. */
function writeRecord(name: string, env: NodeJS.ProcessEnv, record: Omit<ReplayRecord, 'files'>, files: ReadonlyArray<[string, FileState]>, now: number): boolean {
  const blobs = files.flatMap(([, state]) => (state === null || typeof state === 'string' ? [] : [state]));
  if (record.question.length + blobs.reduce((n, b) => n + b.byteLength, 0) > MAX_RECORD_BYTES / 2) return false;
  const header: ReplayRecord = { ...record, files: files.map(([path, state]) => [path, typeof state === 'string' ? state : state !== null]) };
  writeStateFile(location(name, env), FOLDER, header, blobs, REPLAY_FOR_MS, now);
  return true;
}

/**
 * updateConfig (engine), after answering `question` (questionOf, taken before it decided) with `answer`, decided from
 * `files` (their states before it decided, which must still hold): leaves the record. Best effort: no record only costs
 * the next install the engine.
 */
export function recordUpdateConfig(question: AskedQuestion, env: NodeJS.ProcessEnv, files: Array<[string, FileState]>, advisories: AdvisorySourcesState | null, answer: ReplayAnswer, now: number = Date.now()): boolean {
  try {
    if (answer.said.length > MAX_TEXT || answer.noticed.length > MAX_NOTICED || files.length > MAX_FILES || new Set(files.map(([path]) => path)).size !== files.length) return false;
    // The lockfile judged must be one of the files, in the state judged.
    const judged = files.find(([path]) => path === answer.lockfile)?.[1];
    if (judged === undefined || judged === null || !sameState(judged, answer.judged)) return false;
    // A file that changed while updateConfig decided: its answer is not the answer to the bytes there now. (Kept as the
    // states taken before deciding: a stamp taken now would vouch for bytes nobody compared with those decided on.)
    if (stillHeldAll(files, now) === undefined || !advisoriesUnchanged(advisories)) return false;
    const { judged: _judged, ...rest } = answer;
    return writeRecord(question.name, env, { ...rest, question: question.text, advisories, at: now }, files, now);
  } catch {
    return false;
  }
}

function isRecord(value: unknown): value is ReplayRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  const text = (x: unknown, max = 4096): x is string => typeof x === 'string' && x.length <= max;
  const advisories = r.advisories === null ? null : typeof r.advisories === 'object' && !Array.isArray(r.advisories) ? (r.advisories as Record<string, unknown>) : undefined;
  return (
    advisories !== undefined &&
    text(r.question, MAX_RECORD_BYTES) &&
    Array.isArray(r.files) &&
    r.files.length <= MAX_FILES &&
    r.files.every((f) => Array.isArray(f) && f.length === 2 && text(f[0]) && isAbsolute(f[0]) && (typeof f[1] === 'boolean' || text(f[1], 256))) &&
    (advisories === null || (Array.isArray(advisories.sources) && advisories.sources.every((x) => text(x) && isAbsolute(x)) && text(advisories.format, 256) && text(advisories.key, 256))) &&
    Array.isArray(r.set) &&
    r.set.every((e) => Array.isArray(e) && e.length === 2 && text(e[0], 256) && !UNSAFE_KEYS.has(e[0])) &&
    Array.isArray(r.removed) &&
    r.removed.every((k) => text(k, 256) && !UNSAFE_KEYS.has(k)) &&
    text(r.said, MAX_TEXT) &&
    text(r.lockfile) &&
    isAbsolute(r.lockfile) &&
    Array.isArray(r.noticed) &&
    r.noticed.length <= MAX_NOTICED &&
    r.noticed.every((n) => text(n, 1024)) &&
    typeof r.at === 'number' &&
    Number.isFinite(r.at)
  );
}

/**
 * The loader, in pnpm 12's updateConfig worker: the answer updateConfig gave this very question, if a record of it is
 * there, is not older than an hour, and every file it was decided from still has the same bytes (the same settled stamp,
 * or the same bytes kept; the lockfile's among them). Undefined otherwise: the engine decides. Files kept as bytes that a
 * stat can now vouch for (unchanged for a few seconds) are kept as their stamps from then on: the record is written again
 * once, with the same answer and age, and later replays (and the token) check them by a stat.
 */
export function replayUpdateConfig(question: ReplayQuestion, now: number = Date.now()): ReplayAnswer | undefined {
  try {
    const asked = questionOf(question);
    const stored = asked === undefined ? undefined : readStateFile(location(asked.name, question.env), FOLDER, MAX_RECORD_BYTES);
    if (stored === undefined) return undefined;
    const record = stored.header;
    if (!isRecord(record) || record.question !== asked!.text) return undefined;
    if (now - record.at < 0 || now - record.at >= REPLAY_FOR_MS) return undefined;
    if (stored.blobs.length !== record.files.filter(([, state]) => state === true).length) return undefined;
    let blob = 0;
    const kept = record.files.map(([path, state]): [string, FileState] => [path, typeof state === 'string' ? state : state ? stored.blobs[blob++]! : null]);
    const held = stillHeldAll(kept, now);
    if (held === undefined) return undefined;
    const lockfile = held.find(([path]) => path === record.lockfile)?.[1];
    if (lockfile === undefined || lockfile === null || !advisoriesUnchanged(record.advisories)) return undefined;
    if (held.some(([, state], i) => state !== kept[i]![1])) {
      try {
        writeRecord(asked!.name, question.env, record, held, now);
      } catch {
        // Not written: the next replay compares the bytes again.
      }
    }
    return { set: record.set, removed: record.removed, said: record.said, lockfile: record.lockfile, judged: lockfile, noticed: record.noticed };
  } catch {
    // No record (the first install of these inputs), or unreadable: the engine decides.
    return undefined;
  }
}

/** pnpm 10 and 11, whose hooks run in pnpm's own process: that process, its command line from the script on. */
export function thisPnpmProcess(): PnpmProcess {
  return { pid: process.pid, startTime: undefined, argv: process.argv.slice(1) };
}

/**
 * Where two answers change the configuration differently: each key set to another value, or removed by one only, and for
 * a map (`allowBuilds`) the entries that differ — `allowBuilds (evil-postinstall, native-addon)`. Empty when they are
 * alike (the same keys set to the same values, the same keys removed, in any order).
 */
export function changesDiffer(a: Pick<ReplayAnswer, 'set' | 'removed'>, b: Pick<ReplayAnswer, 'set' | 'removed'>): string[] {
  try {
    const valuesOf = (x: Pick<ReplayAnswer, 'set' | 'removed'>) => {
      const values = new Map<string, unknown>(x.set);
      for (const key of x.removed) values.set(key, undefined);
      return values;
    };
    const [x, y] = [valuesOf(a), valuesOf(b)];
    const what = (values: Map<string, unknown>, key: string) => (!values.has(key) ? 'unchanged' : values.get(key) === undefined ? 'removed' : canonicalJson(values.get(key)));
    const entry = (map: Record<string, unknown>, e: string) => (Object.hasOwn(map, e) ? canonicalJson(map[e]) : 'absent');
    const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    const out: string[] = [];
    for (const key of [...new Set([...x.keys(), ...y.keys()])].sort()) {
      if (what(x, key) === what(y, key)) continue;
      const [u, v] = [x.get(key), y.get(key)];
      if (!isMap(u) || !isMap(v)) {
        out.push(key);
        continue;
      }
      const entries = [...new Set([...Object.keys(u), ...Object.keys(v)])].filter((e) => entry(u, e) !== entry(v, e)).sort();
      out.push(`${key} (${entries.slice(0, 10).join(', ')}${entries.length > 10 ? `, and ${entries.length - 10} more` : ''})`);
    }
    return out;
  } catch {
    return ['the configuration (not comparable)'];
  }
}

/** Whether two answers change the configuration alike (changesDiffer finds nothing). */
export function sameChanges(a: Pick<ReplayAnswer, 'set' | 'removed'>, b: Pick<ReplayAnswer, 'set' | 'removed'>): boolean {
  return changesDiffer(a, b).length === 0;
}

/** The configuration pnpm handed over, made again from its snapshot (configSnapshot): what the engine decides again from. */
export function configFromSnapshot(snapshot: ReadonlyMap<string, string>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of snapshot) if (!UNSAFE_KEYS.has(key)) config[key] = JSON.parse(value) as unknown;
  return config;
}

/** Applies a replayed answer to the configuration pnpm handed over, as updateConfig would have changed it. */
export function applyAnswer(config: Record<string, unknown>, answer: Pick<ReplayAnswer, 'set' | 'removed'>): Record<string, unknown> {
  for (const [key, value] of answer.set) if (!UNSAFE_KEYS.has(key)) config[key] = value;
  for (const key of answer.removed) if (!UNSAFE_KEYS.has(key)) delete config[key];
  return config;
}

/** A content hash of the engine's sources, defined by build.mjs in the engine and in the loader alike (undefined in tests). */
declare const PORTCULLIS_ENGINE_ID: string | undefined;
export const engineBuild = (): string | undefined => (typeof PORTCULLIS_ENGINE_ID === 'string' ? PORTCULLIS_ENGINE_ID : undefined);
