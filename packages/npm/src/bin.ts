/**
 * The portcullis-npm executable: a small loader around the engine (main.ts and everything it imports, bundled by
 * build.mjs and embedded here as its source text). Compiling the engine is a good part of what starting the wrapper
 * costs, on every npm command: the loader compiles it with the V8 code cache an earlier run left (core's
 * cache/code-cache.ts: authenticated with this user's memo secret, else not used), and leaves one when it had none
 * (after the run, so the functions the run needed are in it).
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { readCodeCache, writeCodeCache } from '@portcullis/core/loader';

/** The engine bundle's source and its hash, defined by build.mjs. */
declare const PORTCULLIS_ENGINE_SOURCE: string;
declare const PORTCULLIS_ENGINE_HASH: string;

type Engine = { main: (argv: string[]) => Promise<number> };

const filename = fileURLToPath(import.meta.url);
const cachedData = readCodeCache(PORTCULLIS_ENGINE_HASH);
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${PORTCULLIS_ENGINE_SOURCE}\n})`, {
  filename,
  ...(cachedData !== undefined ? { cachedData } : {}),
});
const engine = { exports: {} as Engine };
(script.runInThisContext() as (...args: unknown[]) => void).call(engine.exports, engine.exports, createRequire(filename), engine, filename, dirname(filename));
const compiled = cachedData === undefined || script.cachedDataRejected === true;

engine.exports
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`portcullis-npm: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 3;
    },
  )
  .finally(() => {
    if (compiled) writeCodeCache(PORTCULLIS_ENGINE_HASH, script.createCachedData());
  });
