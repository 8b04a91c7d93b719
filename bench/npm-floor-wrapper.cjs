#!/usr/bin/env node
// The floor of a gate that vouches for what npm installed (bench/npm-wrapper.mjs): the no-op control
// (npm-noop-wrapper.cjs), and once npm has ended well, what any check of the installed copies must do at least before
// a script may run, as portcullis-npm does it (core's installedStamp, then readInstalledFiles): each copy's
// package.json and binding.gyp at the paths package-lock.json names, stat'd; and when a package.json changed less than
// 3 s ago (after `npm ci`, all of them), a stat cannot vouch for it, so every package.json is read and parsed. It
// decides nothing, keeps nothing and remembers nothing: the paths are listed while npm runs (the lockfile is already
// there for a warm install and `ci`). Node built-ins only.
'use strict';
const { spawn } = require('node:child_process');
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const SETTLED_NS = 3_000n * 1_000_000n;
let folders;
const npm = spawn(process.execPath, [process.env.PORTCULLIS_NPM, ...process.argv.slice(2)], { stdio: 'inherit' });
setImmediate(() => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
  folders = Object.keys(lock.packages ?? {})
    .filter((path) => path !== '')
    .map((path) => join(process.cwd(), path));
});
npm.on('error', (error) => {
  process.stderr.write(`npm-floor-wrapper: ${error.message}\n`);
  process.exit(1);
});
npm.on('close', (code) => {
  if (code === 0) {
    const now = BigInt(Date.now()) * 1_000_000n;
    let fresh = false;
    for (const folder of folders) {
      const manifest = statSync(join(folder, 'package.json'), { bigint: true, throwIfNoEntry: false });
      if (manifest !== undefined && manifest.ctimeNs >= now - SETTLED_NS) {
        fresh = true;
        break;
      }
      statSync(join(folder, 'binding.gyp'), { bigint: true, throwIfNoEntry: false });
    }
    if (fresh) {
      for (const folder of folders) {
        try {
          JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
        } catch {
          // not installed (an optional dependency of another platform): nothing to read
        }
        statSync(join(folder, 'binding.gyp'), { throwIfNoEntry: false });
      }
    }
  }
  process.exit(code ?? 1);
});
