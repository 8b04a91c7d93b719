#!/usr/bin/env node
// Registry-signature verification throughput on one core: bare `crypto.verify` (pre-created
// KeyObject, pre-decoded buffers, real vectors) against Portcullis's verifier on the same inputs,
// measured in the same run. Prints a markdown table and updates the signatures section of
// docs/benchmarks.md (other sections are kept).
//
//   node bench/signatures.mjs [--rounds N] [--per-round N] [--no-write]
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { importTs, median, parseArgs, root, writeSection } from './lib.mjs';

const args = parseArgs();
const ROUNDS = args.number('--rounds', 7);
const PER_ROUND = args.number('--per-round', 15_000);
const WRITE = !args.flag('--no-write');

const loadVerifier = () => importTs('packages/core/src/internal.ts');

function readVectors() {
  const file = join(root, 'test-vectors', 'npm-registry-signatures.json');
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

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const ratio = median(ratios);
const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
const table = [
  `| what | verifications/s (one core) | vs bare |`,
  `|---|---:|---:|`,
  `| bare \`crypto.verify\` (P-256, pre-created KeyObject and buffers) | ${fmt(median(bareRates))} | 100% |`,
  `| \`verifyRegistrySignatures\` | ${fmt(median(ourRates))} | ${pct(ratio)} |`,
].join('\n');
const summary =
  `${n} real npm registry signatures, ${ROUNDS} alternating rounds of ${PER_ROUND.toLocaleString('en-US')} verifications, medians; ` +
  `Node ${process.version}, ${cpu}. Target: the verifier at ≥ 90% of bare — ${ratio >= 0.9 ? 'met' : 'MISSED'} (${pct(ratio)}; ` +
  `per-round ratios ${ratios.map((r) => pct(r)).join(', ')}).`;

console.log(`\n${table}\n\n${summary}\n`);

if (WRITE) {
  writeSection(
    'signatures',
    ['## Registry signatures: verifications per second', '', 'Measured by `node bench/signatures.mjs` (bundles `packages/core/src/internal.ts` with esbuild first).', '', table, '', summary].join('\n'),
  );
  console.log('updated docs/benchmarks.md');
}
