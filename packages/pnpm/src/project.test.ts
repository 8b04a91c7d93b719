import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { currentProject, signatureVerificationHere } from './project.js';
import { newInstallState } from './state.js';

describe('signatureVerificationHere', () => {
  it("pnpm 12's hook worker (a Node process of its own, argv `node` alone) verifies on its own thread", () => {
    expect(signatureVerificationHere(['/usr/bin/node'], true)).toBe('calling-thread');
  });

  it("pnpm 10 and 11 (hooks in pnpm's process, its command line in argv) and their judging thread keep the thread pool", async () => {
    expect(signatureVerificationHere(['/usr/bin/node', '/usr/lib/node_modules/pnpm/bin/pnpm.cjs', 'install'], true)).toBe('thread-pool');
    expect(signatureVerificationHere(['/usr/bin/node', '[worker eval]'], false)).toBe('thread-pool');
    // A worker thread's own argv is as short as pnpm 12's worker process's: told apart by isMainThread.
    const seen = await new Promise<unknown>((resolve, reject) => {
      const worker = new Worker("require('node:worker_threads').parentPort.postMessage([process.argv.length, require('node:worker_threads').isMainThread])", { eval: true });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(seen).toEqual([2, false]);
  });
});

describe('currentProject', () => {
  it("in pnpm 12's second worker, opens the project updateConfig told it of, with pnpm's registries (as preResolution is told them), not the .npmrc files' alone", async () => {
    const base = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-told-'));
    const dir = join(base, 'project');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    writeFileSync(join(dir, '.npmrc'), 'registry=http://127.0.0.1:4001/\n');
    writeFileSync(join(base, 'user.npmrc'), '');
    const saved = { ...process.env };
    // Run under `pnpm run test`, the environment names pnpm's workspace and settings (npm_config_*): not this project's.
    for (const key of Object.keys(process.env)) if (/^(npm|pnpm)_config_/i.test(key)) delete process.env[key];
    Object.assign(process.env, { npm_config_userconfig: join(base, 'user.npmrc'), PORTCULLIS_STATE_DIR: join(base, 'state'), PORTCULLIS_CACHE_DIR: join(base, 'cache') });
    try {
      const told = newInstallState();
      told.told = { dir, registries: { default: 'http://127.0.0.1:4002/', '@acme': 'http://127.0.0.1:4003/' } };
      const project = await currentProject(told);
      expect(project.dir).toBe(dir);
      expect(project.registryConfig.registryFor('left-pad')).toBe('http://127.0.0.1:4002/');
      expect(project.registryConfig.registryFor('@acme/widget')).toBe('http://127.0.0.1:4003/');
      // Not told: the project's .npmrc decides, as before.
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        expect((await currentProject(newInstallState())).registryConfig.registryFor('left-pad')).toBe('http://127.0.0.1:4001/');
      } finally {
        process.chdir(cwd);
      }
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
