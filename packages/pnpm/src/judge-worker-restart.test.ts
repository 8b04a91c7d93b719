import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// A Worker that starts once: the second start throws (as Node does when no thread can be made).
let starts = 0;
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class OnceWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      if (starts++ > 0) throw new Error('no thread can be started');
      super(...args);
    }
  }
  return { ...original, Worker: OnceWorker };
});

const { JudgeWorker } = await import('./judge-worker.js');

describe('JudgeWorker: a new thread that cannot start', () => {
  it('fails the question after retire() closed (UNDECIDED), never throws at the caller, and fails every later one', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'judge-worker-restart-')), 'pnpmfile.cjs');
    writeFileSync(file, "const { parentPort } = require('node:worker_threads');\nparentPort.on('message', (m) => { if (m.retire === true) process.exit(0); });\n");
    const worker = new JudgeWorker(file, { dir: '/nowhere', registrySettings: {} });
    worker.retire();
    const node = { id: 'a@1.0.0', name: 'a', version: '1.0.0', integrity: 'sha512-x', source: 'registry' as const, aliases: [], paths: [], dependents: ['.'] };
    const ask = () => worker.judge([node], new Map(), { partial: true, wholeGraphFollows: true });
    let asked!: Promise<unknown>;
    expect(() => (asked = ask())).not.toThrow();
    await expect(asked).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED', message: expect.stringContaining('no thread can be started') });
    await expect(ask()).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' });
    expect(starts).toBe(2);
  });
});
