import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initCommand } from './init.js';

let out: string[];
beforeEach(() => {
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  vi.stubEnv('PORTCULLIS_POLICY', '');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Every file of the project, byte for byte. */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'base64')]));

/** An npm project whose package.json already allows builds three ways (npm, LavaMoat, Yarn's dependenciesMeta). */
function npmProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-init-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'app', allowScripts: { esbuild: true, evil: false }, lavamoat: { allowScripts: { 'webpack>fsevents': true } }, dependenciesMeta: { sharp: { built: true } } }, null, 2),
  );
  const packages: Record<string, object> = { '': { name: 'app' } };
  for (const [name, version] of [['esbuild', '0.25.0'], ['fsevents', '2.3.3'], ['evil', '1.0.0']]) packages[`node_modules/${name}`] = { version, resolved: `http://127.0.0.1:4873/${name}/-/${name}-${version}.tgz`, integrity: 'sha512-AAAA' };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, packages }));
  return dir;
}

describe('portcullis init with no package manager named', () => {
  it('detects npm, imports every allowlist pinned to the lockfile, sets npm up, and a second run changes no byte and says so', async () => {
    const dir = npmProject();
    expect(await initCommand(['--dir', dir])).toBe(0);
    const first = out.join('');
    expect(first).toContain('detected npm (package-lock.json)');
    expect(first).toContain('+ scripts.allow: "esbuild@0.25.0" (from package.json allowScripts)');
    expect(first).toContain('+ scripts.allow: "fsevents@2.3.3" (from package.json lavamoat.allowScripts)');
    // Not in the lockfile: kept as written, as approve would have nothing to pin it to.
    expect(first).toContain('+ scripts.allow: "sharp" (from package.json dependenciesMeta)');
    expect(first).toContain('Next: install through the gate');
    const policy = JSON.parse(readFileSync(join(dir, 'portcullis.json'), 'utf8')) as { scripts: { allow: string[] } };
    expect(policy.scripts.allow).toEqual(['esbuild@0.25.0', 'fsevents@2.3.3', 'sharp']);
    expect(readFileSync(join(dir, '.npmrc'), 'utf8')).toBe('ignore-scripts=true\n');

    const before = snapshot(dir);
    out.length = 0;
    expect(await initCommand(['--dir', dir])).toBe(0);
    expect(snapshot(dir)).toEqual(before);
    expect(out.join('')).toContain('Nothing changed: Portcullis is already set up for npm here.');
    expect(out.join('')).toContain('= scripts.allow: "esbuild@0.25.0" (from package.json allowScripts) already there');
  });

  it('imports into an existing portcullis.json, keeping its other settings', async () => {
    const dir = npmProject();
    writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify({ scripts: { allow: ['esbuild@0.25.0'] }, signatures: { require: 'off' } }, null, 4)}\n`);
    expect(await initCommand(['--dir', dir])).toBe(0);
    expect(readFileSync(join(dir, 'portcullis.json'), 'utf8')).toBe(`${JSON.stringify({ scripts: { allow: ['esbuild@0.25.0', 'fsevents@2.3.3', 'sharp'] }, signatures: { require: 'off' } }, null, 4)}\n`);
  });

  it('a repository that does not say which package manager it uses is a usage error naming the choices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-init-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', workspaces: ['packages/*'] }));
    await expect(initCommand(['--dir', dir])).rejects.toThrow(/cannot tell which package manager.*workspaces.*portcullis init npm/);
    expect(readdirSync(dir)).toEqual(['package.json']);
  });
});
