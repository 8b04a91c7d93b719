#!/usr/bin/env node
// Sets the workspace up on a machine that has only Node >= 20 and npm: installs the pinned pnpm
// into .tools/ with plain npm (no global pnpm, no corepack), then the workspace, then builds it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tools = join(root, '.tools');

// turbo looks the package manager up on PATH: put the pinned pnpm there.
function toolEnv() {
  return { ...process.env, PATH: `${join(tools, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`, TURBO_TELEMETRY_DISABLED: '1' };
}

function run(command, args, cwd = root) {
  console.log(`\n$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: toolEnv() });
  if (result.status !== 0) {
    console.error(`bootstrap: "${[command, ...args].join(' ')}" failed with exit code ${result.status ?? result.signal}`);
    process.exit(result.status ?? 1);
  }
}

const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`bootstrap: Node ${process.versions.node} is too old; Portcullis needs Node >= 20.`);
  process.exit(2);
}

const wanted = JSON.parse(readFileSync(join(tools, 'package.json'), 'utf8')).devDependencies.pnpm;
const pnpmManifest = join(tools, 'node_modules', 'pnpm', 'package.json');
const have = existsSync(pnpmManifest) ? JSON.parse(readFileSync(pnpmManifest, 'utf8')).version : null;
if (have !== wanted) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], tools);
}

const pnpm = join(tools, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
run(process.execPath, [pnpm, 'install', '--frozen-lockfile']);
run(process.execPath, [pnpm, 'run', 'build']);
