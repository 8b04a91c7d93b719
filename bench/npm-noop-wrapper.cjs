#!/usr/bin/env node
// The no-op control for portcullis-npm (bench/npm-wrapper.mjs): a Node process that runs npm (`PORTCULLIS_NPM`,
// npm-cli.js) with its own arguments and exits with npm's code, deciding nothing. What any wrapper in a process of its
// own costs npm: Node's start, the spawn and the wait. Node built-ins only.
'use strict';
const { spawn } = require('node:child_process');
const npm = spawn(process.execPath, [process.env.PORTCULLIS_NPM, ...process.argv.slice(2)], { stdio: 'inherit' });
npm.on('error', (error) => {
  process.stderr.write(`npm-noop-wrapper: ${error.message}\n`);
  process.exit(1);
});
npm.on('close', (code) => process.exit(code ?? 1));
