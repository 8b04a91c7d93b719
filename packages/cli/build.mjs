// Bundles the CLI into one self-contained file with zero runtime dependencies.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/portcullis.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __portcullisCreateRequire } from "node:module"; const require = __portcullisCreateRequire(import.meta.url);' },
  define: { PORTCULLIS_VERSION: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(new URL('../core/schema.json', import.meta.url), new URL('./dist/schema.json', import.meta.url));
