// Bundles the CLI into one self-contained file with zero runtime dependencies.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
// `portcullis init pnpm` writes the pnpm adapter's bundle; inline it so this CLI stays one file.
const pnpmfile = readFileSync(new URL('../pnpm/dist/pnpmfile.cjs', import.meta.url), 'utf8');
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
// `portcullis init yarn` writes the Yarn plugin bundle, inlined as text (turbo builds yarn-plugin first: a dependency).
const yarnPlugin = new URL('../yarn-plugin/bundles/@yarnpkg/plugin-portcullis.js', import.meta.url);
if (!existsSync(yarnPlugin)) throw new Error('build the Yarn plugin first (packages/yarn-plugin: builder build plugin)');
await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/portcullis.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __portcullisCreateRequire } from "node:module"; const require = __portcullisCreateRequire(import.meta.url);' },
  define: { PORTCULLIS_VERSION: JSON.stringify(version), PORTCULLIS_PNPMFILE: JSON.stringify(pnpmfile), PORTCULLIS_YARN_PLUGIN: JSON.stringify(readFileSync(yarnPlugin, 'utf8')) },
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(new URL('../core/schema.json', import.meta.url), new URL('./dist/schema.json', import.meta.url));
