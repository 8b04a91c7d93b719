// Bundles the pnpmfile into one CommonJS file with Node built-ins only (a small loader with the engine's
// source after it, compressed), and copies it to the package
// root, where pnpm loads it from a config dependency named `@scope/pnpm-plugin-*`.
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
/** One CommonJS bundle of Node built-ins only, kept in memory. */
const bundle = (entry, options) => build({ entryPoints: [entry], write: false, bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning', ...options });
// The engine's identity: a hash of every source file that goes into the bundle (remembered verdicts are kept per build).
const probe = await bundle('src/pnpmfile.ts', { metafile: true, logLevel: 'silent' });
const engine = createHash('sha256');
for (const input of Object.keys(probe.metafile.inputs).sort()) engine.update(`${input}\0`).update(readFileSync(input)).update('\0');
const engineId = JSON.stringify(engine.digest('hex').slice(0, 32));
const built = await bundle('src/pnpmfile.ts', { define: { PORTCULLIS_ENGINE_ID: engineId } });
// The pnpmfile is a small loader with the engine's source after it, compressed, as line comments (core's cache/embedded.ts,
// src/loader.ts; embedSections also checks that the file and the engine are ASCII and the engine comes back as it went in).
// The packages the engine only sometimes needs are loaded on first use (core's cache/lazy-modules.ts).
const { ENGINE_MINIFY, lazyEngine, lazyLoader, minifiedEngine } = await import(`data:text/javascript,${encodeURIComponent((await bundle('../core/src/cache/lazy-modules.ts', { format: 'esm' })).outputFiles[0].text)}`);
// Minified: a process without the kept copy and its code cache unpacks, hashes and compiles all of it (lazy-modules.ts).
// PORTCULLIS_UNMINIFIED_ENGINES=1 builds them readable, for a profile that names functions (docs/development.md).
const minify = process.env.PORTCULLIS_UNMINIFIED_ENGINES === '1' ? async (text) => text : async (text) => (await transform(text, ENGINE_MINIFY)).code;
const engineSource = await minifiedEngine(lazyEngine(built.outputFiles[0].text), minify);
const { ENGINE_MARKER } = await import(`data:text/javascript,${encodeURIComponent((await bundle('src/embed.ts', { format: 'esm' })).outputFiles[0].text)}`);
const { embedSections, textHash } = await import(`data:text/javascript,${encodeURIComponent((await bundle('../core/src/cache/embedded.ts', { format: 'esm' })).outputFiles[0].text)}`);
const loader = await bundle('src/loader.ts', {
  // The engine's identity too: the loader replays updateConfig's answers recorded by this engine only (src/replay.ts).
  define: { PORTCULLIS_ENGINE_HASH: JSON.stringify(textHash(engineSource)), PORTCULLIS_ENGINE_ID: engineId },
});
// The loader loads node:crypto, node:zlib and node:worker_threads only when it needs them (a repeated install replays and
// reads its token without them; only the judging thread of pnpm 10 and 11 needs the last, src/worker-kind.ts). Minified
// like the engine: each of pnpm 12's two hook workers compiles it on every install (measured, 20 rounds: each load
// ~0.15–0.23 ms shorter, 38 → 21 KB).
const text = embedSections(await minifiedEngine(lazyLoader(loader.outputFiles[0].text, ['node:worker_threads']), minify), [[ENGINE_MARKER, engineSource]]);
writeFileSync(new URL('./dist/pnpmfile.cjs', import.meta.url), text);
copyFileSync(new URL('./dist/pnpmfile.cjs', import.meta.url), new URL('./pnpmfile.cjs', import.meta.url));
