// Bundles the demo into one file that plain node runs (the sources are TypeScript).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/demo.ts'],
  outfile: 'dist/demo.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  logLevel: 'warning',
});
