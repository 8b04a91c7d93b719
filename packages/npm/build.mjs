// Bundles portcullis-npm into one self-contained file (Node built-ins only at run time): a small loader
// (src/bin.ts) with the engine's source inside it (src/main.ts and everything it imports), compiled with a
// V8 code cache.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
const common = { write: false, bundle: true, platform: 'node', target: 'node20', legalComments: 'none', logLevel: 'warning' };
const define = { PORTCULLIS_VERSION: JSON.stringify(version) };
// The engine's identity: a hash of every source file that goes into the bundle (remembered verdicts are kept per build).
const probe = await build({ ...common, entryPoints: ['src/main.ts'], format: 'cjs', metafile: true, logLevel: 'silent', define });
const engine = createHash('sha256').update(`${version}\0`);
for (const input of Object.keys(probe.metafile.inputs).sort()) engine.update(`${input}\0`).update(readFileSync(input)).update('\0');
const built = await build({ ...common, entryPoints: ['src/main.ts'], format: 'cjs', define: { ...define, PORTCULLIS_ENGINE_ID: JSON.stringify(engine.digest('hex').slice(0, 32)) } });
const engineSource = built.outputFiles[0].text;
const PLACEHOLDER = '"__PORTCULLIS_ENGINE_SOURCE__"';
const loader = await build({
  ...common,
  entryPoints: ['src/bin.ts'],
  format: 'esm',
  banner: { js: '#!/usr/bin/env node' },
  define: { PORTCULLIS_ENGINE_SOURCE: PLACEHOLDER, PORTCULLIS_ENGINE_HASH: JSON.stringify(createHash('sha256').update(engineSource).digest('hex').slice(0, 32)) },
});
// The engine goes in as a template literal, line for line, so the shipped file stays readable code.
const literal = `\`${engineSource.replaceAll('\\', '\\\\').replaceAll('`', '\\`').replaceAll('${', '\\${')}\``;
if (new Function(`return ${literal};`)() !== engineSource) throw new Error('the engine source did not survive its template literal');
const text = loader.outputFiles[0].text;
if (text.split(PLACEHOLDER).length !== 2) throw new Error('the loader must name the engine source exactly once');
writeFileSync(new URL('./dist/portcullis-npm.js', import.meta.url), text.replace(PLACEHOLDER, () => literal));
chmodSync(new URL('./dist/portcullis-npm.js', import.meta.url), 0o755);
