import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sectionFrom, withSection } from '@portcullis/core/loader';
import { describe, expect, it } from 'vitest';
import { ENGINE_MARKER } from './embed.js';

// The built pnpmfile (turbo builds before it tests), loaded by Node outside pnpm: its loader then loads the engine.
const BUILT = new URL('../dist/pnpmfile.cjs', import.meta.url);

/**
 * Node loading the pnpmfile as pnpm 10 and 11 do (in their own process: a long argv) or as in pnpm 12's hook worker (a
 * short argv). Either loads the engine when a hook is first called: here readPackage (`call`), else not at all.
 */
function load(pnpmfile: string, cacheDir: string, as: 'process' | 'worker' = 'process', call = true) {
  const hook = call ? "const r = h.readPackage({ name: 'probe', version: '1.0.0' }); if (r && r.catch) r.catch(() => {});" : '';
  const r = spawnSync(process.execPath, ['-e', `const h = require(${JSON.stringify(pnpmfile)}).hooks; process.stdout.write(Object.keys(h).sort().join(',')); ${hook}`, ...(as === 'process' ? ['pnpm', 'install'] : [])], {
    encoding: 'utf8',
    cwd: join(cacheDir, '..'),
    env: { PATH: process.env.PATH, PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: join(cacheDir, '..', 'state') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The built pnpmfile intact, and a copy with one character of the engine changed (the loader left as it is). */
function pnpmfiles() {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-loader-'));
  const intact = join(root, 'intact', '.pnpmfile.cjs');
  const damaged = join(root, 'damaged', '.pnpmfile.cjs');
  for (const dir of ['intact', 'damaged']) mkdirSync(join(root, dir));
  copyFileSync(BUILT, intact);
  const text = readFileSync(BUILT, 'utf8');
  const engine = sectionFrom(text, ENGINE_MARKER)!;
  const at = engine.lastIndexOf('return ');
  expect(at).toBeGreaterThan(0);
  writeFileSync(damaged, withSection(text, ENGINE_MARKER, `${engine.slice(0, at)}return  ${engine.slice(at + 'return '.length)}`));
  return { cacheDir: join(root, 'cache'), intact, damaged };
}

describe("the pnpmfile's loader", () => {
  it('runs only the engine whose hash it carries: from its own file, then from the copy it kept; a damaged file stops pnpm', () => {
    const { cacheDir, intact, damaged } = pnpmfiles();

    // Nothing kept yet: the damaged file is refused.
    const refused = load(damaged, cacheDir);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/is damaged \(its engine does not match the loader\)/);

    // The intact file loads and keeps its engine's source.
    expect(load(intact, cacheDir)).toMatchObject({ code: 0, out: 'afterAllResolved,preResolution,readPackage,updateConfig' });
    const kept = readdirSync(join(cacheDir, 'engine-v1'));
    expect(kept).toHaveLength(1);

    // The damaged file's loader now runs the kept engine: the one its hash names, never the damaged text.
    expect(load(damaged, cacheDir)).toMatchObject({ code: 0, out: 'afterAllResolved,preResolution,readPackage,updateConfig' });

    // The kept copy edited: not used; the damaged file is refused again, the intact one loads from its own text.
    writeFileSync(join(cacheDir, 'engine-v1', kept[0]!), 'module.exports = { hooks: {} };\n');
    expect(load(damaged, cacheDir).err).toMatch(/is damaged/);
    expect(load(intact, cacheDir)).toMatchObject({ code: 0, out: 'afterAllResolved,preResolution,readPackage,updateConfig' });
  });

  it.each(['worker', 'process'] as const)("in pnpm 12's worker and in pnpm 10 and 11's process (%s): declares the engine's hooks without loading it, and the first hook called loads it (a damaged one refused then)", (as) => {
    const { cacheDir, intact, damaged } = pnpmfiles();

    // Loaded, no hook called: nothing refused, nothing kept (the engine was not read).
    expect(load(damaged, cacheDir, as, false)).toMatchObject({ code: 0, out: 'afterAllResolved,preResolution,readPackage,updateConfig' });
    expect(existsSync(join(cacheDir, 'engine-v1'))).toBe(false);

    const refused = load(damaged, cacheDir, as);
    // The same four hooks as the engine declares without a token (hooks.ts pnpmfileHooks) ...
    expect(refused.out).toBe('afterAllResolved,preResolution,readPackage,updateConfig');
    // ... and the damaged engine stops the first hook.
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/is damaged \(its engine does not match the loader\)/);
    expect(existsSync(join(cacheDir, 'engine-v1'))).toBe(false);

    expect(load(intact, cacheDir, as)).toMatchObject({ code: 0, out: 'afterAllResolved,preResolution,readPackage,updateConfig' });
    expect(readdirSync(join(cacheDir, 'engine-v1'))).toHaveLength(1);
  });

  it("loads no node:worker_threads in pnpm 12's worker, the engine's first hook included; a thread started as the judging thread of pnpm 10 and 11 answers", () => {
    const { cacheDir, intact } = pnpmfiles();
    // Loading it took ~0.45 ms of each of pnpm 12's two hook workers; only the judging thread needs it (and pnpm 10 and
    // 11's own process has it loaded anyway).
    const probe = (call: string) =>
      spawnSync(process.execPath, ['-e', `const h = require(${JSON.stringify(intact)}).hooks; Promise.resolve(${call}).catch(() => {}).then(() => process.stdout.write(String(process.moduleLoadList.includes('NativeModule worker_threads'))));`], {
        encoding: 'utf8',
        cwd: join(cacheDir, '..'),
        env: { PATH: process.env.PATH, PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: join(cacheDir, '..', 'state') },
      });
    expect(probe('undefined')).toMatchObject({ status: 0, stdout: 'false' });
    // The engine loaded by a hook (it runs its own check for the judging thread then).
    expect(probe("h.readPackage({ name: 'probe', version: '1.0.0' })")).toMatchObject({ status: 0, stdout: 'false' });
    expect(readdirSync(join(cacheDir, 'engine-v1'))).toHaveLength(1);
    // Started as judge-worker.ts starts it (a worker thread running the pnpmfile, workerData saying so): the engine
    // loads at once and answers a question (here without pnpm's registry settings: an error, as an answer).
    const thread = spawnSync(
      process.execPath,
      [
        '-e',
        `const { Worker } = require('node:worker_threads'); const w = new Worker(${JSON.stringify(intact)}, { workerData: { portcullisJudge: 1, dir: process.cwd(), registrySettings: {} } }); w.postMessage({ id: 7, packages: [], supplied: [], partial: false, wholeGraphFollows: false }); w.on('message', (a) => { process.stdout.write(JSON.stringify(a)); void w.terminate(); });`,
      ],
      { encoding: 'utf8', cwd: join(cacheDir, '..'), env: { PATH: process.env.PATH, PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: join(cacheDir, '..', 'state') }, timeout: 20_000 },
    );
    expect(JSON.parse(thread.stdout)).toMatchObject({ id: 7, error: { message: 'pnpm did not hand over its registry settings' } });
  });
});
