/**
 * The pnpmfile pnpm loads: a small loader around the engine (pnpmfile.ts, bundled by build.mjs and appended to
 * this file after a marker line, brotli-compressed, in base64 lines behind `//`). pnpm 12 starts a fresh Node worker
 * for its hooks — two on every install — so loading the pnpmfile is paid twice:
 * - the engine is a comment to Node: compiling this file only skims it (as a string literal, V8 had to scan and
 *   allocate its 860 KB in every worker: a median 39 → 14 ms for the file's compile, measured on this machine), and
 *   compressed there is a quarter as much to read and skim (requiring the file: 4.2–4.6 → 2.0–2.1 ms);
 * - the loader reads it back from its own file, checks it against the hash build.mjs recorded (a file changed or
 *   cut short stops pnpm instead of running something else), and compiles it with the V8 code cache the previous
 *   worker left (core's cache/code-cache.ts: authenticated with this user's memo secret, else not used), leaving
 *   one for the next worker once a hook has run (so the functions the hooks needed are in it);
 * - pnpm 12's second worker, when updateConfig of the same pnpm process already judged the lockfile (early.ts: a
 *   verified token, the same bytes still on disk), has nothing to do on an install from that lockfile but be handed
 *   the project's own manifest: there the loader declares the three hooks and loads the engine only when one of
 *   them has something to judge (a dependency's manifest, a resolved graph).
 * pnpm 10 and 11 load the pnpmfile once, in their own process. There too the engine loads when a hook is first called,
 * and updateConfig asked a question already answered (replay.ts) is answered from its record: an install with nothing
 * to do on pnpm 11, or a command that installs nothing (`pnpm run`), then never loads the engine.
 */
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { loadEmbeddedEngine } from '@portcullis/core/loader';
import { pnpmAncestor, type PnpmProcess } from './ancestor.js';
import { leaveLockfileJudged, lockfileJudgedFirst } from './early.js';
import { applyAnswer, changesDiffer, configFromSnapshot, configChanges, configSnapshot, engineBuild, replayRecordsFolder, replayUpdateConfig, thisPnpmProcess, type ReplayAnswer } from './replay.js';
import { recordDiffersError } from './pnpm-error.js';
import { ENGINE_MARKER } from './embed.js';
import { hooksFollowUpdateConfig, pnpmMajor } from './quirks.js';
import { inPnpm12HookWorker, mayBeWorkerThread } from './worker-kind.js';

/** The engine bundle's hash, defined by build.mjs. */
declare const PORTCULLIS_ENGINE_HASH: string;

type Hooks = Record<string, (...args: unknown[]) => unknown>;

/**
 * `text` on stderr, written to its file descriptor at once: the first use of `process.stderr` sets up its stream,
 * 1.7–3 ms in a fresh Node on this machine (~0.5 ms measured in pnpm 12's worker) against ~0.1 for the write itself.
 * What a busy pipe does not take at once goes through the stream.
 */
function say(text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  try {
    for (let n = 1; n > 0 && at < bytes.length; at += n) n = writeSync(2, bytes, at, bytes.length - at);
  } catch {
    // EAGAIN from a full non-blocking pipe: the stream waits for it.
  }
  if (at < bytes.length) process.stderr.write(bytes.subarray(at));
}

/** The engine, from the copy an earlier worker kept or from the end of this file; Error when this file does not carry it. */
function loadEngine(): { hooks: Hooks } {
  const engine = loadEmbeddedEngine<{ hooks: Hooks }>({
    file: __filename,
    marker: ENGINE_MARKER,
    hash: PORTCULLIS_ENGINE_HASH,
    require,
    damaged: `portcullis: ${__filename} is damaged (its engine does not match the loader): run \`portcullis init pnpm\` again`,
  });
  // The code cache is left after the first hook call, when what the hooks run has been compiled too, and after pnpm has
  // its answer: writing it (~5 ms) delayed the answer pnpm waits on. pnpm ends the first worker within milliseconds of
  // updateConfig's answer (measured: alive at the next event-loop turn, gone 20 ms later); a cache not written then
  // is written by the next worker that compiles the engine (the file is written whole or not at all).
  const keepLater = () => void setImmediate(engine.keepCodeCache);
  const hooks: Hooks = {};
  for (const [name, hook] of Object.entries(engine.exports.hooks)) {
    hooks[name] = function (this: unknown, ...args: unknown[]) {
      const result = hook.apply(this, args);
      if (result instanceof Promise) result.then(keepLater, keepLater);
      else keepLater();
      return result;
    };
  }
  return { ...engine.exports, hooks };
}

/** The hooks the engine declares when no token says the lockfile was judged (hooks.ts `pnpmfileHooks`; loader.test.ts). */
const ALL_HOOKS = ['updateConfig', 'preResolution', 'readPackage', 'afterAllResolved'] as const;

/** updateConfig answered from a record (replay.ts), and what it was asked. */
interface Replayed {
  asked: ReadonlyMap<string, string>;
  answer: ReplayAnswer;
}

/**
 * The answer updateConfig gave this very question, from its record (replay.ts), what it said said again; undefined when
 * there is no such record: the engine decides. The caller applies it to the configuration.
 */
function replayedAnswer(config: unknown, pnpm: PnpmProcess): Replayed | undefined {
  const engine = engineBuild();
  if (engine === undefined || typeof config !== 'object' || config === null || Array.isArray(config)) return undefined;
  const asked = configSnapshot(config as Record<string, unknown>);
  if (asked === undefined) return undefined;
  const answer = replayUpdateConfig({ engine, pnpmfile: __filename, pnpm, config: asked, env: process.env, cwd: process.cwd() });
  if (answer === undefined) return undefined;
  if (answer.said !== '') say(answer.said);
  // Profiling only (the variable is part of the question like every other): which path answered.
  if (process.env.PORTCULLIS_TIMING) process.stderr.write('portcullis: updateConfig replayed\n');
  return { asked, answer };
}

/**
 * pnpm 12's updateConfig answered from a record: the token for the second worker left as updateConfig would leave it,
 * the configuration changed as it changed it.
 */
function replayed(config: unknown, pnpm: PnpmProcess): Record<string, unknown> | undefined {
  const found = replayedAnswer(config, pnpm);
  if (found === undefined) return undefined;
  const { answer } = found;
  // Without the token the second worker declares preResolution and judges the lockfile again: still correct.
  leaveLockfileJudged(__filename, pnpm, answer.lockfile, answer.judged, answer.noticed);
  return applyAnswer(config as Record<string, unknown>, answer);
}

/** pnpm 10 and 11: the record's answer to `config`, or undefined (the engine decides; also when pnpm 10 calls another hook next anyway). */
function replayedHere(config: unknown): Replayed | undefined {
  const pnpm = thisPnpmProcess();
  if (typeof config !== 'object' || config === null || hooksFollowUpdateConfig(pnpmMajor(config as Record<string, unknown>), pnpm.argv.slice(1))) return undefined;
  return replayedAnswer(config, pnpm);
}

/**
 * pnpm 10 and 11, a hook called after updateConfig was replayed: the engine decides updateConfig again from what pnpm
 * handed over (the hooks need the project it opens and what it denied), and its answer must be the one pnpm was given.
 * If not (a file or a registry answer changed since, in a way the record does not see), the install stops: the
 * engine's decision has replaced the record, and the next run gets it.
 */
async function decidedAgain(replayed: Replayed): Promise<Hooks> {
  const hooks = loadEngine().hooks;
  const config = configFromSnapshot(replayed.asked);
  const decided = await hooks.updateConfig!(config);
  const changes = configChanges(replayed.asked, (decided ?? config) as Record<string, unknown>);
  const differ = changes === undefined ? ['the configuration (not comparable)'] : changesDiffer(changes, replayed.answer);
  if (differ.length > 0) throw recordDiffersError(differ, replayRecordsFolder(process.env));
  return hooks;
}

/**
 * pnpm 10 and 11 (hooks in pnpm's own process): the engine's four hooks, the engine loaded when one is called; updateConfig
 * first replayed if this very question was answered before and nothing it was answered from changed (replay.ts).
 */
function inProcessHooks(): Hooks {
  let engine: Hooks | undefined;
  let replayed: Replayed | undefined;
  let again: Promise<Hooks> | undefined;
  const engineHooks = (): Hooks | Promise<Hooks> => {
    if (engine !== undefined) return engine;
    if (replayed === undefined) return (engine = loadEngine().hooks);
    return (again ??= decidedAgain(replayed).then((hooks) => (engine = hooks)));
  };
  const hook = (name: string) =>
    function (this: unknown, ...args: unknown[]) {
      const hooks = engineHooks();
      return hooks instanceof Promise ? hooks.then((h) => h[name]!.apply(this, args)) : hooks[name]!.apply(this, args);
    };
  const hooks: Hooks = Object.fromEntries(ALL_HOOKS.map((name) => [name, hook(name)]));
  const updateConfig = hooks.updateConfig!;
  hooks.updateConfig = function (this: unknown, config: unknown) {
    if (engine === undefined && replayed === undefined) {
      replayed = replayedHere(config);
      if (replayed !== undefined) return Promise.resolve(applyAnswer(config as Record<string, unknown>, replayed.answer));
    }
    return updateConfig.call(this, config);
  };
  return hooks;
}

/**
 * The hooks pnpm is given. In a pnpm 12 worker (pnpm 10 and 11 run hooks in their own process: inProcessHooks):
 * - with the lockfile already judged by updateConfig of the same pnpm process: no preResolution (as the engine would
 *   declare, hooks.ts `pnpmfileHooks`), and a project's own manifest (no integrity: nothing to judge, nothing to
 *   prefetch) answered without loading the engine — the same answer the engine gives it there;
 * - with no lockfile, as updateConfig of the same pnpm process found and as is still so: the engine's hooks but
 *   preResolution;
 * - else the engine's four hooks, the engine loaded when one is called, and updateConfig first replayed if this very
 *   question was answered before and nothing it was answered from changed (replay.ts).
 */
function pnpmHooks(): Hooks {
  // This file started again as the hooks' judging thread (judge-worker.ts): the engine serves it.
  if (mayBeWorkerThread() && (workerData as { portcullisJudge?: unknown } | null)?.portcullisJudge === 1) return loadEngine().hooks;
  if (!inPnpm12HookWorker()) return inProcessHooks();
  const pnpm = pnpmAncestor(process.ppid);
  const found = lockfileJudgedFirst(__filename, pnpm);
  const judged = found?.absent === true ? undefined : found;
  let engine: Hooks | undefined;
  const hook = (name: string) =>
    function (this: unknown, ...args: unknown[]) {
      engine ??= loadEngine().hooks;
      return engine[name]!.apply(this, args);
    };
  if (judged === undefined) {
    // No lockfile, as updateConfig found (a fresh resolution): no preResolution either (hooks.ts pnpmfileHooks).
    const hooks: Hooks = Object.fromEntries(ALL_HOOKS.filter((name) => found === undefined || name !== 'preResolution').map((name) => [name, hook(name)]));
    const updateConfig = hooks.updateConfig!;
    hooks.updateConfig = function (this: unknown, config: unknown) {
      const answer = engine === undefined && pnpm !== undefined ? replayed(config, pnpm) : undefined;
      return answer !== undefined ? Promise.resolve(answer) : updateConfig.call(this, config);
    };
    return hooks;
  }
  const readPackage = hook('readPackage');
  return {
    updateConfig: hook('updateConfig'),
    readPackage(this: unknown, manifest: unknown) {
      const dist = typeof manifest === 'object' && manifest !== null ? (manifest as { dist?: { integrity?: unknown } }).dist : undefined;
      return engine === undefined && typeof dist?.integrity !== 'string' ? manifest : readPackage.call(this, manifest);
    },
    afterAllResolved: hook('afterAllResolved'),
  };
}

export const hooks = pnpmHooks();
