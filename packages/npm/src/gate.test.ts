import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortcullisError } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import { parseNpmArguments } from './arguments.js';
import type { GateContext } from './context.js';
import { gateResolve } from './gate.js';

/** An "npm" that records each command line (and whether scripts were turned off in its environment), writes nothing and succeeds. */
function fakeProject(): { ctx: GateContext; calls: () => Array<{ argv: string[]; ignoreScripts: string | undefined }> } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-npm-gate-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
  const log = join(dir, 'npm-calls.jsonl');
  const npm = join(dir, 'fake-npm.cjs');
  writeFileSync(
    npm,
    `require('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({ argv: process.argv.slice(2), ignoreScripts: process.env.npm_config_ignore_scripts }) + '\\n');`,
  );
  const ctx: GateContext = { cwd: dir, env: { HOME: dir, PATH: process.env.PATH }, npm: { command: process.execPath, prefixArgs: [npm], version: '11.21.2' } };
  const calls = () => {
    try {
      return readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { argv: string[]; ignoreScripts: string | undefined });
    } catch {
      return [];
    }
  };
  return { ctx, calls };
}

/** Runs the gate up to its judgement: the fake npm writes no lockfile, so a gated run ends with LOCKFILE_NOT_FOUND. */
async function gated(argv: string[]): Promise<Array<{ argv: string[]; ignoreScripts: string | undefined }>> {
  const { ctx, calls } = fakeProject();
  const error = await gateResolve(parseNpmArguments(argv), ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, argv.join(' ')).toBeInstanceOf(PortcullisError);
  expect((error as PortcullisError).code).toBe('LOCKFILE_NOT_FOUND');
  return calls();
}

describe('gateResolve: --dry-run', () => {
  it('a dry run is passed to npm as typed, with --dry-run last so that nothing the user typed after it turns it off', async () => {
    for (const argv of [['install', '--dry-run', 'evil'], ['install', '--dry-run', 'evil', '--dry=false'], ['install', '--dry-run', 'true', 'evil']]) {
      const { ctx, calls } = fakeProject();
      expect(await gateResolve(parseNpmArguments(argv), ctx)).toBe(0);
      expect(calls(), argv.join(' ')).toEqual([{ argv: [...argv, '--dry-run'], ignoreScripts: undefined }]);
    }
  });

  it('before a `--`, after which npm reads no options', async () => {
    const { ctx, calls } = fakeProject();
    await gateResolve(parseNpmArguments(['install', '--dry-run', '--', 'evil']), ctx);
    expect(calls()).toEqual([{ argv: ['install', '--dry-run', '--dry-run', '--', 'evil'], ignoreScripts: undefined }]);
  });

  it('a --dry-run npm reads as off (`=false`, `false`, `=0`, then --no-dry-run) is an install: it goes through the gate', async () => {
    for (const argv of [['install', '--dry-run=false', 'evil'], ['install', '--dry-run', 'false', 'evil'], ['install', '--dry-run=0', 'evil'], ['install', '--dry-run', '--no-dry-run', 'evil']]) {
      const calls = await gated(argv);
      expect(calls, argv.join(' ')).toHaveLength(1);
      expect(calls[0]!.argv.slice(0, argv.length)).toEqual(argv);
      expect(calls[0]!.argv.slice(argv.length)).toEqual(['--package-lock-only', '--ignore-scripts', '--package-lock', '--allow-git=none', '--no-audit', '--no-fund']);
      expect(calls[0]!.ignoreScripts).toBe('true');
    }
  });
});

describe('gateResolve: the lock-only resolution', () => {
  it('always ends with --package-lock-only, whatever the user gave (`--package-lock-only=false` resolves lock-only too)', async () => {
    for (const argv of [['install', 'evil'], ['install', '--package-lock-only', 'evil'], ['install', '--package-lock-only=false', 'evil'], ['install', '--package-lock-only', 'evil', '--package-lock-o=false']]) {
      const calls = await gated(argv);
      expect(calls, argv.join(' ')).toHaveLength(1);
      expect(calls[0]!.argv).toEqual([...argv, '--package-lock-only', '--ignore-scripts', '--package-lock', '--allow-git=none', '--no-audit', '--no-fund']);
    }
  });
});

describe('the checked lockfile is the one npm installs', () => {
  it('`--no-package-lock` (or package-lock=false in an .npmrc) cannot make npm ignore it: --package-lock comes after the user\'s options', async () => {
    const { ctx, calls } = fakeProject();
    writeFileSync(join(ctx.cwd, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', version: '1.0.0' } } }));
    writeFileSync(join(ctx.cwd, '.npmrc'), 'package-lock=false\n');
    expect(await gateResolve(parseNpmArguments(['install', '--no-package-lock']), ctx)).toBe(0);
    const [resolution, install] = calls();
    expect(resolution!.argv.indexOf('--package-lock')).toBeGreaterThan(resolution!.argv.indexOf('--no-package-lock'));
    expect(install!.argv[0]).toBe('install');
    expect(install!.argv.indexOf('--package-lock')).toBeGreaterThan(install!.argv.indexOf('--no-package-lock'));
    expect(install!.ignoreScripts).toBe('true');
  });
});
