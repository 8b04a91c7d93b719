import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lazyEngine, lazyLoader, lazyModules, minifiedEngine } from './lazy-modules.js';

/** A bundle of the shape esbuild 0.28 writes for `format: 'cjs'` (its helpers as it emits them), importing `heavy` and `node:zlib`. */
const bundle = [
  '"use strict";',
  'var __create = Object.create;',
  'var __defProp = Object.defineProperty;',
  'var __getOwnPropDesc = Object.getOwnPropertyDescriptor;',
  'var __getOwnPropNames = Object.getOwnPropertyNames;',
  'var __getProtoOf = Object.getPrototypeOf;',
  'var __hasOwnProp = Object.prototype.hasOwnProperty;',
  'var __commonJS = (cb, mod) => function __require() {',
  '  return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;',
  '};',
  'var __copyProps = (to, from, except, desc) => {',
  '  if (from && typeof from === "object" || typeof from === "function") {',
  '    for (let key of __getOwnPropNames(from))',
  '      if (!__hasOwnProp.call(to, key) && key !== except)',
  '        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });',
  '  }',
  '  return to;',
  '};',
  'var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(',
  '  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,',
  '  mod',
  '));',
  '',
  '// ../../node_modules/.pnpm/heavy@1.0.0/node_modules/heavy/index.js',
  'var require_heavy = __commonJS({',
  '  "../../node_modules/.pnpm/heavy@1.0.0/node_modules/heavy/index.js"(exports2) {',
  '    globalThis.__heavyLoads = (globalThis.__heavyLoads ?? 0) + 1;',
  '    exports2.answer = () => 42;',
  '    exports2.Thing = class Thing {};',
  '  }',
  '});',
  '',
  '// ../../node_modules/.pnpm/light@1.0.0/node_modules/light/index.js',
  'var require_light = __commonJS({',
  '  "../../node_modules/.pnpm/light@1.0.0/node_modules/light/index.js"(exports2) {',
  '    globalThis.__lightLoads = (globalThis.__lightLoads ?? 0) + 1;',
  '    exports2.two = 2;',
  '  }',
  '});',
  '',
  '// src/engine.ts',
  'var import_node_zlib = require("node:zlib");',
  'var import_heavy = __toESM(require_heavy(), 1);',
  'var import_light = __toESM(require_light(), 1);',
  'module.exports = {',
  '  answer: () => (0, import_heavy.answer)(),',
  '  make: () => new import_heavy.Thing(),',
  '  isThing: (x) => x instanceof import_heavy.Thing,',
  '  two: () => import_light.two,',
  '  gzip: (text) => (0, import_node_zlib.gzipSync)(text),',
  '};',
  '',
].join('\n');

/** `text` with one more package, `name`, that the engine imports (each engine imports every package of ENGINE_LAZY_MODULES). */
function importing(text: string, name: string, id: string): string {
  const path = `../../node_modules/.pnpm/${name.replace('/', '+')}@1.0.0/node_modules/${name}/index.js`;
  const module = [`// ${path}`, `var require_${id} = __commonJS({`, `  "${path}"(exports2) {`, `    (globalThis.__importLoads ??= []).push(${JSON.stringify(name)});`, '  }', '});', ''].join('\n');
  return text.replace('// src/engine.ts\n', `${module}\n// src/engine.ts\nvar import_${id} = __toESM(require_${id}(), 1);\n`);
}
const engineBundle = importing(importing(importing(bundle, 'yaml', 'yaml'), 'semver', 'semver'), '@sigstore/verify', 'verify');

interface Loaded {
  answer(): number;
  make(): object;
  isThing(x: unknown): boolean;
  two(): number;
  gzip(text: string): Buffer;
}

/** Runs a bundle as CommonJS, the way Node runs a file. */
function run(text: string): Loaded {
  const module = { exports: {} as Loaded };
  new Function('exports', 'require', 'module', text)(module.exports, createRequire(import.meta.url), module);
  return module.exports;
}

const globals = globalThis as { __heavyLoads?: number; __lightLoads?: number };

describe('lazyModules: packages an engine only sometimes needs load on first use', () => {
  it('initialises a named package on its first use, once, and the bundle works as before', () => {
    const { text, counts } = lazyModules(bundle, { packages: ['heavy'], builtins: ['node:zlib'] });
    expect(counts).toEqual(new Map([['heavy', 1], ['node:zlib', 1]]));
    expect(text.startsWith('"use strict";\n')).toBe(true);
    expect(text).toContain('var import_heavy = __lazyModule(() => import_heavy = __toESM(require_heavy(), 1));');
    delete globals.__heavyLoads;
    delete globals.__lightLoads;
    const engine = run(text);
    // Loaded: the package not named ran at once, the named one did not.
    expect(globals.__lightLoads).toBe(1);
    expect(globals.__heavyLoads).toBeUndefined();
    expect(engine.answer()).toBe(42);
    expect(globals.__heavyLoads).toBe(1);
    const thing = engine.make();
    expect(engine.isThing(thing)).toBe(true);
    expect(engine.answer()).toBe(42);
    expect(globals.__heavyLoads).toBe(1);
    expect(engine.two()).toBe(2);
    expect(engine.gzip('x').subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('the same bundle untransformed initialises every package when it loads (what the step changes)', () => {
    delete globals.__heavyLoads;
    const engine = run(bundle);
    expect(globals.__heavyLoads).toBe(1);
    expect(engine.answer()).toBe(42);
  });

  it('names a scope by its slash, leaves a bundle without the named imports as it is, and refuses a bundle that already names the helper', () => {
    expect(lazyModules(bundle.replaceAll('heavy', '@scope/heavy').replaceAll('import_@scope/heavy', 'import_heavy').replaceAll('require_@scope/heavy', 'require_heavy'), { packages: ['@scope/'], builtins: [] }).counts.get('@scope/')).toBe(1);
    const none = lazyModules(bundle, { packages: ['absent'], builtins: ['node:os'] });
    expect(none.text).toBe(bundle);
    expect([...none.counts.values()]).toEqual([0, 0]);
    expect(() => lazyModules(`${bundle}\nfunction __lazyModule() {}\n`, { packages: ['heavy'], builtins: [] })).toThrow(/__lazyModule/);
  });

  it('an engine: yaml, Sigstore and semver each load on first use, and at least one built-in; a bundle without one of them is refused', () => {
    const engine = lazyEngine(engineBundle);
    for (const id of ['yaml', 'semver', 'verify']) expect(engine).toContain(`var import_${id} = __lazyModule(() => import_${id} = __toESM(require_${id}(), 1));`);
    expect(engine).toContain('var import_node_zlib = __lazyModule(');
    expect(() => lazyEngine(bundle)).toThrow(/no import of yaml, @sigstore\/, semver found/);
    expect(() => lazyEngine(importing(importing(bundle, 'yaml', 'yaml'), 'semver', 'semver'))).toThrow(/no import of @sigstore\/ found/);
    expect(() => lazyEngine(engineBundle.replace('var import_node_zlib = require("node:zlib");', ''))).toThrow(/no import of node:fs\/promises, node:zlib, node:dns, node:worker_threads found/);
  });

  it('minifiedEngine: the minifier gets the engine without the helper, which stays first as it is; the result runs and still loads on first use', async () => {
    const engine = lazyEngine(engineBundle);
    const seen: string[] = [];
    // A stand-in for the minifier: names shortened, lines joined.
    const minify = async (text: string) => {
      seen.push(text);
      return text.replaceAll('import_yaml', 'y').replaceAll('require_yaml', 'ry').replace(/\n\s*/g, '\n');
    };
    const small = await minifiedEngine(engine, minify);
    expect(seen[0]).not.toContain('function __lazyModule');
    expect(seen[0]).toContain('__lazyModule(');
    const helperAt = engine.indexOf('/** A module loaded on its first use');
    const helper = engine.slice(helperAt, engine.indexOf('\n}\n', helperAt) + 2);
    expect(small.startsWith(`"use strict";\n${helper}\n`)).toBe(true);
    expect(small.split('function __lazyModule').length).toBe(2);
    expect(small).toContain('var y = __lazyModule(() => y = __toESM(ry(), 1));');
    const counts = globalThis as { __importLoads?: string[] };
    delete counts.__importLoads;
    const loaded = run(small);
    // yaml, semver and Sigstore not loaded with the engine; the rest works as before.
    expect(counts.__importLoads).toBeUndefined();
    expect(loaded.answer()).toBe(42);
    expect(loaded.gzip('x').subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    // Not an engine with the helper once, or a minifier that drops the calls or defines the helper itself: refused.
    await expect(minifiedEngine(engineBundle, minify)).rejects.toThrow(/helper once/);
    await expect(minifiedEngine(`${engine}\n${helper}\n`, minify)).rejects.toThrow(/helper once/);
    await expect(minifiedEngine(engine, async (text) => text.replaceAll('__lazyModule(', 'lazy('))).rejects.toThrow(/must call __lazyModule/);
    await expect(minifiedEngine(engine, async (text) => `var __lazyModule = (load) => load();\n${text}`)).rejects.toThrow(/not define it/);
  });

  it("the loaders: node:crypto, node:zlib, node:os and node:vm load on first use; a loader without one is refused (esbuild's output changed)", () => {
    const withCrypto = bundle.replace(
      'var import_node_zlib = require("node:zlib");',
      'var import_node_zlib = require("node:zlib");\nvar import_node_crypto = require("node:crypto");\nvar import_node_os = require("node:os");\nvar import_node_vm = require("node:vm");',
    );
    expect(lazyLoader(withCrypto)).toContain('var import_node_os = __lazyModule(() => import_node_os = require("node:os"));');
    expect(lazyLoader(withCrypto)).toContain('var import_node_vm = __lazyModule(() => import_node_vm = require("node:vm"));');
    expect(() => lazyLoader(withCrypto.replace('var import_node_vm = require("node:vm");', ''))).toThrow(/no import of node:vm/);
    expect(lazyLoader(withCrypto)).toContain('var import_node_crypto = __lazyModule(() => import_node_crypto = require("node:crypto"));');
    expect(lazyLoader(withCrypto)).toContain('var import_node_zlib = __lazyModule(() => import_node_zlib = require("node:zlib"));');
    expect(() => lazyLoader(bundle)).toThrow(/no import of node:crypto/);
    expect(() => lazyLoader(withCrypto.replace('var import_node_zlib = require("node:zlib");', ''))).toThrow(/no import of node:zlib/);
    // A built-in one loader imports besides (the pnpmfile's node:worker_threads): loaded on first use when named, and required then.
    const withThreads = withCrypto.replace('var import_node_vm = require("node:vm");', 'var import_node_vm = require("node:vm");\nvar import_node_worker_threads = require("node:worker_threads");');
    expect(lazyLoader(withThreads, ['node:worker_threads'])).toContain('var import_node_worker_threads = __lazyModule(() => import_node_worker_threads = require("node:worker_threads"));');
    expect(lazyLoader(withThreads)).toContain('var import_node_worker_threads = require("node:worker_threads");');
    expect(() => lazyLoader(withCrypto, ['node:worker_threads'])).toThrow(/no import of node:worker_threads/);
  });
});
