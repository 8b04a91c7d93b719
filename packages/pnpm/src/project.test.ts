import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { signatureVerificationHere } from './project.js';

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
