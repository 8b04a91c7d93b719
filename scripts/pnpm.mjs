#!/usr/bin/env node
// Runs the workspace's pinned pnpm (installed into .tools/ by scripts/bootstrap.mjs).
import { spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pnpm = join(root, '.tools', 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const result = spawnSync(process.execPath, [pnpm, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  // turbo looks the package manager up on PATH: put the pinned pnpm there.
  env: { ...process.env, PATH: `${join(root, '.tools', 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`, TURBO_TELEMETRY_DISABLED: '1' },
});
process.exit(result.status ?? 1);
