import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The built pnpmfile (turbo builds before it tests), loaded by Node outside pnpm: its loader then loads the engine.
const BUILT = new URL('../dist/pnpmfile.cjs', import.meta.url);

function load(pnpmfile: string, cacheDir: string) {
  const r = spawnSync(process.execPath, ['-e', `const h = require(${JSON.stringify(pnpmfile)}).hooks; process.stdout.write(Object.keys(h).sort().join(','))`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, PORTCULLIS_CACHE_DIR: cacheDir, PORTCULLIS_STATE_DIR: join(cacheDir, '..', 'state') },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("the pnpmfile's loader", () => {
  it('runs only the engine whose hash it carries: from its own file, then from the copy it kept; a damaged file stops pnpm', () => {
    const root = mkdtempSync(join(tmpdir(), 'portcullis-loader-'));
    const cacheDir = join(root, 'cache');
    const intact = join(root, 'intact', '.pnpmfile.cjs');
    const damaged = join(root, 'damaged', '.pnpmfile.cjs');
    for (const dir of ['intact', 'damaged']) mkdirSync(join(root, dir));
    copyFileSync(BUILT, intact);
    const text = readFileSync(BUILT, 'utf8');
    // One character of the engine changed, the loader left as it is.
    const at = text.lastIndexOf('return ');
    writeFileSync(damaged, `${text.slice(0, at)}return  ${text.slice(at + 'return '.length)}`);

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
});
