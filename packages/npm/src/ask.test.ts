import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASK } from './ask.js';
import { ASK_NONCE_BYTES, goWith, HELD_NPM_STOPPED, HOLD_ENV, HOLD_FD, HOLD_VALUE } from './hold.js';
import { holdNpm, type NpmBinary } from './npm-process.js';

/** The built wrapper: what a held npm really loads (tests run after the build). */
const LOADER = join(import.meta.dirname, '..', 'dist', 'portcullis-npm.js');

/**
 * An "npm" laid out as npm is (`bin/npm-cli.js`, its own `node_modules/@npmcli/arborist`) whose Arborist has the shape
 * ask.ts wraps: `reify()` resolves with `buildIdealTree()`, then installs with `[Symbol.for('diffTrees')]()` (which
 * writes `installed`). `cli` is npm-cli.js's body; `arborist` replaces the class's body. The unit tests' stand-in for
 * npm's structure; real npm 10, 11 and 12 are in the e2e tests.
 */
function fakeNpm(options: { cli?: string; arborist?: string } = {}): { npm: NpmBinary; dir: string; installed: string } {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-npm-ask-'));
  const installed = join(dir, 'installed');
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'node_modules', '@npmcli', 'arborist'), { recursive: true });
  const lockfile = JSON.stringify(join(dir, 'package-lock.json'));
  const arborist =
    options.arborist ??
    `constructor(options) { this.options = { formatPackageLock: true, ...options } }
     async buildIdealTree() {
       this.idealTree ??= { package: { [Symbol.for('indent')]: '\\t' }, meta: { filename: ${lockfile}, toString: ({ format }) => JSON.stringify({ lockfileVersion: 3, packages: {} }, null, format) + '\\n' } };
       return this.idealTree;
     }
     [Symbol.for('diffTrees')]() { require('node:fs').writeFileSync(${JSON.stringify(installed)}, 'yes') }
     async reify() { await this.buildIdealTree(); await this[Symbol.for('diffTrees')]() }`;
  writeFileSync(join(dir, 'node_modules', '@npmcli', 'arborist', 'package.json'), '{"name":"@npmcli/arborist","main":"index.js"}');
  writeFileSync(join(dir, 'node_modules', '@npmcli', 'arborist', 'index.js'), `module.exports = class Arborist { ${arborist} }`);
  const cli = options.cli ?? `const Arborist = require('@npmcli/arborist'); new Arborist({}).reify().then(() => { process.exitCode = 7 });`;
  writeFileSync(join(dir, 'bin', 'npm-cli.js'), cli);
  return { npm: { command: process.execPath, prefixArgs: [join(dir, 'bin', 'npm-cli.js')], version: '11.0.0' }, dir, installed };
}

const env = { PATH: process.env.PATH };

describe('goAsking (one npm run: npm resolves, asks, and installs only what was let through)', () => {
  it('the judge gets the lockfile npm would write (its path, its text in its format); let through, npm installs it', async () => {
    const { npm, dir, installed } = fakeNpm();
    const held = holdNpm(npm, { cwd: dir, env, holdWith: LOADER });
    const asked: unknown[] = [];
    const run = await held.goAsking(['install'], async (lockfile) => {
      asked.push(lockfile);
      // Nothing installed while the gate judges.
      expect(existsSync(installed)).toBe(false);
      return true;
    });
    expect(run).toMatchObject({ code: 7, outcome: 'allowed' });
    expect(asked).toEqual([{ file: join(dir, 'package-lock.json'), text: '{\n\t"lockfileVersion": 3,\n\t"packages": {}\n}\n' }]);
    expect(existsSync(installed)).toBe(true);
  });

  it('an Arborist loaded by a deeper path is wrapped too: npm still asks before it installs', async () => {
    const { npm, dir, installed } = fakeNpm({ cli: `const Arborist = require('@npmcli/arborist/index.js'); new Arborist({}).reify().then(() => { process.exitCode = 7 });` });
    let questions = 0;
    const run = await holdNpm(npm, { cwd: dir, env, holdWith: LOADER }).goAsking(['install'], async () => {
      questions++;
      return false;
    });
    expect(questions).toBe(1);
    expect(run.outcome).toBe('stopped');
    expect(existsSync(installed)).toBe(false);
  });

  it('not let through: npm ends where it asked, having installed nothing', async () => {
    const { npm, dir, installed } = fakeNpm();
    const run = await holdNpm(npm, { cwd: dir, env, holdWith: LOADER }).goAsking(['install'], async () => false);
    expect(run.outcome).toBe('stopped');
    expect(run.code).not.toBe(0);
    expect(existsSync(installed)).toBe(false);
  });

  it('a judge that fails: npm ends having installed nothing, and the failure is the wrapper’s', async () => {
    const { npm, dir, installed } = fakeNpm();
    const held = holdNpm(npm, { cwd: dir, env, holdWith: LOADER });
    await expect(held.goAsking(['install'], async () => Promise.reject(new Error('registry down')))).rejects.toThrow('registry down');
    expect(existsSync(installed)).toBe(false);
  });

  it('an Arborist of another shape: npm says it cannot ask and ends before it resolves (the gate then runs npm twice)', async () => {
    const { npm, dir, installed } = fakeNpm({ arborist: 'async buildIdealTree() { return {} } async reify() { await this.buildIdealTree() }' });
    let judged = false;
    const run = await holdNpm(npm, { cwd: dir, env, holdWith: LOADER }).goAsking(['install'], async () => (judged = true));
    expect(run.outcome).toBe('cannot');
    expect(judged).toBe(false);
    expect(existsSync(installed)).toBe(false);
  });

  it('an npm that installs a tree it did not ask about ends there, unasked', async () => {
    const { npm, dir, installed } = fakeNpm({ cli: `const Arborist = require('@npmcli/arborist'); const a = new Arborist({}); a[Symbol.for('diffTrees')](); process.exitCode = 7;` });
    const run = await holdNpm(npm, { cwd: dir, env, holdWith: LOADER }).goAsking(['install'], async () => true);
    expect(run).toMatchObject({ outcome: 'unasked', code: HELD_NPM_STOPPED });
    expect(existsSync(installed)).toBe(false);
  });

  it('a second tree in the same run is never installed: npm asks once', async () => {
    const { npm, dir, installed } = fakeNpm({
      cli: `const fs = require('node:fs'); const Arborist = require('@npmcli/arborist'); (async () => { const a = new Arborist({}); await a.reify(); fs.rmSync(process.cwd() + '/installed'); a.idealTree = undefined; await a.reify(); process.exitCode = 7 })();`,
    });
    let questions = 0;
    const run = await holdNpm(npm, { cwd: dir, env, holdWith: LOADER }).goAsking(['install'], async () => ++questions > 0);
    expect(questions).toBe(1);
    expect(run.code).toBe(HELD_NPM_STOPPED);
    expect(existsSync(installed)).toBe(false);
  });

  it('a question without the nonce npm was let go with is not npm’s: npm is ended, nothing judged or installed', async () => {
    // An "npm" that writes its own question to the pipe (a process that inherited it), then waits.
    const forged = `const b = Buffer.alloc(${1 + ASK_NONCE_BYTES + 4}); b[0] = ${ASK}; const body = Buffer.from(JSON.stringify({ file: process.cwd() + '/package-lock.json', text: '{}' })); b.writeUInt32BE(body.length, ${1 + ASK_NONCE_BYTES}); require('node:fs').writeSync(4, Buffer.concat([b, body])); setTimeout(() => { require('node:fs').writeFileSync(process.cwd() + '/installed', 'yes') }, 3000);`;
    const { npm, dir, installed } = fakeNpm({ cli: forged });
    let judged = false;
    await expect(holdNpm(npm, { cwd: dir, env, holdWith: LOADER }).goAsking(['install'], async () => (judged = true))).rejects.toThrow(/not npm's \(another nonce\)/);
    expect(judged).toBe(false);
    expect(existsSync(installed)).toBe(false);
  });

  it('GO_ASK to a held process that was not handed the second pipe ends it unrun (its file descriptor 4 is not the wrapper’s)', async () => {
    const { npm, dir } = fakeNpm({ cli: `require('node:fs').writeFileSync(process.cwd() + '/ran', '')` });
    const child = spawn(process.execPath, ['--require', LOADER, ...npm.prefixArgs], { cwd: dir, env: { ...env, [HOLD_ENV]: HOLD_VALUE }, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    const pipe = child.stdio[HOLD_FD] as Socket;
    pipe.on('error', () => {});
    pipe.end(goWith(['install'], Buffer.alloc(ASK_NONCE_BYTES, 1)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(HELD_NPM_STOPPED);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    // And plain GO there leaves file descriptor 4 alone: npm runs.
    const again = spawn(process.execPath, ['--require', LOADER, ...npm.prefixArgs], { cwd: dir, env: { ...env, [HOLD_ENV]: HOLD_VALUE }, stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    (again.stdio[HOLD_FD] as Socket).end(goWith(['install']));
    expect(await new Promise<number | null>((resolve) => again.on('close', resolve))).toBe(0);
    expect(readFileSync(join(dir, 'ran'), 'utf8')).toBe('');
  });
});
