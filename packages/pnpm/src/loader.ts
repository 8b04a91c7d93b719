/**
 * The pnpmfile pnpm loads: a small loader around the engine (pnpmfile.ts, bundled by build.mjs and embedded
 * here as its source text). pnpm 12 starts a fresh Node worker for its hooks — two on a warm install — and
 * compiling the engine was most of what loading it cost there: the loader compiles it with the V8 code cache
 * the previous worker left (core's cache/code-cache.ts: authenticated with this user's memo secret, else not
 * used), and leaves one for the next worker once a hook has run (so the functions the hooks needed are in it).
 */
import { Script } from 'node:vm';
import { readCodeCache, writeCodeCache } from '@portcullis/core/code-cache';

/** The engine bundle's source and its hash, defined by build.mjs. */
declare const PORTCULLIS_ENGINE_SOURCE: string;
declare const PORTCULLIS_ENGINE_HASH: string;

type Hooks = Record<string, (...args: unknown[]) => unknown>;

function loadEngine(): { hooks: Hooks } {
  const cachedData = readCodeCache(PORTCULLIS_ENGINE_HASH);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${PORTCULLIS_ENGINE_SOURCE}\n})`, {
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

export const hooks = loadEngine().hooks;
