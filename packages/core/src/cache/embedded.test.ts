import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { brotliCompressSync, constants } from 'node:zlib';
import { embedSections, loadEmbeddedEngine, runEmbeddedMain, sectionFrom, textHash, verifiedSection, withSection } from './embedded.js';

const ENGINE = '"use strict";\n// a comment line\nvar x = `a\n//b`;\n\nmodule.exports = { answer: () => 6 * 7, file: __filename, dir: __dirname, hasRequire: typeof require === "function" };';
const A = '//# portcullis-test-engine (read by the loader above)';
const B = '//# portcullis-test-text b';
const temp = (prefix: string) => mkdtempSync(join(tmpdir(), `portcullis-embedded-${prefix}-`));

describe('sections of a shipped file', () => {
  it('travel compressed, in base64 line comments after the loader, and come back byte for byte (LF or CRLF checkout), each alone', () => {
    const other = 'line one\n////# portcullis-engine (a pnpmfile carried inside)\n//# portcullis-looks-like-a-marker\r\nlast\n';
    const file = embedSections('const loader = 1;\n', [
      [A, ENGINE],
      [B, other],
    ]);
    expect(file.startsWith(`const loader = 1;\n${A}\n//`)).toBe(true);
    // Every line after the first marker is a marker or a comment of base64: Node compiles the loader only, and the file is ASCII.
    for (const line of file.split(`${A}\n`)[1]!.trimEnd().split('\n')) expect(line === B || /^\/\/[A-Za-z0-9+/=]{1,120}$/.test(line)).toBe(true);
    expect(/^[\x00-\x7f]*$/.test(file)).toBe(true);
    expect(file).not.toContain('6 * 7');
    expect(sectionFrom(file, A)).toBe(ENGINE);
    expect(sectionFrom(file, B)).toBe(other);
    expect(sectionFrom(file.replace(/\n/g, '\r\n'), A)).toBe(ENGINE);
    expect(sectionFrom(file.replace(/\n/g, '\r\n'), B)).toBe(other);
    expect(() => new Function(file)).not.toThrow();
    // Smaller than the text it carries (the engines are ~1 MB of JavaScript; every byte of the file is read on each start).
    const big = Array.from({ length: 2000 }, (_, i) => `function f${i}(a, b) { return a + b * ${i}; }`).join('\n');
    expect(embedSections('x', [[A, big]]).length).toBeLessThan(big.length / 4);
  });

  it('a file without the section, or with it cut short or damaged, has none', () => {
    const file = embedSections('const loader = 1;', [[A, ENGINE]]);
    expect(sectionFrom('const loader = 1;\n', A)).toBeUndefined();
    expect(sectionFrom(file, B)).toBeUndefined();
    expect(sectionFrom(file.slice(0, -1), A)).toBeUndefined();
    expect(sectionFrom(file.slice(0, -5) + '\n', A)).toBeUndefined();
    expect(sectionFrom(file.slice(0, file.indexOf(A) + A.length), A)).toBeUndefined();
    // Not base64, a line without its `//`, a character changed, a section that is not brotli.
    const lines = file.split('\n');
    const last = lines.length - 2;
    const edited = (line: string) => [...lines.slice(0, last), line, ...lines.slice(last + 1)].join('\n');
    expect(sectionFrom(edited(`${lines[last]!.slice(0, -1)}*`), A)).toBeUndefined();
    expect(sectionFrom(edited(lines[last]!.slice(2)), A)).toBeUndefined();
    const middle = file.indexOf('\n//', file.indexOf(A)) + 10;
    const flipped = `${file.slice(0, middle)}${file[middle] === 'A' ? 'B' : 'A'}${file.slice(middle + 1)}`;
    expect(sectionFrom(flipped, A)).not.toBe(ENGINE);
    expect(sectionFrom(`x\n${A}\n//${Buffer.from(ENGINE).toString('base64')}\n`, A)).toBeUndefined();
  });

  it('decompresses no more than 64 MiB (a hostile file cannot make a loader allocate without bound)', () => {
    const bomb = brotliCompressSync(Buffer.alloc(65 * 1024 * 1024, 0x61), { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }).toString('base64');
    expect(sectionFrom(`x\n${A}\n//${bomb}\n`, A)).toBeUndefined();
    const fits = brotliCompressSync(Buffer.alloc(1024 * 1024, 0x61)).toString('base64');
    expect(sectionFrom(`x\n${A}\n//${fits}\n`, A)).toBe('a'.repeat(1024 * 1024));
  });

  it('refuses what it could not carry back, and a loader that is not ASCII', () => {
    expect(() => embedSections(`x\n${A}\n`, [[A, ENGINE]])).toThrow(/marker/);
    expect(() => embedSections('x', [['// not a marker', ENGINE]])).toThrow(/marker/);
    expect(() => embedSections('x', [[A, '']])).toThrow(/empty/);
    // Not ASCII: the loaders decode the file, and the engine copies they keep, as Latin-1 when they are ASCII, and Node
    // holds such text as one-byte text.
    expect(() => embedSections('const s = "caf\u00e9";', [[A, ENGINE]])).toThrow(/a shipped file must be ASCII/);
    expect(() => embedSections('x', [[A, 'caf\u00e9']])).toThrow(/the text of .* must be ASCII/);
  });

  it('withSection replaces one section and leaves the loader and the others as they were', () => {
    const file = embedSections('const loader = 1;\n', [
      [A, ENGINE],
      [B, 'other'],
    ]);
    const edited = withSection(file, A, ENGINE.replace('6 * 7', '6 * 8'));
    expect(edited.startsWith(`const loader = 1;\n${A}\n`)).toBe(true);
    expect(sectionFrom(edited, A)).toBe(ENGINE.replace('6 * 7', '6 * 8'));
    expect(sectionFrom(edited, B)).toBe('other');
    expect(sectionFrom(withSection(file, B, 'another'), A)).toBe(ENGINE);
    expect(() => withSection(file, '//# portcullis-absent', 'x')).toThrow(/no section/);
  });

  it('verifiedSection gives a section only with the hash the build recorded', () => {
    const dir = temp('file');
    const path = join(dir, 'shipped.js');
    writeFileSync(path, embedSections('x', [[A, ENGINE]]));
    expect(verifiedSection(path, A, textHash(ENGINE))).toBe(ENGINE);
    expect(verifiedSection(path, A, textHash(`${ENGINE} `))).toBeUndefined();
    writeFileSync(path, embedSections('x', [[A, ENGINE.replace('6 * 7', '6 * 8')]]));
    expect(verifiedSection(path, A, textHash(ENGINE))).toBeUndefined();
  });
});

describe('loadEmbeddedEngine', () => {
  const setUp = () => {
    const dir = temp('load');
    const file = join(dir, 'shipped.cjs');
    writeFileSync(file, embedSections('module.exports = 1;', [[A, ENGINE]]));
    const env = { PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state') };
    const engine = { file, marker: A, hash: textHash(ENGINE), require: createRequire(file), damaged: 'damaged!', env };
    return { dir, file, env, engine };
  };

  it("runs the file's engine as CommonJS of that file, keeps its text, then leaves and uses a code cache", () => {
    const { dir, file, engine } = setUp();
    const first = loadEmbeddedEngine<{ answer: () => number; file: string; dir: string; hasRequire: boolean }>(engine);
    expect(first.exports.answer()).toBe(42);
    expect(first.exports).toMatchObject({ file, dir, hasRequire: true });
    expect(readFileSync(join(dir, 'cache', 'engine-v1', `${engine.hash}.js`), 'utf8')).toBe(ENGINE);
    expect(existsSync(join(dir, 'cache', 'code-v1'))).toBe(false);
    first.keepCodeCache();
    first.keepCodeCache();
    expect(readdirSync(join(dir, 'cache', 'code-v1'))).toHaveLength(1);
    // The next load runs the kept text: the file itself may be gone.
    writeFileSync(file, 'nothing');
    const second = loadEmbeddedEngine<{ answer: () => number }>(engine);
    expect(second.exports.answer()).toBe(42);
  });

  it('a code cache per key', () => {
    const { dir, engine } = setUp();
    for (const key of [textHash('a'), textHash('b')]) loadEmbeddedEngine({ ...engine, codeCacheKey: key }).keepCodeCache();
    expect(readdirSync(join(dir, 'cache', 'code-v1'))).toHaveLength(2);
  });

  it('runs nothing but the engine with the recorded hash: a changed file throws `damaged`, and so does a changed kept copy with it', () => {
    const { dir, file, engine } = setUp();
    writeFileSync(file, embedSections('module.exports = 1;', [[A, ENGINE.replace('6 * 7', '6 * 8')]]));
    expect(() => loadEmbeddedEngine(engine)).toThrow('damaged!');
    // A kept copy with other bytes is not taken either.
    mkdirSync(join(dir, 'cache', 'engine-v1'), { recursive: true });
    writeFileSync(join(dir, 'cache', 'engine-v1', `${engine.hash}.js`), ENGINE.replace('6 * 7', '6 * 8'));
    expect(() => loadEmbeddedEngine(engine)).toThrow('damaged!');
    writeFileSync(file, embedSections('module.exports = 1;', [[A, ENGINE]]));
    expect(loadEmbeddedEngine<{ answer: () => number }>(engine).exports.answer()).toBe(42);
  });
});

describe('runEmbeddedMain', () => {
  const MAIN = 'module.exports = { main: async (argv) => (argv[0] === "boom" ? Promise.reject(new Error("it broke")) : Number(argv[0])) };';
  const setUp = (text = MAIN) => {
    const dir = temp('main');
    const file = join(dir, 'shipped.cjs');
    writeFileSync(file, embedSections('module.exports = 1;', [[A, text]]));
    const env = { PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state') };
    return { dir, file, engine: { file, marker: A, hash: textHash(MAIN), require: createRequire(file), damaged: `${file} is damaged: install it again`, env } };
  };
  const exitCode = process.exitCode;
  afterEach(() => {
    process.exitCode = exitCode;
    vi.restoreAllMocks();
  });
  const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

  it("exits with what main resolves to, then leaves the code cache", async () => {
    const { dir, engine } = setUp();
    runEmbeddedMain(engine, 'prog', ['7']);
    await settled();
    expect(process.exitCode).toBe(7);
    expect(readdirSync(join(dir, 'cache', 'code-v1'))).toHaveLength(1);
  });

  it('exits 3 naming the program and the reason when main fails, or when the file is damaged (and runs nothing)', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    runEmbeddedMain(setUp().engine, 'prog', ['boom']);
    await settled();
    expect(process.exitCode).toBe(3);
    expect(stderr).toHaveBeenLastCalledWith('prog: internal error: it broke\n');
    process.exitCode = undefined;
    const damaged = setUp(MAIN.replace('Number(argv[0])', '0'));
    runEmbeddedMain(damaged.engine, 'prog', ['7']);
    expect(process.exitCode).toBe(3);
    expect(stderr).toHaveBeenLastCalledWith(`prog: internal error: ${damaged.file} is damaged: install it again\n`);
    await settled();
    expect(process.exitCode).toBe(3);
  });
});
