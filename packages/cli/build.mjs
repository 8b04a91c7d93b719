// Bundles the CLI into one self-contained file with zero runtime dependencies.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// `portcullis init pnpm` writes the pnpm adapter's bundle; inline it so this CLI stays one file.
const pnpmfile = readFileSync(new URL('../pnpm/dist/pnpmfile.cjs', import.meta.url), 'utf8');
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
// `portcullis init yarn` writes the Yarn plugin bundle, inlined as text (turbo builds yarn-plugin first: a dependency).
const yarnPlugin = new URL('../yarn-plugin/bundles/@yarnpkg/plugin-portcullis.js', import.meta.url);
if (!existsSync(yarnPlugin)) throw new Error('build the Yarn plugin first (packages/yarn-plugin: builder build plugin)');
// The build's identity: a hash of every source file that goes into the bundle, and of the texts inlined into it
// (a remembered check report is used by this build only).
const probe = await build({ entryPoints: ['src/bin.ts'], bundle: true, platform: 'node', target: 'node20', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
const engine = createHash('sha256');
for (const input of Object.keys(probe.metafile.inputs).sort()) engine.update(`${input}\0`).update(readFileSync(input)).update('\0');
engine.update(version).update('\0').update(pnpmfile).update('\0').update(readFileSync(yarnPlugin));
await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/portcullis.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __portcullisCreateRequire } from "node:module"; const require = __portcullisCreateRequire(import.meta.url);' },
  define: { PORTCULLIS_VERSION: JSON.stringify(version), PORTCULLIS_ENGINE_ID: JSON.stringify(engine.digest('hex').slice(0, 32)), PORTCULLIS_PNPMFILE: JSON.stringify(pnpmfile), PORTCULLIS_YARN_PLUGIN: JSON.stringify(readFileSync(yarnPlugin, 'utf8')) },
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(new URL('../core/schema.json', import.meta.url), new URL('./dist/schema.json', import.meta.url));
