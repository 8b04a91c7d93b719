// Bundles the pnpmfile into one CommonJS file with Node built-ins only, and copies it to the package
// root, where pnpm loads it from a config dependency named `@scope/pnpm-plugin-*`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
await build({
  entryPoints: ['src/pnpmfile.ts'],
  outfile: 'dist/pnpmfile.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(new URL('./dist/pnpmfile.cjs', import.meta.url), new URL('./pnpmfile.cjs', import.meta.url));
