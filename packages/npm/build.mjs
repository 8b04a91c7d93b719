// Bundles portcullis-npm into one self-contained file (Node built-ins only at run time).
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/portcullis-npm.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __portcullisCreateRequire } from "node:module"; const require = __portcullisCreateRequire(import.meta.url);' },
  define: { PORTCULLIS_VERSION: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(new URL('./dist/portcullis-npm.js', import.meta.url), 0o755);
