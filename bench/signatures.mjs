#!/usr/bin/env node
// Registry-signature verification throughput on one core: bare `crypto.verify` (pre-created
// KeyObject, pre-decoded buffers, real vectors) against Portcullis's verifier on the same inputs,
// measured in the same run. Prints a markdown table and updates the signatures section of
// docs/benchmarks.md (other sections are kept).
//
//   node bench/signatures.mjs [--rounds N] [--per-round N] [--no-write]
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const ROUNDS = option('--rounds', 7);
const PER_ROUND = option('--per-round', 15_000);
const WRITE = !args.includes('--no-write');

function loadEsbuild() {
  for (const pkg of ['packages/cli', 'packages/test-registry']) {
    const manifest = join(root, pkg, 'package.json');
    if (!existsSync(join(root, pkg, 'node_modules', 'esbuild'))) continue;
    return createRequire(manifest)('esbuild');
  }
  throw new Error('esbuild not found in packages/cli or packages/test-registry (run the workspace set-up first)');
}

async function loadVerifier() {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const outfile = join(dir, 'signatures.mjs');
  try {
    await loadEsbuild().build({
      entryPoints: [join(root, 'packages/core/src/signatures/index.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readVectors() {
  const file = join(root, '..', 'shared', 'vectors', 'npm-registry-signatures.json');
  if (!existsSync(file)) throw new Error(`vectors not found: ${file}`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Runs `fn(i)` `count` times; returns operations per second. */
function rate(count, fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return count / seconds;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sig = await loadVerifier();
const vectors = readVectors();
const n = vectors.length;
const registry = sig.NPM_REGISTRY_URL;
const keyring = sig.createKeyring({ [registry]: { keys: 'npm' } });
const expiries = new Map(sig.NPM_REGISTRY_KEYS.map((k) => [k.keyid, k.expires]));

// Bare: everything decoded up front, one KeyObject per key.
const keyObjects = new Map(sig.NPM_REGISTRY_KEYS.map((k) => [k.keyid, createPublicKey({ key: Buffer.from(k.key, 'base64'), format: 'der', type: 'spki' })]));
const bare = vectors.map((v) => ({
  message: Buffer.from(`${v.name}@${v.version}:${v.integrity}`),
  key: keyObjects.get(v.keyid),
  sig: Buffer.from(v.sig, 'base64'),
}));
// Ours: what a caller has in hand — strings from the lockfile and the packument.
const checks = vectors.map((v) => ({
  name: v.name,
  version: v.version,
  integrity: v.integrity,
  signatures: [{ keyid: v.keyid, sig: v.sig }],
  registry,
  keyring,
  // Old-key signatures need the publish time; these versions were published before the key's expiry.
  publishedAt: expiries.get(v.keyid) ? '2024-01-01T00:00:00.000Z' : undefined,
}));

// Sanity (not timing): both sides accept every vector.
for (let i = 0; i < n; i += 1) {
  const b = bare[i];
  if (!verify('sha256', b.message, b.key, b.sig)) throw new Error(`bare verify failed for vector ${i}`);
  const verdict = sig.verifyRegistrySignatures(checks[i]);
  if (verdict.status !== 'verified') throw new Error(`verifier said ${JSON.stringify(verdict)} for vector ${i}`);
}

const runBare = (i) => {
  const b = bare[i % n];
  verify('sha256', b.message, b.key, b.sig);
};
const runOurs = (i) => {
  sig.verifyRegistrySignatures(checks[i % n]);
};
const memo = new sig.SignatureMemo();
const memoChecks = checks.map((c) => ({ ...c, memo }));
for (const c of memoChecks) sig.verifyRegistrySignatures(c);
const runMemo = (i) => {
  sig.verifyRegistrySignatures(memoChecks[i % n]);
};

// Warm up, then alternate so that both see the same machine state.
rate(2_000, runBare);
rate(2_000, runOurs);
const bareRates = [];
const ourRates = [];
const ratios = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const order = round % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare'];
  const r = {};
  for (const which of order) r[which] = rate(PER_ROUND, which === 'bare' ? runBare : runOurs);
  bareRates.push(r.bare);
  ourRates.push(r.ours);
  ratios.push(r.ours / r.bare);
}
const memoRate = median(Array.from({ length: 3 }, () => rate(PER_ROUND * 4, runMemo)));

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const ratio = median(ratios);
const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
const table = [
  `| what | verifications/s (one core) | vs bare |`,
  `|---|---:|---:|`,
  `| bare \`crypto.verify\` (P-256, pre-created KeyObject and buffers) | ${fmt(median(bareRates))} | 100% |`,
  `| \`verifyRegistrySignatures\` (no memo) | ${fmt(median(ourRates))} | ${pct(ratio)} |`,
  `| \`verifyRegistrySignatures\` re-check, memo hit | ${fmt(memoRate)} | ${(memoRate / median(bareRates)).toFixed(0)}× |`,
].join('\n');
const summary =
  `${n} real npm registry signatures, ${ROUNDS} alternating rounds of ${PER_ROUND.toLocaleString('en-US')} verifications, medians; ` +
  `Node ${process.version}, ${cpu}. Target: the verifier at ≥ 90% of bare — ${ratio >= 0.9 ? 'met' : 'MISSED'} (${pct(ratio)}; ` +
  `per-round ratios ${ratios.map((r) => pct(r)).join(', ')}).`;

console.log(`\n${table}\n\n${summary}\n`);

if (WRITE) {
  const docs = join(root, 'docs', 'benchmarks.md');
  const START = '<!-- bench:signatures:start -->';
  const END = '<!-- bench:signatures:end -->';
  const section = [
    START,
    '## Registry signatures: verifications per second',
    '',
    'Measured by `node bench/signatures.mjs` (bundles `packages/core/src/signatures` with esbuild first).',
    '',
    table,
    '',
    summary,
    END,
  ].join('\n');
  let text = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n\nNumbers from the scripts in `bench/`; each section is rewritten by its script.\n';
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from !== -1 && to > from) text = `${text.slice(0, from)}${section}${text.slice(to + END.length)}`;
  else text = `${text.replace(/\n*$/, '\n\n')}${section}\n`;
  writeFileSync(docs, text);
  console.log(`updated ${docs}`);
}
