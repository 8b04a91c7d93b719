// Bundles the standalone registry process into dist/serve.js (Node built-ins only at run time).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/serve.ts'],
  outfile: 'dist/serve.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
