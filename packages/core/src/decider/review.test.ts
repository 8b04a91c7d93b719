import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Evidence, ScriptEvidence } from '../evaluation/evidence.js';
import type { Finding } from '../finding.js';
import type { PackageNode } from '../model.js';
import { createRegistryConfig } from '../registry/config.js';
import type { CheckRun } from './check.js';
import { runCheck } from './check.js';
import { approveReviewed, formatReview, reviewBlocked, reviewCommands } from './review.js';
import { fakeVerdict } from './verdict.fixture.js';

const node = (name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode => ({
  id: `${name}@${version}`,
  name,
  version,
  source: 'registry',
  registry: 'http://127.0.0.1:4873/',
  aliases: [],
  paths: [`node_modules/${name}`],
  dependents: ['.'],
  ...extra,
});

const finding = (pkg: PackageNode, code: Finding['code'], rule: Finding['rule']): Finding => ({ package: pkg.name, version: pkg.version, rule, code, message: `${pkg.name}@${pkg.version} ${code}`, fix: 'x', id: pkg.id });

/** A check run over `packages` whose verdict blocks with `blocking`, with this evidence. */
function fakeRun(packages: PackageNode[], blocking: Finding[], evidence: Partial<Evidence> = {}): CheckRun {
  const verdict = fakeVerdict({ blocking, evidence: { scripts: new Map(), signatures: new Map(), unavailable: new Map(), ...evidence } });
  return {
    project: { dir: '/p', start: '/p', lockfile: { kind: 'npm', path: '/p/package-lock.json', packages }, registryConfig: createRegistryConfig({}) },
    gate: { signaturesRequired: true } as CheckRun['gate'],
    policy: undefined as never,
    verdict,
    result: undefined as never,
    locations: new Map(),
  };
}

const installed = (scripts: string[], commands: Record<string, string>, extra: Partial<ScriptEvidence> = {}): ScriptEvidence => ({ hasInstallScript: true, scripts, commands, bindingGyp: false, source: 'installed', ...extra });

describe('reviewBlocked: what approve offers, grouped by rule', () => {
  it('scripts first (with the exact command lines, node-gyp for a binding.gyp, a bundled copy with its bundler), then cooldown, then publisher re-pins; the rest is not offered', async () => {
    const esbuild = node('esbuild', '0.25.0');
    const addon = node('addon', '1.0.0');
    const bundled = node('inner', '2.0.0', { bundledBy: { name: 'outer', version: '1.0.0' }, inBundle: true, paths: ['node_modules/outer/node_modules/inner'] });
    const fresh = node('fresh', '3.0.0');
    const moved = node('moved', '1.2.0');
    const tampered = node('tampered', '1.0.0');
    const run = fakeRun(
      [esbuild, addon, bundled, fresh, moved, tampered],
      [
        finding(moved, 'PUBLISHER_MISMATCH', 'provenance'),
        finding(fresh, 'RELEASE_TOO_NEW', 'cooldown'),
        finding(esbuild, 'SCRIPT_NOT_ALLOWED', 'scripts'),
        finding(addon, 'SCRIPT_NOT_ALLOWED', 'scripts'),
        finding(bundled, 'SCRIPT_NOT_ALLOWED', 'scripts'),
        finding(tampered, 'BAD_SIGNATURE', 'signatures'),
      ],
      {
        scripts: new Map([
          [esbuild.id, installed(['preinstall', 'postinstall'], { preinstall: 'node check.js', postinstall: 'node install.js --ok' })],
          [addon.id, installed([], {}, { bindingGyp: true })],
          [bundled.id, installed(['install'], { install: 'make' })],
        ]),
        signatures: new Map([[esbuild.id, { status: 'verified', keyid: 'SHA256:abc' }]]),
        published: new Map([[fresh.id, '2026-12-01T00:00:00.000Z']]),
        publisherChanges: new Map([[moved.id, { repository: 'git.example/old/moved' }]]),
      },
    );
    const review = await reviewBlocked(run, { offline: true, env: { PORTCULLIS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'pc-review-')) } });
    expect(review.entries.map((e) => [e.form, e.approves])).toEqual([
      ['scripts', ['addon@1.0.0']],
      ['scripts', ['esbuild@0.25.0']],
      ['scripts', ['outer@1.0.0', 'inner@2.0.0']],
      ['cooldown', ['fresh@3.0.0']],
      ['publisher', ['moved']],
    ]);
    expect(review.entries[0]!.runs).toEqual(['node-gyp rebuild (binding.gyp)']);
    expect(review.entries[1]!.runs).toEqual(['preinstall: node check.js', 'postinstall: node install.js --ok']);
    expect(review.entries[1]!.facts).toContain('signature: verified by SHA256:abc');
    expect(review.entries[3]!.facts).toContain('published: 2026-12-01T00:00:00.000Z');
    expect(review.others.map((f) => f.code)).toEqual(['BAD_SIGNATURE']);
    expect(review.exitCode).toBe(1);

    expect(reviewCommands(review.entries)).toEqual(['portcullis approve addon@1.0.0 esbuild@0.25.0 outer@1.0.0 inner@2.0.0', 'portcullis approve --cooldown fresh@3.0.0', 'portcullis approve --publisher moved']);
    expect(reviewCommands(review.entries, 'yarn')[0]).toBe('yarn portcullis approve addon@1.0.0 esbuild@0.25.0 outer@1.0.0 inner@2.0.0');
    const text = formatReview(review);
    expect(text).toContain('  esbuild@0.25.0\n    runs preinstall: node check.js\n    runs postinstall: node install.js --ok\n');
    expect(text).toContain('Blocked for reasons approve does not waive:\n  BAD_SIGNATURE  tampered@1.0.0 BAD_SIGNATURE\n    fix: x');
    expect(text.indexOf('Install-time code')).toBeLessThan(text.indexOf('cooldown'));
  });

  it('a mismatch with a written publisher pin is not offered (that is an edit by hand); nested copies of one version are one entry', async () => {
    const moved = node('moved', '1.2.0');
    const a = node('twin', '1.0.0', { id: 'twin@1.0.0#a' });
    const b = node('twin', '1.0.0', { id: 'twin@1.0.0#b', paths: ['node_modules/x/node_modules/twin'] });
    const run = fakeRun([moved, a, b], [finding(moved, 'PUBLISHER_MISMATCH', 'provenance'), finding(a, 'SCRIPT_NOT_ALLOWED', 'scripts'), finding(b, 'SCRIPT_NOT_ALLOWED', 'scripts')], {
      scripts: new Map([[a.id, installed(['postinstall'], { postinstall: 'node a' })]]),
    });
    const review = await reviewBlocked(run, { offline: true, env: { PORTCULLIS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'pc-review-')) } });
    expect(review.entries.map((e) => e.key)).toEqual(['scripts:twin@1.0.0']);
    expect(review.entries[0]!.facts.filter((f) => f.startsWith('source:'))).toHaveLength(2);
    expect(review.others.map((f) => f.code)).toEqual(['PUBLISHER_MISMATCH']);
  });

  it('offers a package whose approved install scripts changed (SCRIPT_CHANGED) under scripts, with its new command line', async () => {
    const pkg = node('drifted', '1.1.0');
    const run = fakeRun([pkg], [finding(pkg, 'SCRIPT_CHANGED', 'scripts')], { scripts: new Map([[pkg.id, installed(['postinstall'], { postinstall: 'node new.js' })]]) });
    const review = await reviewBlocked(run, { offline: true, env: { PORTCULLIS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'pc-review-')) } });
    expect(review.entries.map((e) => [e.key, e.runs])).toEqual([['scripts:drifted@1.1.0', ['postinstall: node new.js']]]);
    expect(review.others).toEqual([]);
  });

  it('a command line that neither the installed files nor the metadata showed is said to be unknown, never invented', async () => {
    const pkg = node('mystery', '1.0.0');
    const run = fakeRun([pkg], [finding(pkg, 'SCRIPT_NOT_ALLOWED', 'scripts')], { scripts: new Map([[pkg.id, { hasInstallScript: true, scripts: ['postinstall'], bindingGyp: false, source: 'metadata' }]]) });
    const review = await reviewBlocked(run, { offline: true, env: { PORTCULLIS_CACHE_DIR: mkdtempSync(join(tmpdir(), 'pc-review-')) } });
    expect(review.entries[0]!.runs).toEqual(['postinstall: (command line not known: install it with scripts skipped, then run approve again)']);
    expect(review.entries[0]!.facts.some((f) => f.startsWith('not installed here'))).toBe(true);
  });
});

describe('approve with no names, end to end over a lockfile', () => {
  /** An npm project with a git dependency (prepare) and a native addon installed, signatures off: no registry needed. */
  function project(): { dir: string; env: Record<string, string> } {
    const dir = mkdtempSync(join(tmpdir(), 'pc-review-project-'));
    writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify({ scripts: { allow: [] }, signatures: { require: 'off' } }, null, 2)}\n`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    const lock = {
      name: 'app',
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', dependencies: { gitdep: 'git+https://git.example/gitdep.git', native: 'file:../native.tgz' } },
        'node_modules/gitdep': { version: '1.0.0', resolved: 'git+https://git.example/gitdep.git#0123456789abcdef0123456789abcdef01234567' },
        'node_modules/native': { version: '2.0.0', resolved: 'file:../native.tgz', integrity: 'sha512-AAAA' },
      },
    };
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
    mkdirSync(join(dir, 'node_modules/gitdep'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/gitdep/package.json'), JSON.stringify({ name: 'gitdep', version: '1.0.0', scripts: { prepare: 'tsc -b', test: 'vitest' } }));
    mkdirSync(join(dir, 'node_modules/native'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/native/package.json'), JSON.stringify({ name: 'native', version: '2.0.0' }));
    writeFileSync(join(dir, 'node_modules/native/binding.gyp'), '{}');
    const home = mkdtempSync(join(tmpdir(), 'pc-review-home-'));
    return { dir, env: { PORTCULLIS_CACHE_DIR: join(home, 'cache'), PORTCULLIS_STATE_DIR: join(home, 'state') } };
  }

  it("shows a git dependency's prepare and a binding.gyp's node-gyp rebuild, and writes only the chosen entries through approve", async () => {
    const { dir, env } = project();
    const run = await runCheck(dir, { env });
    const review = await reviewBlocked(run, { env, offline: true });
    expect(review.entries.map((e) => [e.package, e.runs])).toEqual([
      ['gitdep', ['prepare: tsc -b']],
      ['native', ['node-gyp rebuild (binding.gyp)']],
    ]);
    const before = readFileSync(join(dir, 'portcullis.json'), 'utf8');
    const written = await approveReviewed(dir, review.entries.filter((e) => e.package === 'native'), { env });
    expect(written.scripts?.added).toEqual(['native@2.0.0']);
    expect(written.cooldown).toBeUndefined();
    // approve records what it approved runs (scripts.fingerprints): the binding.gyp's hash (sha256 of "{}").
    const gyp = `sha256:${createHash('sha256').update('{}').digest('hex')}`;
    expect(readFileSync(join(dir, 'portcullis.json'), 'utf8')).toBe(before.replace('"allow": []', `"allow": [\n      "native@2.0.0"\n    ],\n    "fingerprints": {\n      "native@2.0.0": {\n        "bindingGyp": "${gyp}"\n      }\n    }`));
  });
});
