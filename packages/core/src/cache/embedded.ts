/**
 * How the shipped files carry their engine (and the CLI the files `init` writes): a small loader, then sections, each a
 * marker line (`//# portcullis-…`) and its text brotli-compressed, in base64, in lines behind `//`. Node compiles such a
 * file without compiling the sections (a comment is only skimmed), but it still reads, decodes and skims every byte of
 * it: the pnpmfile in each of pnpm 12's two hook workers, `portcullis-npm` and `portcullis` on every command. Measured
 * in a fresh worker, requiring the pnpmfile took 4.3–4.6 ms with its engine as plain line comments (976 KB) and
 * 1.9–2.1 ms compressed (210 KB); the loader alone 1.6–1.7 ms. A section is taken back from the file only when it is
 * needed (a loader keeps the engine's text in the cache folder once it has read it, code-cache.ts), and a loader runs
 * an engine's text only when it has the hash build time recorded (loadEmbeddedEngine). CRLF line ends (a checkout that
 * converted them) are read as LF.
 *
 * Node built-ins only: every loader bundles this (its build loads `node:zlib` and `node:crypto` on first use).
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { readCodeCache, readEngineSource, writeCodeCache, writeEngineSource } from './code-cache.js';
import type { Env } from '../env.js';

/** Every marker line starts so; base64 never does, so a section ends at the next one. */
const MARKER_START = '//# portcullis-';
/** Base64 characters per line of a section. */
const LINE_LENGTH = 120;
/** The most a section may decompress to: a damaged or hostile file cannot make a loader allocate more. */
const MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** `text` as a section's lines: brotli at its densest, base64, `//` before each line. */
function packText(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const packed = brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_LGWIN]: 24, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).toString('base64');
  const lines: string[] = [];
  for (let at = 0; at < packed.length; at += LINE_LENGTH) lines.push(`//${packed.slice(at, at + LINE_LENGTH)}`);
  return lines.join('\n');
}

/** A section's text back from its lines' base64; undefined when it is not what packText writes. */
function unpackText(base64: string): string | undefined {
  if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  try {
    const bytes = brotliDecompressSync(Buffer.from(base64, 'base64'), { maxOutputLength: MAX_TEXT_BYTES });
    return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * `loader`, then each `[marker, text]` as a section. Throws when a text could not be carried back as it is, or when a
 * text or the file would not be ASCII (one other character in the loader makes Node hold the whole file as a two-byte
 * string; esbuild escapes strings, only a comment it keeps could break that).
 */
export function embedSections(loader: string, sections: ReadonlyArray<readonly [marker: string, text: string]>): string {
  let out = loader.endsWith('\n') ? loader : `${loader}\n`;
  for (const [marker, text] of sections) {
    if (!marker.startsWith(MARKER_START) || marker.includes('\n') || marker.includes('\r')) throw new Error(`a section marker is one line starting with ${MARKER_START}: ${marker}`);
    if (loader.includes(`\n${marker}\n`) || loader.startsWith(`${marker}\n`)) throw new Error(`the loader must not contain the marker line ${marker}`);
    if (text.length === 0) throw new Error(`the text of ${marker} is empty`);
    // ASCII, as the loaders expect of the engines they keep (code-cache.ts decodes such a copy as Latin-1, and V8 holds
    // it as one-byte text).
    const nonAsciiText = /[^\x00-\x7f]/.exec(text);
    if (nonAsciiText) throw new Error(`the text of ${marker} must be ASCII: ${JSON.stringify(text.slice(Math.max(0, nonAsciiText.index - 60), nonAsciiText.index + 20))}`);
    out += `${marker}\n${packText(text)}\n`;
  }
  const nonAscii = /[^\x00-\x7f]/.exec(out);
  if (nonAscii) throw new Error(`a shipped file must be ASCII: ${JSON.stringify(out.slice(Math.max(0, nonAscii.index - 60), nonAscii.index + 20))}`);
  for (const [marker, text] of sections) if (sectionFrom(out, marker) !== text) throw new Error(`the text of ${marker} did not survive its embedding`);
  return out;
}

/**
 * `fileText` (written by embedSections) with the section `marker` carrying `text` instead, the rest as it was (tests
 * and tools: a file whose engine was edited). Throws when it has no such section.
 */
export function withSection(fileText: string, marker: string, text: string): string {
  const at = fileText.indexOf(`\n${marker}\n`);
  if (at === -1) throw new Error(`no section ${marker}`);
  const start = at + marker.length + 2;
  const next = fileText.indexOf(`\n${MARKER_START}`, start);
  return `${fileText.slice(0, start)}${packText(text)}\n${next === -1 ? '' : fileText.slice(next + 1)}`;
}

/**
 * A CommonJS loader (esbuild's `cjs` output, with no exports) made a file that also runs as an ES module: a copy of the
 * CLI vendored into a folder whose package.json says `"type": "module"` is an ES module to Node, one in a folder that
 * says `"commonjs"` is CommonJS. The loader runs inside a function given `require` and `__filename`: CommonJS's own,
 * else Node's built-in modules by `process.getBuiltinModule` (Node 20.16 and later) and the script's path. No import,
 * export or top-level require, so either parse accepts it; `#!` first, so the file stays an executable.
 */
export function eitherModuleType(cjsLoader: string): string {
  const body = cjsLoader.startsWith('#!') ? cjsLoader.slice(cjsLoader.indexOf('\n') + 1) : cjsLoader;
  if (/^\s*(import|export)\b/m.test(body) || /\bimport\.meta\b/.test(body)) throw new Error('the loader must be CommonJS without import or export');
  const builtin =
    'function (id) { if (typeof process.getBuiltinModule !== "function") throw new Error("run this file with Node 20.16 or later, or name it .cjs: as an ES module it needs process.getBuiltinModule"); return process.getBuiltinModule(id); }';
  return `#!/usr/bin/env node\n(function (require, __filename) {\n${body.endsWith('\n') ? body : `${body}\n`}})(typeof require === "function" ? require : ${builtin}, typeof __filename === "string" ? __filename : process.argv[1]);\n`;
}

/** The text of the section `marker` in a file written by embedSections (undefined when there is none, or it is cut short or damaged). */
export function sectionFrom(fileText: string, marker: string): string | undefined {
  // Each step is one native pass over the file (a split and join allocated a string per line).
  const lf = fileText.includes('\r') ? fileText.replace(/\r\n/g, '\n') : fileText;
  const at = lf.indexOf(`\n${marker}\n`);
  if (at === -1) return undefined;
  const start = at + marker.length + 1;
  const next = lf.indexOf(`\n${MARKER_START}`, start + 1);
  const body = lf.slice(start, next === -1 ? lf.length : next + 1);
  if (!body.startsWith('\n//') || !body.endsWith('\n')) return undefined;
  return unpackText(body.slice(3, -1).replaceAll('\n//', ''));
}

/** The first `length` hex digits of a text's SHA-256: what a loader carries of what it may run. */
export const textHash = (text: string, length = 32): string => createHash('sha256').update(text).digest('hex').slice(0, length);

/** The section `marker` of `file`, if it has exactly the hash `hash` (textHash); undefined otherwise. */
export function verifiedSection(file: string, marker: string, hash: string): string | undefined {
  const bytes = readFileSync(file);
  // ASCII (the builds check it) is decoded without UTF-8 decoding.
  const text = sectionFrom(isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8'), marker);
  return text !== undefined && textHash(text, hash.length) === hash ? text : undefined;
}

export interface LoadedEngine<T> {
  exports: T;
  /**
   * Leaves V8's code cache for the next load, when this one had none it could use: called once the work ran, so that
   * what it compiled is in it. Best effort, never throws.
   */
  keepCodeCache(): void;
}

export interface EmbeddedEngine {
  /** The shipped file (the loader's own). */
  file: string;
  /** The section's marker line. */
  marker: string;
  /** textHash of the engine's text, recorded by the build in the loader. */
  hash: string;
  /** The code cache's name (hex), when one engine keeps several (e.g. one per command, so each has what it compiled). */
  codeCacheKey?: string;
  /** The `require` the engine is given. */
  require: NodeJS.Require;
  /** The error's message when the file does not carry that engine. */
  damaged: string;
  /** Where the kept copy and the code cache are (the cache and state folders); process.env by default. */
  env?: Env;
}

/**
 * Runs the engine a shipped file carries, as CommonJS, with `require`, `__filename` and `__dirname` of that file: its
 * text from the copy an earlier load kept (content-addressed by the hash) or else from the file (then kept), compiled
 * with the V8 code cache an earlier load left (authenticated with this user's memo secret, else compiled from source).
 * Throws Error(`damaged`) when the file's engine does not have the hash.
 */
export function loadEmbeddedEngine<T>(engine: EmbeddedEngine): LoadedEngine<T> {
  const env = engine.env ?? process.env;
  let source = readEngineSource(engine.hash, env);
  if (source === undefined) {
    source = verifiedSection(engine.file, engine.marker, engine.hash);
    if (source === undefined) throw new Error(engine.damaged);
    writeEngineSource(engine.hash, source, env);
  }
  const cacheKey = engine.codeCacheKey ?? engine.hash;
  const cachedData = readCodeCache(cacheKey, env);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: engine.file,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  const module = { exports: {} as T };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, engine.require, module, engine.file, dirname(engine.file));
  let keep = cachedData === undefined || script.cachedDataRejected === true;
  return {
    exports: module.exports,
    keepCodeCache() {
      if (!keep) return;
      keep = false;
      try {
        writeCodeCache(cacheKey, script.createCachedData(), env);
      } catch {
        // Only time is lost.
      }
    },
  };
}

/**
 * Runs the engine of a program's shipped file (`portcullis`, `portcullis-npm`): the number its `main(argv, ...rest)`
 * resolves to is the exit code, after which the code cache is left for the next start. An engine that cannot be
 * loaded (a damaged file) or a `main` that fails exits 3, saying why on stderr as `<program>: internal error: …`.
 * Never throws.
 */
export function runEmbeddedMain(engine: EmbeddedEngine, program: string, argv: string[], rest: unknown[] = []): void {
  const fail = (error: unknown): void => {
    process.stderr.write(`${program}: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 3;
  };
  try {
    const loaded = loadEmbeddedEngine<{ main: (argv: string[], ...rest: unknown[]) => Promise<number> }>(engine);
    loaded.exports
      .main(argv, ...rest)
      .then((code) => {
        process.exitCode = code;
      }, fail)
      .finally(() => loaded.keepCodeCache());
  } catch (error) {
    fail(error);
  }
}
