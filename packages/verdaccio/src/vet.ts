/**
 * The filter's decision: every version of a packument is judged by core's gate under the organisation policy,
 * against the upstream's own signatures and keys; the versions it passes are signed by the organisation's key.
 * Fail closed: a version without a completed check is never served, whatever went wrong.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRegistryConfig, isValidPackageName, openGate, packumentVersionFromJson, type Finding, type PackageNode, type PackumentVersion } from '@portcullis/core';
import type { PluginSettings } from './config.js';
import { entriesOf, REPORT_FIELD, rewritePackument, type PortcullisReport, type Removal, type VersionVerdict } from './packument.js';
import { VerdictCache } from './verdicts.js';

// Findings that change by themselves (time passes, the upstream comes back): judged again on the next request.
const TRANSIENT = new Set(['METADATA_UNAVAILABLE', 'RELEASE_TOO_NEW', 'TRUST_ROOT_STALE']);
// Far beyond any real package (the largest have a few thousand versions); a bound on hostile input.
const MAX_VERSIONS = 50_000;

export interface Vetter {
  /** The packument to serve for `manifest` (never throws: a failure withholds every version not yet vetted). */
  vet(manifest: unknown): Promise<Record<string, unknown>>;
  /** The report of the latest filtering of a package by this process (what `x-portcullis` held), if any. */
  reportFor(name: string): PortcullisReport | undefined;
  readonly cache: VerdictCache;
}

export interface VetterOptions {
  /** Told when versions are withheld because a check could not complete (never given key material). */
  warn?: (message: string) => void;
  fetch?: typeof fetch;
  now?: () => number;
}

/** What the gate needs from the environment: the policy path, and core's own settings; nothing else (no secrets). */
function gateEnv(settings: PluginSettings): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PORTCULLIS_POLICY: settings.policy };
  for (const name of ['PORTCULLIS_FETCH_TIMEOUT_MS', 'HOME']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}

export function createVetter(settings: PluginSettings, options: VetterOptions = {}): Vetter {
  const cache = new VerdictCache(settings.verdictCacheSize, settings.recheckMs, options.now);
  const warn = options.warn ?? (() => undefined);
  // Checks in progress, per verdict key: concurrent requests for a package share one check.
  const inflight = new Map<string, Promise<VersionVerdict | undefined>>();
  // Reports of the latest filtering per name: bounded like the verdicts, for the verdicts endpoint.
  const reports = new Map<string, PortcullisReport>();
  const remember = (served: Record<string, unknown>): Record<string, unknown> => {
    if (typeof served.name !== 'string') return served;
    reports.delete(served.name);
    reports.set(served.name, served[REPORT_FIELD] as PortcullisReport);
    while (reports.size > 10_000) reports.delete(reports.keys().next().value as string);
    return served;
  };

  function withheld(manifest: Record<string, unknown>, reason: string): Record<string, unknown> {
    warn(`withholding every version not yet vetted of ${String(manifest.name).slice(0, 214)}: ${reason}`);
    return manifest;
  }

  /** Judges versions of one package through core's gate; remembers lasting verdicts; signs what passes. */
  async function judge(name: string, judged: ReadonlyArray<{ node: PackageNode; key: string; supplied: PackumentVersion | string }>): Promise<Map<string, VersionVerdict>> {
    const verdicts = new Map<string, VersionVerdict>();
    const gate = await openGate({
      dir: dirname(settings.policy),
      packageManager: 'npm',
      surface: 'cli',
      registryConfig: createRegistryConfig({ defaultRegistry: settings.upstream }),
      env: gateEnv(settings),
      cacheDir: settings.cacheDir,
      stateDir: settings.stateDir,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const supplied = new Map(judged.map((p) => [p.node.id, p.supplied as PackumentVersion]));
    const verdict = await gate.judge(
      judged.map((p) => p.node),
      { supplied: (pkg) => supplied.get(pkg.id) },
    );
    await gate.settle();
    const first = new Map<string, Finding>();
    for (const finding of verdict.blocking) first.set(`${finding.package}@${finding.version}`, first.get(`${finding.package}@${finding.version}`) ?? finding);
    let transient = 0;
    for (const { node, key } of judged) {
      const finding = first.get(node.id);
      if (finding !== undefined) {
        const removal: Removal = { code: finding.code, reason: finding.message };
        verdicts.set(node.version, { served: false, removal });
        if (TRANSIENT.has(finding.code)) transient++;
        else cache.set(key, { served: false, removal });
        continue;
      }
      if (node.integrity === undefined) continue; // nothing to sign: never served (core reports INTEGRITY_MISSING)
      const served: VersionVerdict = { served: true, signature: settings.signer.sign(name, node.version, node.integrity) };
      verdicts.set(node.version, served);
      cache.set(key, served);
    }
    if (transient > 0) warn(`${transient} version(s) of ${name} withheld until they can be vetted (${[...first.values()].find((f) => TRANSIENT.has(f.code))?.code})`);
    return verdicts;
  }

  async function vet(input: unknown): Promise<Record<string, unknown>> {
    const manifest = (typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
    const verdicts = new Map<string, VersionVerdict>();
    const done = () => remember(rewritePackument(manifest, verdicts, settings.signer.keyid));
    try {
      const name = manifest.name;
      if (typeof name !== 'string' || !isValidPackageName(name)) return withheld(done(), 'the packument names no valid package');
      const versions = entriesOf(manifest.versions);
      if (versions.length > MAX_VERSIONS) return withheld(done(), `it lists more than ${MAX_VERSIONS} versions`);
      const policy = createHash('sha256').update(readFileSync(settings.policy)).digest('base64');

      const pending: Array<{ node: PackageNode; key: string; supplied: PackumentVersion | string }> = [];
      const waiting: Array<[string, Promise<VersionVerdict | undefined>]> = [];
      for (const [version, doc] of versions) {
        const integrity = (doc as { dist?: { integrity?: unknown } } | null)?.dist?.integrity;
        const key = VerdictCache.key(policy, name, version, typeof integrity === 'string' ? integrity : '');
        const known = typeof integrity === 'string' ? cache.get(key) : undefined;
        if (known !== undefined) {
          verdicts.set(version, known);
          continue;
        }
        const share = inflight.get(key);
        if (share !== undefined) {
          waiting.push([version, share]);
          continue;
        }
        const node: PackageNode = {
          id: `${name}@${version}`,
          name,
          version,
          ...(typeof integrity === 'string' ? { integrity } : {}),
          source: 'registry',
          registry: settings.upstream,
          aliases: [],
          paths: [],
          dependents: [],
        };
        pending.push({ node, key, supplied: packumentVersionFromJson(doc, name, version) });
      }

      for (const p of pending) {
        if (typeof p.supplied === 'string') verdicts.set(p.node.version, { served: false, removal: { code: 'METADATA_UNAVAILABLE', reason: `${name}@${p.node.version}: ${p.supplied}` } });
      }
      const judged = pending.filter((p) => typeof p.supplied !== 'string');
      if (judged.length > 0) {
        // Requests for the same versions while this check runs wait for it instead of checking again.
        const batch = judge(name, judged);
        const shares = judged.map((p) => [p.key, batch.then((m) => m.get(p.node.version), () => undefined)] as const);
        for (const [key, share] of shares) inflight.set(key, share);
        try {
          for (const [version, verdict] of await batch) verdicts.set(version, verdict);
        } finally {
          for (const [key, share] of shares) if (inflight.get(key) === share) inflight.delete(key);
        }
      }
      for (const [version, share] of waiting) {
        const verdict = await share;
        if (verdict !== undefined) verdicts.set(version, verdict);
      }
      return done();
    } catch (error) {
      return withheld(done(), error instanceof Error ? error.message.slice(0, 500) : 'an unknown error');
    }
  }

  return { vet, cache, reportFor: (name) => reports.get(name) };
}
