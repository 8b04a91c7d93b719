import { spawn } from 'node:child_process';
import { buildSync } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sectionFrom, withSection } from '@portcullis/core/loader';
import type { Socket } from 'node:net';
import { startNpmEarly } from './early-npm.js';
import { GO, HELD_NPM_STOPPED, HOLD_ANSWER_MAX_BYTES, HOLD_ENV, HOLD_FD } from './hold.js';
import { main } from './main.js';
import { holdNpm, type NpmBinary } from './npm-process.js';

/** The built wrapper: what a held npm really loads (tests run after the build). */
const LOADER = join(import.meta.dirname, '..', 'dist', 'portcullis-npm.js');

/** An "npm" that records that it ran (its arguments, and whether anything of the hold reached it) and exits 7. */
function fakeNpm(): { npm: NpmBinary; ran: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-npm-hold-'));
  const ran = join(dir, 'ran.json');
  const file = join(dir, 'npm-cli.js');
  writeFileSync(
    file,
    `require('node:fs').writeFileSync(${JSON.stringify(ran)}, JSON.stringify({ args: process.argv.slice(2), hold: process.env.${HOLD_ENV} ?? null, execArgv: process.execArgv, cwd: process.cwd() })); process.exitCode = 7;`,
  );
  return { npm: { command: process.execPath, prefixArgs: [file], version: '11.0.0' }, ran, dir };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(test: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('holdNpm', () => {
  it('starts npm at once but runs none of it before go; go lets it run with its arguments, and nothing of the hold reaches it', async () => {
    const { npm, ran, dir } = fakeNpm();
    const held = holdNpm(npm, { cwd: dir, env: { PATH: process.env.PATH }, holdWith: LOADER });
    expect(held.pid).toBeTypeOf('number');
    // Long enough for Node to start and load the loader: the process is there, held.
    await new Promise((r) => setTimeout(r, 600));
    expect(alive(held.pid!)).toBe(true);
    expect(existsSync(ran)).toBe(false);
    const result = await held.go(['install', '--no-audit', 'a b', '"quoted"', 'ünïcode']);
    expect(result.code).toBe(7);
    const seen = JSON.parse(readFileSync(ran, 'utf8')) as { args: string[]; hold: string | null; execArgv: string[]; cwd: string };
    // The arguments came with the answer: npm reads them as given, nothing added.
    expect(seen.args).toEqual(['install', '--no-audit', 'a b', '"quoted"', 'ünïcode']);
    expect(seen.hold).toBeNull();
    expect(seen.execArgv).not.toContain(LOADER);
    await expect(held.go(['ci'])).rejects.toThrow(/already let go/);
  });

  it('stop ends the held npm unrun', async () => {
    const { npm, ran, dir } = fakeNpm();
    const held = holdNpm(npm, { cwd: dir, env: { PATH: process.env.PATH }, holdWith: LOADER });
    await new Promise((r) => setTimeout(r, 300));
    await held.stop();
    expect(alive(held.pid!)).toBe(false);
    expect(existsSync(ran)).toBe(false);
    await expect(held.go(['ci'])).rejects.toThrow(/stopped/);
  });

  it('a wrapper that ends without an answer (an exception, a signal) leaves nothing running: the held npm ends unrun', async () => {
    const { npm, ran, dir } = fakeNpm();
    // A wrapper process that holds npm, reports the held pid and exits at once (no go, no stop).
    const script = join(dir, 'wrapper.cjs');
    const holding = buildSync({ entryPoints: [join(import.meta.dirname, 'npm-process.ts')], bundle: true, platform: 'node', format: 'cjs', write: false }).outputFiles[0]!.text;
    writeFileSync(
      script,
      `${holding}\nconst held = module.exports.holdNpm(${JSON.stringify(npm)}, { cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH }, holdWith: ${JSON.stringify(LOADER)} });\n` +
        `process.stdout.write(String(held.pid));\n`,
    );
    const wrapper = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    wrapper.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => wrapper.on('close', resolve));
    expect(code).toBe(0);
    const pid = Number(out);
    expect(pid).toBeGreaterThan(0);
    await until(() => !alive(pid));
    expect(existsSync(ran)).toBe(false);
  });

  it('a process started with the loader and any other hold value ends unrun', async () => {
    const { npm, ran, dir } = fakeNpm();
    const child = spawn(process.execPath, ['--require', LOADER, ...npm.prefixArgs], { cwd: dir, env: { PATH: process.env.PATH, [HOLD_ENV]: '0' }, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(HELD_NPM_STOPPED);
    expect(existsSync(ran)).toBe(false);
    // Set by hand: the reason and the fix.
    expect(stderr).toContain(`${HOLD_ENV} is set (to "0")`);
    expect(stderr).toContain(`unset ${HOLD_ENV} and run the command again`);
  });

  it('a held npm that ended before go (it could not be held) is started the usual way at go, and only then', async () => {
    const { npm, ran, dir } = fakeNpm();
    const failing = join(dir, 'cannot-hold.cjs');
    writeFileSync(failing, 'process.exit(1);');
    const held = holdNpm(npm, { cwd: dir, env: { PATH: process.env.PATH }, holdWith: failing });
    await until(() => !alive(held.pid!));
    expect(existsSync(ran)).toBe(false);
    expect((await held.go(['ci'])).code).toBe(7);
    expect(JSON.parse(readFileSync(ran, 'utf8')).args).toEqual(['ci']);
  });

  it('arguments longer than a held npm reads: the held process ends unrun and npm is started with them the usual way', async () => {
    const { npm, ran, dir } = fakeNpm();
    const held = holdNpm(npm, { cwd: dir, env: { PATH: process.env.PATH }, holdWith: LOADER });
    // Within what one command line may carry on Linux (2 MiB, 128 KiB an argument), beyond the 1 MiB a held npm reads.
    const args = ['install', ...Array.from({ length: 12 }, (_, i) => `${i}-${'x'.repeat(100_000)}`)];
    expect((await held.go(args)).code).toBe(7);
    expect(alive(held.pid!)).toBe(false);
    expect(JSON.parse(readFileSync(ran, 'utf8')).args).toEqual(args);
  });

  it('without the loader (or with an npm that is not a script) npm starts only at go', async () => {
    const { npm, ran, dir } = fakeNpm();
    const held = holdNpm(npm, { cwd: dir, env: { PATH: process.env.PATH }, holdWith: undefined });
    expect(held.pid).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(ran)).toBe(false);
    expect((await held.go(['ci'])).code).toBe(7);
    expect(JSON.parse(readFileSync(ran, 'utf8')).args).toEqual(['ci']);
  });

  /** A process held with the loader whose pipe gets `answer` (bytes), then closes. */
  async function answered(answer: Buffer): Promise<{ code: number | null; ran: boolean }> {
    const { npm, ran, dir } = fakeNpm();
    const child = spawn(process.execPath, ['--require', LOADER, ...npm.prefixArgs], { cwd: dir, env: { PATH: process.env.PATH, [HOLD_ENV]: String(HOLD_FD) }, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    const pipe = child.stdio[HOLD_FD] as Socket;
    pipe.on('error', () => {});
    pipe.end(answer);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, ran: existsSync(ran) };
  }

  it('a held npm runs only on GO followed by a JSON array of strings; anything else written to it ends it unrun', async () => {
    expect(await answered(Buffer.concat([Buffer.from([GO]), Buffer.from('["ci"]')]))).toEqual({ code: 7, ran: true });
    const refused = [
      Buffer.alloc(0),
      Buffer.from([GO]),
      Buffer.from('["ci"]'),
      Buffer.concat([Buffer.from('x'), Buffer.from('["ci"]')]),
      Buffer.concat([Buffer.from([GO]), Buffer.from('{"0":"ci"}')]),
      Buffer.concat([Buffer.from([GO]), Buffer.from('["ci", 1]')]),
      Buffer.concat([Buffer.from([GO]), Buffer.from('["ci"')]),
      Buffer.concat([Buffer.from([GO]), Buffer.from(JSON.stringify(['ci', 'x'.repeat(HOLD_ANSWER_MAX_BYTES)]))]),
    ];
    for (const answer of refused) expect(await answered(answer)).toEqual({ code: HELD_NPM_STOPPED, ran: false });
  });
});

describe('startNpmEarly (the loader, before the engine loads)', () => {
  it('starts a held npm for `ci` and installs, and for nothing else: dry runs, lock-only, other commands, or no loader to hold with', async () => {
    const { npm, dir } = fakeNpm();
    const env = { PATH: process.env.PATH, PORTCULLIS_NPM: npm.prefixArgs[0] };
    for (const argv of [['ci'], ['install'], ['i', 'left-pad'], ['update'], ['install-test'], ['install', '--dry-run=false']]) {
      const early = startNpmEarly(argv, env, dir, LOADER);
      expect(early?.held.pid, argv.join(' ')).toBeTypeOf('number');
      expect(early!.npm).toMatchObject({ command: npm.command, prefixArgs: npm.prefixArgs });
      await early!.held.stop();
    }
    for (const argv of [['run', 'build'], ['install', '--dry-run'], ['install', '--package-lock-only'], ['exec', 'x'], ['rebuild'], ['test'], []]) expect(startNpmEarly(argv, env, dir, LOADER), argv.join(' ')).toBeUndefined();
    expect(startNpmEarly(['ci'], env, dir, undefined)).toBeUndefined();
    // An npm that is not a script this Node runs cannot be held; no npm at all is left to the engine to report.
    expect(startNpmEarly(['ci'], { PATH: process.env.PATH, PORTCULLIS_NPM: '/bin/true' }, dir, LOADER)).toBeUndefined();
    expect(startNpmEarly(['ci'], { PATH: '' }, dir, LOADER)).toBeUndefined();
  });

  it('the built wrapper with a damaged engine: exit 3, and the npm it started early never runs', async () => {
    const { npm, ran, dir } = fakeNpm();
    const text = readFileSync(LOADER, 'utf8');
    const marker = text.match(/^\/\/# portcullis-npm-engine .*$/m)![0];
    const engine = sectionFrom(text, marker)!;
    const at = engine.indexOf('return ');
    expect(at).toBeGreaterThan(0);
    const damaged = join(dir, 'portcullis-npm.js');
    writeFileSync(damaged, withSection(text, marker, `${engine.slice(0, at)}return  ${engine.slice(at + 'return '.length)}`));
    writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}');
    writeFileSync(join(dir, 'package-lock.json'), '{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"app","version":"1.0.0"}}}');
    const child = spawn(process.execPath, [damaged, 'ci'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, PORTCULLIS_NPM: npm.prefixArgs[0], PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state') }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise<number | null>((resolve) => child.on('close', resolve))).toBe(3);
    expect(stderr).toContain('is damaged');
    // Long enough for the held npm's Node to start and find the pipe closed.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(existsSync(ran)).toBe(false);
  });
});

describe('main with the npm the loader started early', () => {
  /** A project with an empty lockfile and an "npm" that records each run (its pid, arguments, scripts setting) and succeeds. */
  function project(): { dir: string; env: NodeJS.ProcessEnv; runs: () => Array<{ pid: number; args: string[]; ignoreScripts: string | null }> } {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-npm-early-'));
    const log = join(dir, 'runs.jsonl');
    const file = join(dir, 'npm-cli.js');
    writeFileSync(file, `require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify({ pid: process.pid, args: process.argv.slice(2), ignoreScripts: process.env.npm_config_ignore_scripts ?? null }) + '\\n');`);
    writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}');
    writeFileSync(join(dir, 'package-lock.json'), '{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0"}}}');
    const env = { PATH: process.env.PATH, HOME: dir, PORTCULLIS_NPM: file, PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state') };
    const runs = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pid: number; args: string[]; ignoreScripts: string | null }) : []);
    return { dir, env, runs };
  }

  it('`ci`: the held process is the npm that runs, with the arguments the gate gives it at go and scripts off', async () => {
    const { dir, env, runs } = project();
    const early = startNpmEarly(['ci'], env, dir, LOADER)!;
    expect(early.held.pid).toBeTypeOf('number');
    expect(await main(['ci'], env, dir, { holdWith: LOADER, early })).toBe(0);
    expect(runs()).toEqual([{ pid: early.held.pid, args: ['ci', '--ignore-scripts', '--package-lock', '--allow-git=none'], ignoreScripts: 'true' }]);
  });

  it('a refused install (a global one) stops it unrun', async () => {
    const { dir, env, runs } = project();
    const early = startNpmEarly(['install', '-g', 'left-pad'], env, dir, LOADER)!;
    expect(early.held.pid).toBeTypeOf('number');
    expect(await main(['install', '-g', 'left-pad'], env, dir, { holdWith: LOADER, early })).not.toBe(0);
    expect(alive(early.held.pid!)).toBe(false);
    expect(runs()).toEqual([]);
  });
});
