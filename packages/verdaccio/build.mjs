// Bundles the plugin into one CommonJS file with Node built-ins only (core, semver included), and lays it out as
// a Verdaccio plugin folder: dist/verdaccio-portcullis/{package.json,index.js}, for Verdaccio's `plugins:` setting.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = new URL('./dist/verdaccio-portcullis/', import.meta.url);
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: fileURLToPath(new URL('.', import.meta.url)),
  entryPoints: ['src/index.ts'],
  outfile: 'dist/verdaccio-portcullis/index.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
});
writeFileSync(new URL('package.json', out), `${JSON.stringify({ name: 'verdaccio-portcullis', version: '0.1.0', main: 'index.js', license: 'MIT' }, null, 2)}\n`);
