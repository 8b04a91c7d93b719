/**
 * Smoke test of the test registry with the real package managers: each installs a small fixture
 * graph from it (scripts off), proving they accept its packuments and tarballs; npm also publishes.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanPackage, startRegistry, withBindingGyp, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { npm, pnpm, yarn, type Tool } from '../src/toolbox.js';

const fixtures = [
  cleanPackage('left-pad-lite', '1.0.0'),
  cleanPackage('left-pad-lite', '1.1.0'),
  cleanPackage('@acme/logger', '2.1.0', { dependencies: { 'left-pad-lite': '^1.0.0' }, bin: { 'acme-log': 'bin/log.js' } }),
  withPostinstall('evil-postinstall', '1.0.0'),
  withBindingGyp('native-addon', '1.0.0'),
];
const dependencies = { '@acme/logger': '^2.1.0', 'evil-postinstall': '1.0.0' };

let registry: TestRegistry;
let root: string;
beforeAll(async () => {
  registry = await startRegistry({ packages: fixtures, token: 'smoke-token' });
  root = mkdtempSync(join(tmpdir(), 'portcullis-registry-smoke-'));
});
afterAll(async () => {
  await registry.close();
  rmSync(root, { recursive: true, force: true });
});

/** The environment without the calling package manager's settings, which would leak into the child. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(npm_|yarn_|pnpm_|corepack_)/i.test(key)) env[key] = value;
  return { ...env, COREPACK_ENABLE_STRICT: '0', ...extra };
}

/** Runs a package manager asynchronously: spawnSync would freeze the registry, which lives in this process. */
function run(tool: Tool, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool.command, [...tool.args, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

/** A fresh project dir with its own package.json, plus an empty npm user config and cache beside it. */
function project(name: string, deps: Record<string, string> = dependencies): { dir: string; home: string } {
  const home = join(root, name);
  const dir = join(home, 'project');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(home, 'empty.npmrc'), '');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${name}`, version: '1.0.0', private: true, dependencies: deps }));
  return { dir, home };
}

const authLine = () => `//${new URL(registry.url).host}/:_authToken=smoke-token\n`;

function expectInstalled(dir: string): void {
  const logger = JSON.parse(readFileSync(join(dir, 'node_modules/@acme/logger/package.json'), 'utf8')) as { version: string };
  expect(logger.version).toBe('2.1.0');
  expect(existsSync(join(dir, 'node_modules/evil-postinstall/index.js'))).toBe(true);
}

describe('the test registry with real package managers', () => {
  it('npm 11 installs from it', async () => {
    const { dir, home } = project('npm');
    writeFileSync(join(dir, '.npmrc'), authLine());
    const r = await run(npm(11), ['install', '--registry', registry.url, '--ignore-scripts', '--userconfig', join(home, 'empty.npmrc'), '--cache', join(home, 'cache'), '--no-audit', '--no-fund'], dir);
    expect(r.status, r.output).toBe(0);
    expectInstalled(dir);
    expect(existsSync(join(dir, 'node_modules/left-pad-lite/package.json'))).toBe(true);
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { integrity?: string; hasInstallScript?: boolean }> };
    expect(lock.packages['node_modules/@acme/logger']!.integrity).toBe(registry.integrity('@acme/logger', '2.1.0'));
    expect(lock.packages['node_modules/evil-postinstall']!.hasInstallScript).toBe(true);
  });

  it('npm 11 publishes to it, and the published version is signed and installable', async () => {
    const { dir: source, home } = project('publish', {});
    writeFileSync(join(source, 'package.json'), JSON.stringify({ name: '@acme/published', version: '0.1.0', main: 'index.js' }));
    writeFileSync(join(source, 'index.js'), 'module.exports = 42;\n');
    writeFileSync(join(source, '.npmrc'), authLine());
    const r = await run(npm(11), ['publish', '--registry', registry.url, '--userconfig', join(home, 'empty.npmrc'), '--cache', join(home, 'cache'), '--provenance=false'], source);
    expect(r.status, r.output).toBe(0);
    const packument = (await (await fetch(`${registry.url}@acme%2fpublished`, { headers: { authorization: 'Bearer smoke-token' } })).json()) as {
      versions: Record<string, { dist: { integrity: string; signatures: Array<{ keyid: string }> } }>;
    };
    const dist = packument.versions['0.1.0']!.dist;
    expect(dist.integrity).toBe(registry.integrity('@acme/published', '0.1.0'));
    expect(dist.signatures[0]!.keyid).toBe(registry.keys.keys[0]!.keyid);
    const { dir } = project('publish-install', { '@acme/published': '^0.1.0' });
    writeFileSync(join(dir, '.npmrc'), authLine());
    const install = await run(npm(11), ['install', '--registry', registry.url, '--ignore-scripts', '--userconfig', join(home, 'empty.npmrc'), '--cache', join(home, 'cache2')], dir);
    expect(install.status, install.output).toBe(0);
    expect(readFileSync(join(dir, 'node_modules/@acme/published/index.js'), 'utf8')).toContain('42');
  });

  it('pnpm 10 installs from it', async () => {
    const { dir, home } = project('pnpm');
    writeFileSync(join(dir, '.npmrc'), authLine());
    const r = await run(pnpm(10), ['install', '--registry', registry.url, '--ignore-scripts', '--store-dir', join(home, 'store'), '--cache-dir', join(home, 'cache'), `--config.userconfig=${join(home, 'empty.npmrc')}`], dir);
    expect(r.status, r.output).toBe(0);
    expectInstalled(dir);
  });

  it('Yarn 4 installs from it', async () => {
    const { dir, home } = project('yarn');
    writeFileSync(
      join(dir, '.yarnrc.yml'),
      [
        `npmRegistryServer: "${registry.url.replace(/\/$/, '')}"`,
        'npmAuthToken: smoke-token',
        'npmAlwaysAuth: true', // otherwise Yarn sends the token only for publishing
        'unsafeHttpWhitelist: ["127.0.0.1"]',
        'enableGlobalCache: false',
        // Yarn keys its metadata cache by host without port: a shared global folder mixes registries.
        `globalFolder: "${join(home, 'yarn-global')}"`,
        'nodeLinker: node-modules',
        'enableTelemetry: false',
        'enableScripts: false',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'yarn.lock'), '');
    const r = await run(yarn(), ['install', '--no-immutable'] /* CI=true makes Yarn immutable by default */, dir, { HOME: home });
    expect(r.status, r.output).toBe(0);
    expectInstalled(dir);
  });
});
