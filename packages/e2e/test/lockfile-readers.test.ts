/**
 * The lockfile readers against lockfiles the real npm, pnpm and Yarn write at test time, resolving from
 * the local test registry: names, versions, integrity as the registry published it, aliases, sources.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
// The core package does not export the readers from its root yet; import them from their module.
import { readLockfile, readPnpmLockfile } from '../../core/src/lockfile/index.js';
import type { Lockfile, PackageNode } from '../../core/src/model.js';
import { npm, pnpm, yarn, type Tool } from '../src/toolbox.js';

const fixtures = [
  cleanPackage('plain', '1.0.0'),
  cleanPackage('@acme/scoped', '2.0.0'),
  cleanPackage('dup', '1.0.0'),
  cleanPackage('dup', '2.0.0'),
  cleanPackage('needs-old-dup', '1.0.0', { dependencies: { dup: '1.0.0' } }),
  withPostinstall('builds', '1.0.0'),
];
const rootDependencies = {
  plain: '^1.0.0',
  '@acme/scoped': '2.0.0',
  dup: '2.0.0',
  'needs-old-dup': '1.0.0',
  'old-dup': 'npm:dup@1.0.0',
  builds: '1.0.0',
  'local-dep': 'file:./local-dep',
};

let registry: TestRegistry;
let scratch: string;

beforeAll(async () => {
  registry = await startRegistry({ packages: fixtures });
  scratch = mkdtempSync(join(tmpdir(), 'portcullis-lockfiles-'));
});
afterAll(async () => {
  await registry?.close();
});

/** Writes the project: root, one workspace (`@fixture/lib` → plain), one `file:` folder. */
function makeProject(name: string, workspaceSpec: string, extra: Record<string, string> = {}): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'packages', 'lib'), { recursive: true });
  mkdirSync(join(dir, 'local-dep'), { recursive: true });
  const manifest = { name: 'fixture-app', version: '1.0.0', private: true, workspaces: ['packages/*'], dependencies: { ...rootDependencies, '@fixture/lib': workspaceSpec } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'packages', 'lib', 'package.json'), JSON.stringify({ name: '@fixture/lib', version: '1.0.0', dependencies: { plain: '1.0.0' } }));
  writeFileSync(join(dir, 'local-dep', 'package.json'), JSON.stringify({ name: 'local-dep', version: '0.2.0', dependencies: { '@acme/scoped': '^2.0.0' } }));
  for (const [file, content] of Object.entries(extra)) writeFileSync(join(dir, file), content);
  return dir;
}

/**
 * Runs one client in `cwd` with its configuration isolated from the machine's. Asynchronous on purpose:
 * the registry serves from this process, so a synchronous spawn would deadlock it.
 */
async function run(tool: Tool, args: string[], cwd: string): Promise<void> {
  const home = join(cwd, '.home');
  mkdirSync(home, { recursive: true });
  const userconfig = join(home, '.npmrc');
  writeFileSync(userconfig, `registry=${registry.url}\n`);
  const child = spawn(tool.command, [...tool.args, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      npm_config_userconfig: userconfig,
      npm_config_registry: registry.url,
      npm_config_cache: join(home, 'npm-cache'),
      npm_config_update_notifier: 'false',
      COREPACK_ENABLE_STRICT: '0',
      YARN_ENABLE_TELEMETRY: '0',
      YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
      YARN_ENABLE_GLOBAL_CACHE: 'false',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (status !== 0) throw new Error(`${tool.name} ${args.join(' ')} failed (${status}):\n${output}`);
}

const registryFor = () => registry.url;
const find = (lockfile: Lockfile, name: string, version: string): PackageNode => {
  const node = lockfile.packages.find((p) => p.name === name && p.version === version);
  if (!node) throw new Error(`${name}@${version} missing from ${lockfile.path}: ${lockfile.packages.map((p) => p.id).join(', ')}`);
  return node;
};

/** What every reader must agree on, whichever client wrote the lockfile. */
function expectCommonFacts(lockfile: Lockfile, withIntegrity: boolean): void {
  for (const spec of fixtures) {
    if (spec.name === 'dup' && spec.version === '2.0.0') continue; // checked below with its dependents
    const node = find(lockfile, spec.name, spec.version);
    expect(node.source, node.id).toBe('registry');
    expect(node.registry, node.id).toBe(registry.url);
    if (withIntegrity) expect(node.integrity, node.id).toBe(registry.integrity(spec.name, spec.version));
    else expect(node.integrity, node.id).toBeUndefined();
  }
  // One identity per version, whatever the layout; the alias names the real package.
  expect(lockfile.packages.filter((p) => p.name === 'dup').map((p) => p.version).sort()).toEqual(['1.0.0', '2.0.0']);
  expect(find(lockfile, 'dup', '1.0.0').aliases).toEqual(['old-dup']);
  expect(find(lockfile, 'dup', '1.0.0').dependents).toEqual(expect.arrayContaining(['.', 'needs-old-dup@1.0.0']));
  expect(find(lockfile, 'dup', '2.0.0').dependents).toEqual(['.']);
  expect(find(lockfile, 'plain', '1.0.0').dependents).toEqual(['.', 'packages/lib']);
  expect(lockfile.packages.find((p) => p.name === '@fixture/lib')).toMatchObject({ id: 'packages/lib', source: 'workspace' });
  expect(lockfile.packages.find((p) => p.name === 'local-dep')).toMatchObject({ source: 'directory', insideProject: true });
  expect(lockfile.packages.some((p) => p.name === 'old-dup')).toBe(false);
}

describe('lockfile readers on lockfiles written by the real clients', () => {
  it('reads what npm 11 writes, with resolved URLs on the test registry', async () => {
    const dir = makeProject('npm', '^1.0.0');
    await run(npm(11), ['install', '--package-lock-only', '--ignore-scripts', '--omit-lockfile-registry-resolved=false'], dir);
    const lockfile = readLockfile(join(dir, 'package-lock.json'), { registryFor });
    // Each resolved URL is exactly the configured registry's tarball for that name and version.
    expectCommonFacts(lockfile, true);
    // Read against another registry, the same URLs are remote tarballs: the lockfile never chooses the registry.
    const elsewhere = readLockfile(join(dir, 'package-lock.json'), { registryFor: () => 'https://wrong.example/' });
    expect(find(elsewhere, 'plain', '1.0.0')).toMatchObject({ source: 'tarball', resolved: `${registry.url}plain/-/plain-1.0.0.tgz` });
    expect(find(lockfile, 'builds', '1.0.0').hasInstallScript).toBe(true);
    expect(find(lockfile, 'plain', '1.0.0').hasInstallScript).toBe(false);
    expect(find(lockfile, 'dup', '1.0.0').paths.sort()).toEqual(['node_modules/needs-old-dup/node_modules/dup', 'node_modules/old-dup']);
    expect(find(lockfile, 'dup', '2.0.0').paths).toEqual(['node_modules/dup']);
  });

  it('reads what npm 11 writes with omit-lockfile-registry-resolved, taking the registry from registryFor', async () => {
    const dir = makeProject('npm-omit', '^1.0.0');
    await run(npm(11), ['install', '--package-lock-only', '--ignore-scripts', '--omit-lockfile-registry-resolved=true'], dir);
    const lockfile = readLockfile(join(dir, 'package-lock.json'), { registryFor });
    expectCommonFacts(lockfile, true);
    expect(find(lockfile, 'plain', '1.0.0').resolved).toBeUndefined();
  });

  it('reads what pnpm 10 writes, and the objects it hands its hooks, the same way', async () => {
    const pnpmfile = `const fs = require('fs');
module.exports = { hooks: {
  preResolution(ctx) { fs.writeFileSync(__dirname + '/pre-resolution.' + Date.now() + '.json', JSON.stringify(ctx.wantedLockfile)); },
  afterAllResolved(lockfile) { fs.writeFileSync(__dirname + '/after-all-resolved.json', JSON.stringify(lockfile)); return lockfile; },
} };
`;
    const dir = makeProject('pnpm', 'workspace:*', { 'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n", '.pnpmfile.cjs': pnpmfile });
    const store = ['--store-dir', join(dir, '.home', 'store')];
    await run(pnpm(10), ['install', '--lockfile-only', '--ignore-scripts', ...store], dir);
    await run(pnpm(10), ['install', '--lockfile-only', '--ignore-scripts', ...store], dir);
    const onDisk = readLockfile(join(dir, 'pnpm-lock.yaml'), { registryFor });
    expectCommonFacts(onDisk, true);

    const essentials = (lockfile: Lockfile) =>
      lockfile.packages.map(({ id, name, version, source, registry: r, integrity, aliases, dependents }) => ({ id, name, version, source, registry: r, integrity, aliases, dependents }));
    const opts = { path: join(dir, 'pnpm-lock.yaml'), projectDir: dir, registryFor };
    const afterAllResolved = JSON.parse(readFileSync(join(dir, 'after-all-resolved.json'), 'utf8')) as object;
    expect(essentials(readPnpmLockfile(afterAllResolved, opts))).toEqual(essentials(onDisk));
    const [, second] = readdirSync(dir).filter((f) => f.startsWith('pre-resolution.')).sort();
    if (second === undefined) throw new Error('preResolution did not run twice');
    const wanted = JSON.parse(readFileSync(join(dir, second), 'utf8')) as object;
    expect(essentials(readPnpmLockfile(wanted, opts))).toEqual(essentials(onDisk));
  });

  it('reads what pnpm 12 writes', async () => {
    const dir = makeProject('pnpm12', 'workspace:*', { 'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n" });
    await run(pnpm(12), ['install', '--lockfile-only', '--ignore-scripts', '--store-dir', join(dir, '.home', 'store')], dir);
    expectCommonFacts(readLockfile(join(dir, 'pnpm-lock.yaml'), { registryFor }), true);
  });

  it('reads what Yarn 4 writes: no npm integrity, Yarn checksums kept apart', async () => {
    const yarnrc = `npmRegistryServer: "${registry.url.replace(/\/$/, '')}"\nunsafeHttpWhitelist: ["127.0.0.1"]\nenableTelemetry: false\nenableGlobalCache: false\n`;
    const dir = makeProject('yarn', 'workspace:*', { '.yarnrc.yml': yarnrc, 'yarn.lock': '' });
    await run(yarn(), ['install', '--mode=update-lockfile'], dir);
    const lockfile = readLockfile(join(dir, 'yarn.lock'), { registryFor });
    expectCommonFacts(lockfile, false);
    for (const node of lockfile.packages.filter((p) => p.source === 'registry')) expect(node.yarnChecksum, node.id).toMatch(/^10c0\//);
  });
});
