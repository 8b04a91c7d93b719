// After `builder build plugin`: stamps the built plugin with its engine build (a hash of the bundle): remembered verdicts are kept per build, so
// a plugin that changed in any way decides again.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const bundle = new URL('./bundles/@yarnpkg/plugin-portcullis.js', import.meta.url);
const PLACEHOLDER = '__PORTCULLIS_YARN_ENGINE_ID__';
const text = readFileSync(bundle, 'utf8');
if (!text.includes(PLACEHOLDER)) throw new Error(`stamp-engine: ${PLACEHOLDER} not found in the bundle (already stamped, or renamed in sources/engine.ts)`);
const id = createHash('sha256').update(text).digest('hex').slice(0, 32);
writeFileSync(bundle, text.replaceAll(PLACEHOLDER, `yarn:${id}`));
