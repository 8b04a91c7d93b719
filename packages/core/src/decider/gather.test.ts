import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoSecret, VerifiedVersions } from '../cache/verified-versions.js';
import type { PackageNode } from '../model.js';
import { parsePolicy } from '../policy/load.js';
import type { RegistryClient } from '../registry/client.js';
import { packumentVersionFromJson, parsePackument, type PackumentServed, type PackumentVersion } from '../registry/packument.js';
import type { Keyring } from '../signatures/keyring.js';
import { gatherEvidence, scriptEvidence } from './gather.js';

const node: PackageNode = { id: 'esbuild@0.25.0', name: 'esbuild', version: '0.25.0', integrity: 'sha512-x', source: 'registry', registry: 'https://r.test/', aliases: [], paths: [], dependents: ['.'] };

function entry(fields: Record<string, unknown>, served: PackumentServed) {
  const text = JSON.stringify({ name: 'esbuild', versions: { '0.25.0': { name: 'esbuild', version: '0.25.0', dist: { integrity: 'sha512-x' }, ...fields } } });
  return parsePackument(text, { name: 'esbuild', kind: 'abbreviated', served }).versions.get('0.25.0')!;
}

describe('scriptEvidence (issue 13.5: scripts in a full document count; silence is not "none")', () => {
  it('counts the scripts of a full document served for the abbreviated request', () => {
    const found = scriptEvidence(node, entry({ _id: 'esbuild@0.25.0', scripts: { postinstall: 'node install.js', test: 'x' } }, 'full'), null);
    // The command line rides along (approve shows it); a script that does not run at install time (test) does not.
    expect(found).toEqual({ hasInstallScript: true, scripts: ['postinstall'], commands: { postinstall: 'node install.js' }, bindingGyp: false, source: 'metadata' });
  });

  it('metadata that neither lists scripts nor says "none" is no evidence; the lockfile\'s claim decides, or nothing does', () => {
    const silent = entry({}, 'full');
    expect(scriptEvidence(node, silent, null)).toBeUndefined();
    expect(scriptEvidence({ ...node, hasInstallScript: true }, silent, null)).toMatchObject({ hasInstallScript: true, source: 'lockfile' });
  });

  it('the abbreviated document\'s silence is its "none"', () => {
    expect(scriptEvidence(node, entry({}, 'abbreviated'), null)).toEqual({ hasInstallScript: false, scripts: [], bindingGyp: false, source: 'metadata' });
  });
});

describe('gatherEvidence reads command lines where script drift needs them', () => {
  const lib: PackageNode = { id: 'lib@1.0.0', name: 'lib', version: '1.0.0', source: 'registry', registry: 'https://registry.example/', integrity: 'sha512-AAAA', aliases: [], paths: ['node_modules/lib'], dependents: ['.'] };
  const full = JSON.stringify({ name: 'lib', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { _id: 'lib@1.0.0', name: 'lib', version: '1.0.0', scripts: { postinstall: 'node install.js' }, dist: { integrity: 'sha512-AAAA' } } }, time: { '1.0.0': '2026-01-01T00:00:00.000Z' } });
  // What pnpm hands over from an abbreviated document: "has scripts", no command lines.
  const abbreviated = packumentVersionFromJson({ name: 'lib', version: '1.0.0', hasInstallScript: true, dist: { integrity: 'sha512-AAAA' } }, 'lib', '1.0.0') as PackumentVersion;

  function run(needsCommands: boolean, verified?: VerifiedVersions) {
    const requests: Array<{ full: boolean }> = [];
    const client = {
      getPackument: async (_name: string, options: { full?: boolean } = {}) => {
        requests.push({ full: options.full === true });
        return parsePackument(full, { name: 'lib', kind: 'full' });
      },
    } as unknown as RegistryClient;
    const policy = parsePolicy('{"signatures":{"require":"off"}}', '/p/portcullis.json');
    const gathered = gatherEvidence([lib], { policy, client, keyring: {} as Keyring, supplied: () => abbreviated, needsCommands: () => needsCommands, ...(verified ? { verified } : {}) });
    return gathered.then((g) => ({ scripts: g.evidence.scripts.get(lib.id), requests }));
  }

  it('handed-over abbreviated metadata is enough without drift; with it, the full document is read for the command lines', async () => {
    const plain = await run(false);
    expect(plain.requests).toEqual([]);
    expect(plain.scripts?.commands).toBeUndefined();
    const drift = await run(true);
    expect(drift.requests).toEqual([{ full: true }]);
    expect(drift.scripts?.commands).toEqual({ postinstall: 'node install.js' });
  });

  it('remembered facts without command lines do not answer for drift; facts with them do (no request)', async () => {
    const secret = memoSecret(mkdtempSync(join(tmpdir(), 'portcullis-gather-state-')))!;
    const cache = mkdtempSync(join(tmpdir(), 'portcullis-gather-cache-'));
    const memo = VerifiedVersions.open(cache, '/p', secret);
    const query = { keySetId: 'signatures-off', registry: lib.registry!, name: 'lib', version: '1.0.0', integrity: lib.integrity };
    memo.set(query, { integrity: 'sha512-AAAA', keyid: '', hasInstallScript: true, gypfile: false, scripts: ['postinstall'] });
    // Without drift they answer as before, and claim no command lines they do not have.
    const plain = await run(false, memo);
    expect(plain.requests).toEqual([]);
    expect(plain.scripts).toMatchObject({ hasInstallScript: true, scripts: ['postinstall'] });
    expect(plain.scripts?.commands).toBeUndefined();
    const without = await run(true, memo);
    expect(without.requests).toEqual([{ full: true }]);
    expect(without.scripts?.commands).toEqual({ postinstall: 'node install.js' });
    // That run remembered the command lines: the next one needs no request.
    const warm = await run(true, memo);
    expect(warm.requests).toEqual([]);
    expect(warm.scripts?.commands).toEqual({ postinstall: 'node install.js' });
  });
});
