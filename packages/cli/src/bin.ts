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
import { runEmbeddedMain, textHash } from '@portcullis/core/loader';

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
