import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
  return { out: () => out.join(''), err: () => err.join('') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('portcullis CLI', () => {
  it('prints usage and exits 0 on --help, 2 with no command', async () => {
    const io = capture();
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toContain('Usage: portcullis <command>');
    expect(await main([])).toBe(2);
  });

  it('exits 2 on an unknown command or option', async () => {
    const io = capture();
    expect(await main(['frobnicate'])).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
    expect(await main(['check', '--no-such-option'])).toBe(2);
    expect(await main(['check', '--format', 'xml'])).toBe(2);
    expect(io.err()).toContain('--format must be one of text, json, sarif');
  });

  it('exits 2 with file, line and column for a malformed policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
    writeFileSync(join(dir, 'portcullis.json'), '{\n  "scripts": {"allow": [1]}\n}\n');
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' } } }));
    const io = capture();
    expect(await main(['check', '--dir', dir])).toBe(2);
    expect(io.err()).toContain(`${join(dir, 'portcullis.json')}:2:25`);
  });

  it('exits 2 when there is no lockfile, and 0 for an empty project', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
    const io = capture();
    expect(await main(['check', '--dir', dir])).toBe(2);
    expect(io.err()).toContain('No lockfile');
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' } } }));
    expect(await main(['check', '--dir', dir, '--format', 'json'])).toBe(0);
    expect(JSON.parse(io.out()).findings).toEqual([]);
  });

  it('approve refuses names that are not installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' } } }));
    const io = capture();
    expect(await main(['approve', '--dir', dir, 'esbuild'])).toBe(2);
    expect(io.err()).toContain('no installed package matches it');
    // With no names it judges the lockfile instead (here nothing is blocked), and never waits for a terminal.
    expect(await main(['approve', '--dir', dir])).toBe(0);
    expect(io.out()).toContain('Nothing is blocked');
    expect(await main(['approve', '--dir', dir, '--cooldown', '--publisher'])).toBe(2);
  });
});
