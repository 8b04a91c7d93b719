#!/usr/bin/env node
// Provenance (issue 15): what verifying Sigstore provenance costs.
//  1. `portcullis check` with provenance required for every package of a pnpm 12 install of a synthetic graph
//     (default 1,000 versions, all moved into the scope @bench, every one with a test-Sigstore SLSA provenance
//     bundle): required by `@bench/*` cold (empty cache and state directories) and warm (a second run), and by
//     listing every name (warm), next to `check` with provenance off and `pnpm audit signatures` (pnpm 12) on the
//     same tree, the order rotating each round; registry requests per run from the test registry's log.
//  2. Bundles verified per second on one core: core's `verifyProvenance` against bare `@sigstore/verify`
//     (trust material and Verifier made once) on the four real bundles of test-vectors/ and on test-Sigstore
//     bundles, alternating rounds.
// Prints markdown tables and updates the provenance section of docs/benchmarks.md (other sections are kept).
//
//   node bench/provenance.mjs [--packages 1000] [--runs 5] [--rounds 7] [--seconds 0.5] [--quick] [--only check,rate] [--no-write]
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, expectExit, importTsModules, provenancedGraph, loadTestRegistry, machine, mb, median, memoryMethod, ms, parseArgs, requireBuilt, root, rotate, run, spread, today, tool, writeSection } from './lib.mjs';

const args = parseArgs();
const QUICK = args.flag('--quick');
const PACKAGES = args.number('--packages', QUICK ? 200 : 1000);
const RUNS = Math.max(1, args.number('--runs', QUICK ? 2 : 5));
const ROUNDS = Math.max(1, args.number('--rounds', QUICK ? 3 : 7));
const SECONDS = args.number('--seconds', QUICK ? 0.2 : 0.5);
const ONLY = args.list('--only', ['check', 'rate']);
const WRITE = !args.flag('--no-write');
const SEED = 2026;
const SCOPE = 'bench';

const started = Date.now();
const parts = [];

/** Requests of the test registry's log by kind. */
function countRequests(log) {
  const c = { packuments: 0, tarballs: 0, attestations: 0, keys: 0, other: 0 };
  for (const r of log) {
    if (r.path.startsWith('/-/npm/v1/attestations/')) c.attestations++;
    else if (r.path === '/-/npm/v1/keys') c.keys++;
    else if (r.path.endsWith('.tgz')) c.tarballs++;
    else if (!r.path.startsWith('/-/')) c.packuments++;
    else c.other++;
  }
  return c;
}
const describeRequests = (c) => (c.packuments + c.tarballs + c.attestations + c.keys + c.other === 0 ? '0' : `${c.packuments} packuments, ${c.attestations} attestations, ${c.keys} keys${c.tarballs ? `, ${c.tarballs} tarballs` : ''}${c.other ? `, ${c.other} other` : ''}`);

async function checkPart() {
  requireBuilt(CLI);
  const { startRegistry, syntheticGraph, testTrustedRoot } = await loadTestRegistry();
  const graph = provenancedGraph(syntheticGraph({ packages: PACKAGES, seed: SEED }), SCOPE);
  const registry = await startRegistry({ packages: graph.packages });
  const work = mkdtempSync(join(tmpdir(), 'portcullis-bench-provenance-'));
  try {
    // Every bundle made now (the registry makes them on first request), so no run pays for the test Sigstore.
    for (const spec of graph.packages) if (!registry.attestations(spec.name, spec.version)) throw new Error(`no provenance served for ${spec.name}@${spec.version}`);
    const project = join(work, 'project');
    const home = join(work, 'home');
    mkdirSync(project, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: graph.dependencies }));
    writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\n`);
    writeFileSync(join(home, '.npmrc'), '');
    writeFileSync(join(work, 'trusted_root.json'), JSON.stringify(testTrustedRoot()));
    // Policies outside the project, so the tree is exactly what pnpm installed.
    const base = { scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } };
    const policies = {
      scope: { ...base, provenance: { require: [`@${SCOPE}/*`], trustedRoot: '../trusted_root.json' } },
      list: { ...base, provenance: { require: graph.names, trustedRoot: '../trusted_root.json' } },
      off: { ...base, provenance: { noDowngrade: false } },
    };
    const policyFile = (which) => join(work, which, 'portcullis.json');
    for (const [which, policy] of Object.entries(policies)) {
      mkdirSync(join(work, which));
      writeFileSync(policyFile(which), JSON.stringify(policy));
    }
    const dirs = (which) => ({ cache: join(home, `cache-${which}`), state: join(home, `state-${which}`) });
    const envOf = (which) => ({
      PATH: process.env.PATH,
      HOME: home,
      TMPDIR: tmpdir(),
      PORTCULLIS_POLICY: policyFile(which),
      PORTCULLIS_CACHE_DIR: dirs(which).cache,
      PORTCULLIS_STATE_DIR: dirs(which).state,
      npm_config_userconfig: join(home, '.npmrc'),
      NO_COLOR: '1',
      CI: 'true',
    });
    const pnpmOwn = [`--store-dir=${join(home, 'pnpm-store')}`, `--cache-dir=${join(home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false', '--config.strict-dep-builds=false'];
    const pnpm = tool('pnpm', 12);
    expectExit(await run(pnpm.command, [...pnpm.args, 'install', ...pnpmOwn], { cwd: project, env: envOf('off') }), 'pnpm install');
    const lock = readFileSync(join(project, 'pnpm-lock.yaml'), 'utf8');
    const entries = (lock.split(/^snapshots:$/m)[1] ?? '').split('\n').filter((l) => /^ {2}\S/.test(l)).length;

    /** One measured command: the registry log cleared before, its requests counted after. */
    const measured = async (go) => {
      registry.requests.length = 0;
      const r = await go();
      r.requests = countRequests(registry.requests);
      return r;
    };
    const check = (which, cold) =>
      measured(async () => {
        if (cold) for (const d of Object.values(dirs(which))) rmSync(d, { recursive: true, force: true });
        const r = expectExit(await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project, env: envOf(which) }), 'portcullis check', [0, 1]);
        const findings = JSON.parse(r.stdout).findings;
        const provenance = findings.filter((f) => f.rule === 'provenance');
        if (provenance.length > 0) throw new Error(`check found provenance problems on a tree where every version has verified provenance: ${JSON.stringify(provenance.slice(0, 3))}`);
        r.findings = findings.length;
        return r;
      });
    const contenders = [
      { label: `\`check\`, provenance required (\`@${SCOPE}/*\`), cold`, go: () => check('scope', true) },
      { label: `\`check\`, provenance required (\`@${SCOPE}/*\`), warm`, go: () => check('scope', false) },
      { label: `\`check\`, provenance required (all ${graph.names.length.toLocaleString('en-US')} names listed), warm`, go: () => check('list', false) },
      { label: '`check`, provenance off, cold', go: () => check('off', true) },
      { label: '`check`, provenance off, warm', go: () => check('off', false) },
      {
        label: `\`pnpm audit signatures\` (pnpm ${pnpm.version}; registry signatures only)`,
        go: () =>
          measured(async () => {
            const r = await run(pnpm.command, [...pnpm.args, 'audit', 'signatures', ...pnpmOwn], { cwd: project, env: envOf('off') });
            if (r.code !== 0 || !/verified/i.test(r.stdout + r.stderr)) throw new Error(`pnpm audit signatures failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-2000)}`);
            return r;
          }),
      },
    ];
    // One unmeasured run each: checks every command works, fills the caches the warm runs start from (the listed-names
    // policy's own cache here) and pnpm's metadata cache as a second audit would find it.
    const first = [];
    for (const c of contenders) first.push(await c.go());
    // The cold run with provenance must have fetched (and so verified) every version's attestations.
    if (first[0].requests.attestations < entries) throw new Error(`the cold check fetched ${first[0].requests.attestations} attestations for ${entries} packages`);
    const series = await rotate(RUNS, contenders.map((c) => c.go));
    const [COLD, WARM, LIST, OFF_COLD, OFF_WARM, PNPM] = [0, 1, 2, 3, 4, 5];
    const med = (i) => median(series[i].map((r) => r.ms));
    const rows = contenders.map((c, i) => {
      const t = series[i].map((r) => r.ms);
      const reqs = series[i].map((r) => r.requests);
      const same = reqs.every((q) => JSON.stringify(q) === JSON.stringify(reqs[0]));
      return `| ${c.label} | ${ms(med(i))} (${spread(t)}) | ${(med(i) / med(OFF_WARM)).toFixed(2)}× | ${mb(median(series[i].map((r) => r.rssMB)))} | ${describeRequests(reqs[0])}${same ? '' : ' (varied)'} |`;
    });
    const warmOn = med(WARM);
    const perPackage = (x) => `${(x / entries).toFixed(2)} ms per package`;
    const notes = [
      `- Target: warm \`check\` with provenance required on ${PACKAGES.toLocaleString('en-US')} packages under 1 s — **${warmOn < 1000 ? 'met' : 'missed'}** with \`@${SCOPE}/*\` (median ${ms(warmOn)} ms for ${entries.toLocaleString('en-US')} installed packages), **${med(LIST) < 1000 ? 'met' : 'missed'}** with every name listed (${ms(med(LIST))} ms).`,
      `- Cost of provenance, cold: ${ms(med(COLD) - med(OFF_COLD))} ms more than cold without it (${perPackage(med(COLD) - med(OFF_COLD))}: one attestations request and one bundle verified each). Warm: ${ms(med(WARM) - med(OFF_WARM))} ms more with \`@${SCOPE}/*\` (nothing fetched or verified: the outcomes come from the \`provenance-v1\` memo), ${ms(med(LIST) - med(OFF_WARM))} ms more with the names listed (the policy's spec list is scanned per package).`,
      `- \`pnpm audit signatures\` ÷ \`check\` with provenance required: cold **${(med(PNPM) / med(COLD)).toFixed(2)}**, warm **${(med(PNPM) / med(WARM)).toFixed(2)}** — pnpm checks registry signatures only (no provenance; \`npm audit signatures\`, which verifies both, cannot run offline here, see the audit section).`,
    ];
    const body = [
      '### `check` with provenance required',
      '',
      `\`node bench/provenance.mjs\` (measured ${today()}). One tree: ${entries.toLocaleString('en-US')} packages installed by pnpm ${pnpm.version} from a synthetic graph of ${PACKAGES.toLocaleString('en-US')} versions (seed ${SEED}), every version signed by the test registry and carrying an SLSA provenance bundle of the test Sigstore (one repository per name). Every package is in the scope \`@${SCOPE}\` (the generator's names moved into it). Policies outside the project, \`trustedRoot\` the test Sigstore's root: provenance \`require\` is \`["@${SCOPE}/*"]\`, or lists all ${graph.names.length.toLocaleString('en-US')} names; "provenance off" is the same policy with \`provenance: {noDowngrade: false}\`. **Cold**: empty \`PORTCULLIS_CACHE_DIR\` and \`PORTCULLIS_STATE_DIR\` (no metadata, no memo, new memo key); **warm**: the next run. ${RUNS} rounds, the order rotating each round, after one unmeasured run of each. Ratio: time ÷ warm \`check\` without provenance. Requests: what the test registry served during one run. Peak memory: ${memoryMethod}.`,
      `Machine: ${machine()}.`,
      '',
      '| run | ms, median (min–max) | vs warm, off | peak MB | registry requests per run |',
      '|---|---:|---:|---:|---|',
      ...rows,
      '',
      ...notes,
    ];
    process.stdout.write(`\n${body.join('\n')}\n`);
    return body.join('\n');
  } finally {
    await registry.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `fn(i)` for `seconds` at least (whole batches of `batch`); returns operations per second. */
function rate(seconds, batch, fn) {
  const start = process.hrtime.bigint();
  let count = 0;
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) fn(count + i);
    count += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  return count / elapsed;
}

async function ratePart() {
  const core = await importTsModules(['packages/core/src/provenance/verify.ts', 'packages/core/src/provenance/trusted-root.ts']);
  const { provenanceBundle, testTrustedRoot } = await loadTestRegistry();
  const coreRequire = createRequire(join(root, 'packages/core/package.json'));
  const { Verifier, toSignedEntity, toTrustMaterial } = coreRequire('@sigstore/verify');
  const { bundleFromJSON } = coreRequire('@sigstore/bundle');
  const { TrustedRoot } = coreRequire('@sigstore/protobuf-specs');
  const sigstoreVersion = coreRequire('@sigstore/verify/package.json').version;

  const vectorsDir = join(root, 'test-vectors');
  const readJson = (file) => JSON.parse(readFileSync(join(vectorsDir, file), 'utf8'));
  const realRoot = readJson('sigstore-trusted_root.json');
  const real = readJson('attestations-index.json').map((v) => {
    const document = readJson(v.file);
    const slsa = document.attestations.filter((a) => a.predicateType.startsWith('https://slsa.dev/provenance/'));
    if (slsa.length !== 1) throw new Error(`${v.file}: expected one SLSA bundle, found ${slsa.length}`);
    return { name: v.name, version: v.version, integrity: v.integrity, document, bundle: slsa[0].bundle };
  });
  // Test-Sigstore bundles for made-up tarballs (each its own leaf key and log entry).
  const testRoot = testTrustedRoot();
  const made = Array.from({ length: 16 }, (_, i) => {
    const bytes = randomBytes(4096);
    const sha512 = createHash('sha512').update(bytes).digest();
    const name = i % 4 === 0 ? `@bench/pkg-${i}` : `pkg-${i}`;
    const version = `1.${i}.0`;
    const bundle = provenanceBundle({ name, version, sha512: sha512.toString('hex'), signedAt: '2026-06-01T12:00:00.000Z' }, { repository: `github.com/bench/pkg-${i}`, repositoryId: String(1000 + i), ownerId: '4242', workflow: '.github/workflows/release.yml', ref: `refs/tags/v${version}`, trigger: 'push' });
    return { name, version, integrity: `sha512-${sha512.toString('base64')}`, document: { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle }] }, bundle };
  });

  const sets = [
    { label: `real npm bundles (test-vectors/, ${real.length}: SLSA v0.2 and v1)`, items: real, root: realRoot, source: 'test-vectors/sigstore-trusted_root.json' },
    { label: `test-Sigstore bundles (${made.length})`, items: made, root: testRoot, source: 'the test Sigstore root' },
  ];
  const rows = [];
  for (const set of sets) {
    // Both sides build their trust once, as a run of the product does.
    const trust = core.trustFromRoot(set.root, set.source);
    const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(set.root)));
    const n = set.items.length;
    const ours = (i) => {
      const v = set.items[i % n];
      return core.verifyProvenance({ document: v.document, name: v.name, version: v.version, integrity: v.integrity, trust });
    };
    const bare = (i) => verifier.verify(toSignedEntity(bundleFromJSON(set.items[i % n].bundle)));
    // Sanity (not timing): both sides accept every bundle, and ours names who built it.
    for (let i = 0; i < n; i++) {
      const verdict = ours(i);
      if (verdict.status !== 'verified') throw new Error(`verifyProvenance said ${JSON.stringify(verdict)} for ${set.items[i].name}@${set.items[i].version}`);
      bare(i);
    }
    const batch = n * 4;
    rate(SECONDS / 2, batch, bare);
    rate(SECONDS / 2, batch, ours);
    const bareRates = [];
    const ourRates = [];
    const ratios = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = {};
      for (const which of round % 2 === 0 ? ['bare', 'ours'] : ['ours', 'bare']) r[which] = rate(SECONDS, batch, which === 'bare' ? bare : ours);
      bareRates.push(r.bare);
      ourRates.push(r.ours);
      ratios.push(r.ours / r.bare);
    }
    rows.push({ set, bare: bareRates, ours: ourRates, ratios });
    process.stdout.write(`${set.label}: bare ${Math.round(median(bareRates))}/s, verifyProvenance ${Math.round(median(ourRates))}/s (${(median(ratios) * 100).toFixed(1)}%)\n`);
  }
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const table = [
    '| bundles | bare `@sigstore/verify`, bundles/s (min–max) | `verifyProvenance`, bundles/s (min–max) | ours ÷ bare, median (min–max) | µs per bundle, bare / ours |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.set.label} | ${fmt(median(r.bare))} (${spread(r.bare, fmt)}) | ${fmt(median(r.ours))} (${spread(r.ours, fmt)}) | ${pct(median(r.ratios))} (${spread(r.ratios, pct)}) | ${fmt(1e6 / median(r.bare))} / ${fmt(1e6 / median(r.ours))} |`),
  ];
  const body = [
    '### Bundles verified per second',
    '',
    `One core, in one process: core's \`verifyProvenance\` (trust-root staleness, sigstore-js verification, statement subject and digest against the package, identity from the certificate cross-checked with the statement) on the attestations document, against bare \`@sigstore/verify\` ${sigstoreVersion} — \`verifier.verify(toSignedEntity(bundleFromJSON(bundle)))\` with the \`Verifier\` made once from \`toTrustMaterial(TrustedRoot.fromJSON(root))\` — on the same SLSA bundle, both starting from parsed JSON. ${ROUNDS} alternating rounds of at least ${SECONDS} s each after a warm-up, medians. Node ${process.version}, ${cpus()[0]?.model?.trim() ?? 'unknown CPU'}.`,
    '',
    ...table,
  ];
  process.stdout.write(`\n${body.join('\n')}\n`);
  return body.join('\n');
}

if (ONLY.includes('check')) parts.push(await checkPart());
if (ONLY.includes('rate')) parts.push(await ratePart());

const section = ['## Provenance: `check` with provenance required, and bundles per second', '', ...parts.flatMap((p) => [p, '']), `Wall time of this script: ${((Date.now() - started) / 1000).toFixed(0)} s.`].join('\n');
if (WRITE && ONLY.includes('check') && ONLY.includes('rate')) {
  writeSection('provenance', section);
  process.stdout.write('\nupdated docs/benchmarks.md\n');
}
