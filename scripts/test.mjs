#!/usr/bin/env node
// `npm run ci`'s test step: the workspace's `test` (turbo: lint and vitest in every package) with every temporary file
// the suite makes in one folder of its own (TMPDIR), removed when the run ends. The tests make well over a thousand
// temporary folders a run (projects, stores, caches, registries' data) and not every one is removed when a test ends
// early: repeated runs had left 80 GB in /tmp on a CI machine here, until its disk was full and a run failed for it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'portcullis-test-run-'));
let status = 1;
try {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'pnpm.mjs'), 'run', 'test'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: dir, TMP: dir, TEMP: dir },
  });
  status = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
