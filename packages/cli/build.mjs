// Bundles the CLI into one self-contained CommonJS file with zero runtime dependencies: a small loader (src/bin.ts),
// then, compressed, as line comments (core's cache/embedded.ts), the engine's source (src/main.ts and everything it imports) and the
// files `init` writes (the pnpmfile, the Yarn plugin). dist/package.json marks the folder CommonJS: the package is
// an ES module package, and Node's ES module loader costs every start more (a copy in an ES module folder still runs:
// core's eitherModuleType).
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const common = { write: false, bundle: true, platform: 'node', target: 'node20', format: 'cjs', legalComments: 'none', logLevel: 'warning' };
const { eitherModuleType, embedSections, textHash } = await import(`data:text/javascript,${encodeURIComponent((await build({ ...common, entryPoints: ['../core/src/cache/embedded.ts'], format: 'esm' })).outputFiles[0].text)}`);
// The packages the engine only sometimes needs are loaded on first use (core's cache/lazy-modules.ts).
const { ENGINE_MINIFY, lazyEngine, lazyLoader, minifiedEngine } = await import(`data:text/javascript,${encodeURIComponent((await build({ ...common, entryPoints: ['../core/src/cache/lazy-modules.ts'], format: 'esm' })).outputFiles[0].text)}`);
// `portcullis init pnpm` writes the pnpm adapter's bundle, `init yarn` the Yarn plugin (turbo builds both first:
// dependencies); this CLI carries both, so it stays one file.
const pnpmfile = readFileSync(new URL('../pnpm/dist/pnpmfile.cjs', import.meta.url), 'utf8');
const yarnPluginFile = new URL('../yarn-plugin/bundles/@yarnpkg/plugin-portcullis.js', import.meta.url);
if (!existsSync(yarnPluginFile)) throw new Error('build the Yarn plugin first (packages/yarn-plugin: builder build plugin)');
const yarnPlugin = readFileSync(yarnPluginFile, 'utf8');
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
const TEXTS = {
  pnpmfile: { marker: '//# portcullis-cli-text pnpmfile (the .pnpmfile.cjs `portcullis init pnpm` writes; do not edit)', text: pnpmfile },
  'yarn-plugin': { marker: '//# portcullis-cli-text yarn-plugin (the plugin `portcullis init yarn` writes; do not edit)', text: yarnPlugin },
};
// The build's identity: a hash of every source file that goes into the bundle, and of the texts it carries (a
// remembered check report is used by this build only).
const probe = await build({ ...common, entryPoints: ['src/main.ts'], metafile: true, logLevel: 'silent' });
const engineId = createHash('sha256');
for (const input of Object.keys(probe.metafile.inputs).sort()) engineId.update(`${input}\0`).update(readFileSync(input)).update('\0');
engineId.update(version).update('\0').update(pnpmfile).update('\0').update(yarnPlugin);
const built = await build({
  ...common,
  entryPoints: ['src/main.ts'],
  define: {
    PORTCULLIS_VERSION: JSON.stringify(version),
    PORTCULLIS_ENGINE_ID: JSON.stringify(engineId.digest('hex').slice(0, 32)),
    PORTCULLIS_TEXTS: JSON.stringify(Object.fromEntries(Object.entries(TEXTS).map(([name, { marker, text }]) => [name, { marker, hash: textHash(text) }]))),
  },
});
// Minified: a process without the kept copy and its code cache unpacks, hashes and compiles all of it (lazy-modules.ts).
// PORTCULLIS_UNMINIFIED_ENGINES=1 builds them readable, for a profile that names functions (docs/development.md).
const minify = process.env.PORTCULLIS_UNMINIFIED_ENGINES === '1' ? async (text) => text : async (text) => (await transform(text, ENGINE_MINIFY)).code;
const engineSource = await minifiedEngine(lazyEngine(built.outputFiles[0].text), minify);
const MARKER = '//# portcullis-cli-engine (read by the loader above; do not edit)';
const loader = await build({
  ...common,
  entryPoints: ['src/bin.ts'],
  define: { PORTCULLIS_ENGINE_MARKER: JSON.stringify(MARKER), PORTCULLIS_ENGINE_HASH: JSON.stringify(textHash(engineSource)) },
});
const sections = [[MARKER, engineSource], ...Object.values(TEXTS).map(({ marker, text }) => [marker, text])];
const file = embedSections(eitherModuleType(lazyLoader(loader.outputFiles[0].text)), sections);
writeFileSync(new URL('./dist/package.json', import.meta.url), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
writeFileSync(new URL('./dist/portcullis.js', import.meta.url), file);
chmodSync(new URL('./dist/portcullis.js', import.meta.url), 0o755);
copyFileSync(new URL('../core/schema.json', import.meta.url), new URL('./dist/schema.json', import.meta.url));
