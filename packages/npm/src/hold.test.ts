import { spawn } from 'node:child_process';
import { buildSync } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELD_NPM_STOPPED, HOLD_ENV } from './hold.js';
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
    const held = holdNpm(npm, ['install', '--no-audit'], { cwd: dir, env: { PATH: process.env.PATH }, holdWith: LOADER });
    expect(held.pid).toBeTypeOf('number');
    // Long enough for Node to start and load the loader: the process is there, held.
    await new Promise((r) => setTimeout(r, 600));
    expect(alive(held.pid!)).toBe(true);
    expect(existsSync(ran)).toBe(false);
    const result = await held.go();
    expect(result.code).toBe(7);
    const seen = JSON.parse(readFileSync(ran, 'utf8')) as { args: string[]; hold: string | null; execArgv: string[]; cwd: string };
    expect(seen.args).toEqual(['install', '--no-audit']);
    expect(seen.hold).toBeNull();
    expect(seen.execArgv).not.toContain(LOADER);
    await expect(held.go()).rejects.toThrow(/already let go/);
  });

  it('stop ends the held npm unrun', async () => {
    const { npm, ran, dir } = fakeNpm();
    const held = holdNpm(npm, ['ci'], { cwd: dir, env: { PATH: process.env.PATH }, holdWith: LOADER });
    await new Promise((r) => setTimeout(r, 300));
    await held.stop();
    expect(alive(held.pid!)).toBe(false);
    expect(existsSync(ran)).toBe(false);
    await expect(held.go()).rejects.toThrow(/stopped/);
  });

  it('a wrapper that ends without an answer (an exception, a signal) leaves nothing running: the held npm ends unrun', async () => {
    const { npm, ran, dir } = fakeNpm();
    // A wrapper process that holds npm, reports the held pid and exits at once (no go, no stop).
    const script = join(dir, 'wrapper.cjs');
    const holding = buildSync({ entryPoints: [join(import.meta.dirname, 'npm-process.ts')], bundle: true, platform: 'node', format: 'cjs', write: false }).outputFiles[0]!.text;
    writeFileSync(
      script,
      `${holding}\nconst held = module.exports.holdNpm(${JSON.stringify(npm)}, ['ci'], { cwd: ${JSON.stringify(dir)}, env: { PATH: process.env.PATH }, holdWith: ${JSON.stringify(LOADER)} });\n` +
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
    const held = holdNpm(npm, ['ci'], { cwd: dir, env: { PATH: process.env.PATH }, holdWith: failing });
    await until(() => !alive(held.pid!));
    expect(existsSync(ran)).toBe(false);
    expect((await held.go()).code).toBe(7);
    expect(JSON.parse(readFileSync(ran, 'utf8')).args).toEqual(['ci']);
  });

  it('without the loader (or with an npm that is not a script) npm starts only at go', async () => {
    const { npm, ran, dir } = fakeNpm();
    const held = holdNpm(npm, ['ci'], { cwd: dir, env: { PATH: process.env.PATH }, holdWith: undefined });
    expect(held.pid).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(ran)).toBe(false);
    expect((await held.go()).code).toBe(7);
    expect(existsSync(ran)).toBe(true);
  });
});
