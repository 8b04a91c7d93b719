import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Bundled the same way build.mjs does, into a temp dir, so the test does not depend on a prior build.
let dir: string;
let script: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-'));
  script = join(dir, 'serve.js');
  await build({ entryPoints: [new URL('./serve.ts', import.meta.url).pathname], outfile: script, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serve.js', () => {
  it('prints {url, pid}, serves the demo set, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [script, '--fixtures', 'demo', '--token', 't'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const announced = JSON.parse(line) as { url: string; pid: number };
    expect(announced.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(announced.pid).toBe(child.pid);
    expect((await fetch(`${announced.url}@acme%2flogger`)).status).toBe(401);
    expect((await fetch(`${announced.url}@acme%2flogger`, { headers: { authorization: 'Bearer t' } })).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('fails with exit 2 on an unknown fixture set', async () => {
    const child = spawn(process.execPath, [script, '--fixtures', 'nope'], { stdio: 'ignore' });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
  });
});
