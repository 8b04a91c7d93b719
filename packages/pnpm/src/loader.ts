/**
 * The pnpmfile pnpm loads: a small loader around the engine (pnpmfile.ts, bundled by build.mjs and appended to
 * this file after a marker line, each of its lines behind `//`, so it stays readable code). pnpm 12 starts a
 * fresh Node worker for its hooks — two on every install — so loading the pnpmfile is paid twice:
 * - the engine is a comment to Node: compiling this file only skims it (as a string literal, V8 had to scan and
 *   allocate its 860 KB in every worker: a median 39 → 14 ms for the file's compile, measured on this machine);
 * - the loader reads it back from its own file, checks it against the hash build.mjs recorded (a file changed or
 *   cut short stops pnpm instead of running something else), and compiles it with the V8 code cache the previous
 *   worker left (core's cache/code-cache.ts: authenticated with this user's memo secret, else not used), leaving
 *   one for the next worker once a hook has run (so the functions the hooks needed are in it);
 * - pnpm 12's second worker, when updateConfig of the same pnpm process already judged the lockfile (early.ts: a
 *   verified token, the same bytes still on disk), has nothing to do on an install from that lockfile but be handed
 *   the project's own manifest: there the loader declares the three hooks and loads the engine only when one of
 *   them has something to judge (a dependency's manifest, a resolved graph).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { readCodeCache, readEngineSource, writeCodeCache, writeEngineSource } from '@portcullis/core/code-cache';
import { pnpmAncestor } from './ancestor.js';
import { lockfileJudgedFirst } from './early.js';
import { engineFromPnpmfile } from './embed.js';

/** The engine bundle's hash, defined by build.mjs. */
declare const PORTCULLIS_ENGINE_HASH: string;

type Hooks = Record<string, (...args: unknown[]) => unknown>;

/**
 * The engine's source: the copy an earlier worker took out of this file (its bytes have the hash build.mjs
 * recorded), else from the end of this file, as build.mjs embedded it (Error when it is not that), then kept.
 */
function engineSource(): string {
  const kept = readEngineSource(PORTCULLIS_ENGINE_HASH);
  if (kept !== undefined) return kept;
  const source = engineFromPnpmfile(readFileSync(__filename, 'utf8'));
  if (source === undefined || createHash('sha256').update(source).digest('hex').slice(0, 32) !== PORTCULLIS_ENGINE_HASH) {
    throw new Error(`portcullis: ${__filename} is damaged (its engine does not match the loader): run \`portcullis init pnpm\` again`);
  }
  writeEngineSource(PORTCULLIS_ENGINE_HASH, source);
  return source;
}

function loadEngine(): { hooks: Hooks } {
  const cachedData = readCodeCache(PORTCULLIS_ENGINE_HASH);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${engineSource()}\n})`, {
    filename: __filename,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  const engine = { exports: {} as { hooks: Hooks } };
  (script.runInThisContext() as (...args: unknown[]) => void).call(engine.exports, engine.exports, require, engine, __filename, __dirname);
  if (cachedData !== undefined && !script.cachedDataRejected) return engine.exports;
  // No (usable) cache yet: write one after the first hook call, when what the hooks run has been compiled too.
  let saved = false;
  const save = () => {
    if (saved) return;
    saved = true;
    writeCodeCache(PORTCULLIS_ENGINE_HASH, script.createCachedData());
  };
  const hooks: Hooks = {};
  for (const [name, hook] of Object.entries(engine.exports.hooks)) {
    hooks[name] = function (this: unknown, ...args: unknown[]) {
      const result = hook.apply(this, args);
      if (result instanceof Promise) result.then(save, save);
      else save();
      return result;
    };
  }
  return { ...engine.exports, hooks };
}

/**
 * The hooks pnpm is given. In pnpm 12's second worker with the lockfile already judged: no preResolution (as the
 * engine would declare, hooks.ts `pnpmfileHooks`), and a project's own manifest (no integrity: nothing to judge,
 * nothing to prefetch) answered without loading the engine — the same answer the engine gives it there.
 */
function pnpmHooks(): Hooks {
  const judged = process.argv.length > 2 ? undefined : lockfileJudgedFirst(__filename, pnpmAncestor(process.ppid));
  if (judged === undefined) return loadEngine().hooks;
  let engine: Hooks | undefined;
  const hook = (name: string) =>
    function (this: unknown, ...args: unknown[]) {
      engine ??= loadEngine().hooks;
      return engine[name]!.apply(this, args);
    };
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
