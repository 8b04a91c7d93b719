import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { approveCommand, type ApproveTerminal } from './approve.js';
import { choiceLabel } from './approve-picker.js';

/** An npm project, installed, with three blocked builds (signatures off: no registry needed). */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-approve-'));
  writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify({ scripts: { allow: [] }, signatures: { require: 'off' } }, null, 2)}\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
  const packages: Record<string, object> = { '': { name: 'app' } };
  for (const [name, script] of [['alpha', 'postinstall'], ['beta', 'preinstall'], ['gamma', 'install']] as const) {
    packages[`node_modules/${name}`] = { version: '1.0.0', resolved: `git+https://git.example/${name}.git#0123456789abcdef0123456789abcdef01234567` };
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: { [script]: `node ${name}.js` } }));
  }
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, packages }));
  return dir;
}

const allow = (dir: string) => (JSON.parse(readFileSync(join(dir, 'portcullis.json'), 'utf8')) as { scripts: { allow: string[] } }).scripts.allow;

let out: string[];
beforeEach(() => {
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  const home = mkdtempSync(join(tmpdir(), 'pc-approve-home-'));
  vi.stubEnv('PORTCULLIS_CACHE_DIR', join(home, 'cache'));
  vi.stubEnv('PORTCULLIS_STATE_DIR', join(home, 'state'));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const terminal = (interactive: boolean, pick: ApproveTerminal['pick'] = () => Promise.reject(new Error('must not ask'))): ApproveTerminal => ({ interactive, pick });

describe('portcullis approve with no names', () => {
  it('without a terminal: lists what would run and the exact command, exits 1, never asks, writes nothing', async () => {
    const dir = project();
    const before = readFileSync(join(dir, 'portcullis.json'), 'utf8');
    const pick = vi.fn(terminal(false).pick);
    expect(await approveCommand(['--dir', dir], terminal(false, pick))).toBe(1);
    const text = out.join('');
    expect(text).toContain('  alpha@1.0.0\n    runs postinstall: node alpha.js\n');
    expect(text).toContain('  beta@1.0.0\n    runs preinstall: node beta.js\n');
    expect(text).toContain('\n  portcullis approve alpha@1.0.0 beta@1.0.0 gamma@1.0.0\n');
    expect(pick).not.toHaveBeenCalled();
    expect(readFileSync(join(dir, 'portcullis.json'), 'utf8')).toBe(before);
  });

  it('--yes on a terminal does not ask either', async () => {
    const dir = project();
    const pick = vi.fn(terminal(true).pick);
    expect(await approveCommand(['--dir', dir, '--yes'], terminal(true, pick))).toBe(1);
    expect(pick).not.toHaveBeenCalled();
    expect(allow(dir)).toEqual([]);
  });

  it('on a terminal: offers every blocked build, writes exactly the chosen ones', async () => {
    const dir = project();
    const pick = vi.fn<ApproveTerminal['pick']>(async (entries) => entries.filter((e) => e.package !== 'beta'));
    expect(await approveCommand(['--dir', dir], terminal(true, pick))).toBe(0);
    expect(pick.mock.calls[0]![0].map((e) => e.package)).toEqual(['alpha', 'beta', 'gamma']);
    expect(allow(dir)).toEqual(['alpha@1.0.0', 'gamma@1.0.0']);
    expect(out.join('')).toContain('+ scripts.allow: "alpha@1.0.0"');
  });

  it('cancelled, or nothing chosen: nothing written, exit 1', async () => {
    const dir = project();
    expect(await approveCommand(['--dir', dir], terminal(true, async () => undefined))).toBe(1);
    expect(await approveCommand(['--dir', dir], terminal(true, async () => []))).toBe(1);
    expect(allow(dir)).toEqual([]);
    expect(out.join('')).toContain('cancelled: nothing written');
  });

  it('--all approves every blocked build without asking; names and --all together are a usage error', async () => {
    const dir = project();
    expect(await approveCommand(['--dir', dir, '--all'], terminal(true))).toBe(0);
    expect(allow(dir)).toEqual(['alpha@1.0.0', 'beta@1.0.0', 'gamma@1.0.0']);
    await expect(approveCommand(['--dir', dir, '--all', 'alpha'], terminal(false))).rejects.toThrow('names or --all, not both');
  });

  it('nothing blocked: says so and exits 0', async () => {
    const dir = project();
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ scripts: { allow: ['alpha', 'beta', 'gamma'] }, signatures: { require: 'off' } }));
    expect(await approveCommand(['--dir', dir], terminal(false))).toBe(0);
    expect(out.join('')).toContain('Nothing is blocked');
  });

  it('a choice is one row: the command line is cut, the rest is in the listing', () => {
    const label = choiceLabel({ key: 'k', form: 'scripts', package: 'x', version: '1.0.0', approves: ['x@1.0.0'], runs: [`postinstall: node ${'a'.repeat(200)}`, 'node-gyp rebuild (binding.gyp)'], facts: [], reason: '' });
    expect(label.length).toBeLessThan(130);
    expect(label).toMatch(/^x@1\.0\.0 — postinstall: node a+… \(\+1 more\)$/);
  });
});
