// Bundles the pnpmfile into one CommonJS file with Node built-ins only, and copies it to the package
// root, where pnpm loads it from a config dependency named `@scope/pnpm-plugin-*`.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
// The engine's identity: a hash of every source file that goes into the bundle (remembered verdicts are kept per build).
const probe = await build({ entryPoints: ['src/pnpmfile.ts'], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, metafile: true, logLevel: 'silent' });
const engine = createHash('sha256');
for (const input of Object.keys(probe.metafile.inputs).sort()) engine.update(`${input}\0`).update(readFileSync(input)).update('\0');
await build({
  define: { PORTCULLIS_ENGINE_ID: JSON.stringify(engine.digest('hex').slice(0, 32)) },
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
