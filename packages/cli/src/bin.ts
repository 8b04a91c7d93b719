/**
 * The portcullis executable: a small CommonJS loader around the engine (main.ts and everything it imports, bundled by
 * build.mjs and carried at the end of this file compressed, as line comments, core's cache/embedded.ts, with the files
 * `init` writes after it). What starting the CLI costs is paid by every `portcullis check` in CI:
 * - CommonJS, not an ES module (`dist/package.json` says so): Node's ES module loader cost ~55 ms more on this bundle;
 * - the engine and the texts are comments to Node: the loader takes the engine from the copy an earlier run kept
 *   (content-addressed) or from this file, runs it only when it has the hash build.mjs recorded, and compiles it with
 *   the V8 code cache an earlier run of the same command left (authenticated with this user's memo secret, else not
 *   used), leaving one when it had none, after the run, so that what the command compiled is in it.
 */
import { availableParallelism } from 'node:os';
import { runEmbeddedMain, textHash } from '@portcullis/core/loader';

/**
 * libuv's thread pool verifies a `check`'s signatures (one ECDSA verification each, thousands of them) while the main
 * thread reads and judges everything else, and the main thread is what a check waits for. The pool's default four
 * threads on a machine with fewer cores take the main thread's core from it again and again: `check` of 3,000
 * packages, nothing remembered, on 2 cores took ~500 ms with four threads and ~460 with one (docs/benchmarks.md,
 * "Thirty-fourth round"). So the pool gets one thread fewer than the cores, never more than libuv's default four.
 * Set before anything uses the pool (libuv reads the variable once, when the pool starts); the user's own setting is kept.
 */
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = String(Math.min(4, Math.max(1, availableParallelism() - 1)));

/** The engine's marker line and hash, defined by build.mjs. */
declare const PORTCULLIS_ENGINE_MARKER: string;
declare const PORTCULLIS_ENGINE_HASH: string;

/** Commands that keep a code cache of their own (each compiles other parts of the engine); anything else shares one. */
const OWN_CODE_CACHE = new Set(['check', 'approve', 'explain', 'init']);

const argv = process.argv.slice(2);
const command = OWN_CODE_CACHE.has(argv[0] ?? '') ? argv[0]! : '';
runEmbeddedMain(
  {
    file: __filename,
    marker: PORTCULLIS_ENGINE_MARKER,
    hash: PORTCULLIS_ENGINE_HASH,
    codeCacheKey: textHash(`${PORTCULLIS_ENGINE_HASH}\0${command}`),
    require,
    damaged: `${__filename} is damaged (its engine does not match its loader): install @portcullis/cli again`,
  },
  'portcullis',
  argv,
);
