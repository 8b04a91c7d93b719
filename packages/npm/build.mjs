// Bundles portcullis-npm into one self-contained file (Node built-ins only at run time).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
// The engine's identity: a hash of every source file that goes into the bundle (remembered verdicts are kept per build).
const probe = await build({ entryPoints: ['src/bin.ts'], write: false, bundle: true, platform: 'node', target: 'node20', format: 'esm', metafile: true, logLevel: 'silent', define: { PORTCULLIS_VERSION: JSON.stringify(version) } });
const engine = createHash('sha256').update(`${version}\0`);
for (const input of Object.keys(probe.metafile.inputs).sort()) engine.update(`${input}\0`).update(readFileSync(input)).update('\0');
await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/portcullis-npm.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __portcullisCreateRequire } from "node:module"; const require = __portcullisCreateRequire(import.meta.url);' },
  define: { PORTCULLIS_VERSION: JSON.stringify(version), PORTCULLIS_ENGINE_ID: JSON.stringify(engine.digest('hex').slice(0, 32)) },
  legalComments: 'none',
  logLevel: 'warning',
});
chmodSync(new URL('./dist/portcullis-npm.js', import.meta.url), 0o755);
