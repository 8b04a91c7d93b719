// Bundles portcullis-npm into one self-contained CommonJS file (Node built-ins only at run time): a small loader
// (src/bin.ts), then the engine's source (src/main.ts and everything it imports), compressed, as line comments (core's
// embedded.ts), compiled by the loader with a V8 code cache. dist/package.json marks the folder CommonJS: the
// package is an ES module package, and Node's ES module loader costs every start more (a copy in an ES module folder
// still runs: core's eitherModuleType).
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
const common = { write: false, bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };
const define = { PORTCULLIS_VERSION: JSON.stringify(version) };
const { eitherModuleType, embedSections, textHash } = await import(`data:text/javascript,${encodeURIComponent((await build({ ...common, entryPoints: ['../core/src/cache/embedded.ts'], format: 'esm' })).outputFiles[0].text)}`);
// The packages the engine only sometimes needs are loaded on first use (core's cache/lazy-modules.ts).
const { ENGINE_MINIFY, lazyEngine, lazyLoader, minifiedEngine } = await import(`data:text/javascript,${encodeURIComponent((await build({ ...common, entryPoints: ['../core/src/cache/lazy-modules.ts'], format: 'esm' })).outputFiles[0].text)}`);
// The engine's identity: a hash of every source file that goes into the bundle (remembered verdicts are kept per build).
const probe = await build({ ...common, entryPoints: ['src/main.ts'], metafile: true, logLevel: 'silent', define });
const engine = createHash('sha256').update(`${version}\0`);
for (const input of Object.keys(probe.metafile.inputs).sort()) engine.update(`${input}\0`).update(readFileSync(input)).update('\0');
const built = await build({ ...common, entryPoints: ['src/main.ts'], define: { ...define, PORTCULLIS_ENGINE_ID: JSON.stringify(engine.digest('hex').slice(0, 32)) } });
// Minified: a process without the kept copy and its code cache unpacks, hashes and compiles all of it (lazy-modules.ts).
// PORTCULLIS_UNMINIFIED_ENGINES=1 builds them readable, for a profile that names functions (docs/development.md).
const minify = process.env.PORTCULLIS_UNMINIFIED_ENGINES === '1' ? async (text) => text : async (text) => (await transform(text, ENGINE_MINIFY)).code;
const engineSource = await minifiedEngine(lazyEngine(built.outputFiles[0].text), minify);
const MARKER = '//# portcullis-npm-engine (read by the loader above; do not edit)';
const loader = await build({
  ...common,
  entryPoints: ['src/bin.ts'],
  define: { PORTCULLIS_ENGINE_MARKER: JSON.stringify(MARKER), PORTCULLIS_ENGINE_HASH: JSON.stringify(textHash(engineSource)) },
});
const text = embedSections(eitherModuleType(lazyLoader(loader.outputFiles[0].text)), [[MARKER, engineSource]]);
writeFileSync(new URL('./dist/package.json', import.meta.url), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
writeFileSync(new URL('./dist/portcullis-npm.js', import.meta.url), text);
chmodSync(new URL('./dist/portcullis-npm.js', import.meta.url), 0o755);
