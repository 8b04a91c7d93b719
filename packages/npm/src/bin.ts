/**
 * The portcullis-npm executable: a small CommonJS loader around the engine (main.ts and everything it imports,
 * bundled by build.mjs and carried at the end of this file compressed, as line comments, core's cache/embedded.ts). Starting the wrapper
 * is paid on every npm command, so it costs what little it can:
 * - CommonJS, not an ES module (`dist/package.json` says so): Node's ES module loader cost a start ~30 ms more here;
 * - the engine is a comment to Node (as a template literal, V8 scanned and allocated its ~900 KB on every start;
 *   compressed, every start reads and skims ~200 KB instead of ~950 KB): the
 *   loader takes it from the copy an earlier run kept (content-addressed) or from this file, runs it only when it has
 *   the hash build.mjs recorded, and compiles it with the V8 code cache an earlier run left (authenticated with this
 *   user's memo secret, else not used), leaving one when it had none (after the run, so what the run compiled is in it);
 * - it is also what an npm started early loads first, to wait for the wrapper's answer (hold.ts);
 * - a command that installs through such a held npm starts it here, before the engine loads (early-npm.ts).
 */
import { runEmbeddedMain } from '@portcullis/core/loader';
import { startNpmEarly } from './early-npm.js';
import { askBeforeInstalling } from './ask.js';
import { HOLD_ENV, waitForGo } from './hold.js';

/** The engine's marker line and hash, defined by build.mjs. */
declare const PORTCULLIS_ENGINE_MARKER: string;
declare const PORTCULLIS_ENGINE_HASH: string;

const held = process.env[HOLD_ENV];
if (held !== undefined) {
  // Loaded with `--require` into an npm the wrapper started early (hold.ts): wait for its answer, then let npm run,
  // asking before it installs what it resolved when the wrapper said so (ask.ts).
  const { ask } = waitForGo(held, __filename);
  if (ask !== undefined) askBeforeInstalling(ask);
} else {
  // The file an early npm loads to be held (hold.ts): this one, when Node runs it as CommonJS (`--require` needs that).
  const holdWith = typeof module === 'object' && module !== null ? __filename : undefined;
  const argv = process.argv.slice(2);
  // npm's own Node starts now, held, while the engine below loads and decides: it runs only if the gate lets it go.
  const early = startNpmEarly(argv, process.env, process.cwd(), holdWith);
  runEmbeddedMain(
    {
      file: __filename,
      marker: PORTCULLIS_ENGINE_MARKER,
      hash: PORTCULLIS_ENGINE_HASH,
      require,
      damaged: `${__filename} is damaged (its engine does not match its loader): install @portcullis/npm again`,
    },
    'portcullis-npm',
    argv,
    [process.env, process.cwd(), { holdWith, early }],
  );
}
