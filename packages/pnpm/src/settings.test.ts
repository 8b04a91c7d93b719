import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pnpmAncestorCommandLine } from './settings.js';

/** A fake /proc: pid → [cmdline args, ppid]. */
function fakeProc(processes: Record<number, [string[], number]>): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-proc-'));
  for (const [pid, [argv, ppid]] of Object.entries(processes)) {
    mkdirSync(join(dir, pid));
    writeFileSync(join(dir, pid, 'cmdline'), `${argv.join('\0')}\0`);
    writeFileSync(join(dir, pid, 'stat'), `${pid} (${(argv[0] ?? '').split('/').pop()} (x)) S ${ppid} ${pid} ${pid} 0 -1`);
  }
  return dir;
}

describe('pnpmAncestorCommandLine (pnpm 12 runs hooks in a child node process)', () => {
  it('reads the parent when it is pnpm', () => {
    const proc = fakeProc({ 20: [['/opt/@pnpm/exe.linux-x64/pnpm', 'install', '--config.allow-builds={"x":true}'], 10] });
    expect(pnpmAncestorCommandLine(20, proc)).toEqual(['install', '--config.allow-builds={"x":true}']);
  });

  it('walks past a `node` shim (a shell between pnpm and its hook worker)', () => {
    const proc = fakeProc({
      30: [['/bin/sh', '/home/u/.volta/bin/node', '--input-type', 'commonjs', '-e', '…'], 20],
      20: [['/usr/local/bin/pnpm', 'add', 'x', '--dangerously-allow-all-builds'], 10],
      10: [['bash'], 1],
    });
    expect(pnpmAncestorCommandLine(30, proc)).toEqual(['add', 'x', '--dangerously-allow-all-builds']);
  });

  it('is undefined when no ancestor is pnpm or /proc cannot be read', () => {
    const proc = fakeProc({ 30: [['/bin/sh', 'x'], 20], 20: [['bash'], 1] });
    expect(pnpmAncestorCommandLine(30, proc)).toBeUndefined();
    expect(pnpmAncestorCommandLine(99, proc)).toBeUndefined();
  });
});
