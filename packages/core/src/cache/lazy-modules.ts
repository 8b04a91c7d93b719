/**
 * A build step for the engines the shipped files carry (the pnpmfile's, `portcullis-npm`'s, the CLI's): the CommonJS
 * packages and Node built-ins an engine only sometimes needs are initialised when first used instead of when the engine
 * loads. esbuild's CommonJS output initialises every CommonJS package an ES module imports where it is imported,
 *
 *     var import_yaml = __toESM(require_dist5(), 1);
 *
 * so every load of the engine paid for yaml (~4 ms), most of Sigstore's packages (~2.5 ms), `node:fs/promises` (~3 ms)
 * and `node:zlib` (~2 ms), measured in a fresh Node, although a warm `portcullis-npm install` or a pnpm 12 worker reads
 * no YAML and verifies no provenance bundle. Each such line becomes
 *
 *     var import_yaml = __lazyModule(() => import_yaml = __toESM(require_dist5(), 1));
 *
 * a stand-in that loads the module on its first property access and puts the module itself in the variable, which is
 * what every later access in the bundle reads (esbuild refers to an import through its variable at each use). The
 * module's code is the same, run once, only later; nothing else is rewritten. Build time only.
 */

/** Defined once in a bundle that has a lazy module (a function declaration: hoisted above every use). */
const HELPER = [
  '/** A module loaded on its first use (core cache/lazy-modules.ts). */',
  'function __lazyModule(load) {',
  '  let loaded;',
  '  const module = () => (loaded ??= load());',
  '  return new Proxy({}, {',
  '    get: (_, key) => module()[key],',
  '    has: (_, key) => key in module(),',
  '    ownKeys: () => Reflect.ownKeys(module()),',
  '    getOwnPropertyDescriptor: (_, key) => {',
  '      const found = Reflect.getOwnPropertyDescriptor(module(), key);',
  '      return found === undefined ? undefined : { ...found, configurable: true };',
  '    },',
  '  });',
  '}',
].join('\n');

export interface LazyModules {
  /** npm packages whose modules load lazily: a name (`yaml`), or a scope with a slash (`@sigstore/`). */
  packages: readonly string[];
  /** Node built-ins that load lazily (`node:zlib`). */
  builtins: readonly string[];
}

/**
 * `bundle` (esbuild's `cjs` output) with the imports of `lazy` loaded on first use, and how many imports were made
 * lazy per package or built-in named (0 for one the bundle does not import: the caller decides whether that is wrong).
 */
export function lazyModules(bundle: string, lazy: LazyModules): { text: string; counts: Map<string, number> } {
  const counts = new Map<string, number>([...lazy.packages, ...lazy.builtins].map((name) => [name, 0]));
  // Which package each CommonJS module of the bundle comes from, by its path (`// ../node_modules/.pnpm/…/yaml/dist/index.js`).
  const packageOf = new Map<string, string>();
  for (const [, name, path] of bundle.matchAll(/^var (require_\w+) = __commonJS\(\{\n\s*"([^"]+)"/gm)) {
    const owner = lazy.packages.find((pkg) => path!.includes(`/node_modules/${pkg}${pkg.endsWith('/') ? '' : '/'}`));
    if (owner !== undefined) packageOf.set(name!, owner);
  }
  let text = bundle.replace(/^var (import_\w+) = __toESM\((require_\w+)\(\)(, 1)?\);$/gm, (line, variable: string, require: string, nodeMode: string | undefined) => {
    const owner = packageOf.get(require);
    if (owner === undefined) return line;
    counts.set(owner, counts.get(owner)! + 1);
    return `var ${variable} = __lazyModule(() => ${variable} = __toESM(${require}()${nodeMode ?? ''}));`;
  });
  text = text.replace(/^var (import_\w+) = require\("(node:[\w/]+)"\);$/gm, (line, variable: string, builtin: string) => {
    if (!lazy.builtins.includes(builtin)) return line;
    counts.set(builtin, counts.get(builtin)! + 1);
    return `var ${variable} = __lazyModule(() => ${variable} = require("${builtin}"));`;
  });
  if ([...counts.values()].every((n) => n === 0)) return { text: bundle, counts };
  if (/\b__lazyModule\b/.test(bundle)) throw new Error('the bundle already names __lazyModule');
  const strict = text.startsWith('"use strict";\n') ? '"use strict";\n'.length : 0;
  return { text: `${text.slice(0, strict)}${HELPER}\n${text.slice(strict)}`, counts };
}

/**
 * What the shipped engines load on first use: yaml (pnpm lockfiles, .yarnrc.yml, `init`), Sigstore's packages
 * (provenance bundles), semver (ranged policy entries, release lines, cooldown exclusions: a repeated install whose
 * verdict is remembered, on pnpm 10 and 11 or through `portcullis-npm`, uses none of it; its start was ~1.4 ms of
 * each engine load), `node:fs/promises` (the metadata cache's writes, .npmrc files), `node:zlib` (tarballs),
 * `node:dns` (the registry client's shared lookups, made only when its first connection asks for an address,
 * registry/connections.ts) and `node:worker_threads` (the pnpmfile's judging thread on pnpm 10 and 11: loading it takes
 * ~0.45 ms of a pnpm 12 hook worker, which starts no thread, and 1.5–2.5 ms of a fresh Node; pnpm's worker-kind.ts).
 */
export const ENGINE_LAZY_MODULES: LazyModules = { packages: ['yaml', '@sigstore/', 'semver'], builtins: ['node:fs/promises', 'node:zlib', 'node:dns', 'node:worker_threads'] };

/**
 * An engine bundle with ENGINE_LAZY_MODULES loaded on first use; throws when one of its packages was not found (every
 * engine imports each of them: esbuild's output changed) or none of its built-ins was.
 */
export function lazyEngine(bundle: string): string {
  const { text, counts } = lazyModules(bundle, ENGINE_LAZY_MODULES);
  const missing = ENGINE_LAZY_MODULES.packages.filter((name) => counts.get(name) === 0);
  if (missing.length > 0 || ENGINE_LAZY_MODULES.builtins.every((name) => counts.get(name) === 0)) {
    throw new Error(`no import of ${(missing.length > 0 ? missing : ENGINE_LAZY_MODULES.builtins).join(', ')} found to load lazily: has esbuild's output changed?`);
  }
  return text;
}

/**
 * What the builds minify an engine with (esbuild's `transform` options, for minifiedEngine): whitespace, syntax and
 * names, as CommonJS (the engine runs inside a function, so its top-level names are its own), ASCII only (embedded.ts).
 */
export const ENGINE_MINIFY = { minify: true, format: 'cjs', platform: 'node', target: 'node20', charset: 'ascii', legalComments: 'none' } as const;

/**
 * An engine (lazyEngine's output) minified by `minify` (the builds pass esbuild's `transform` with ENGINE_MINIFY),
 * except the lazy-module helper, which stays as it is, first after any `"use strict"`: the minified code calls it by
 * its name, a name it does not define (so the minifier leaves it), and a test finds it by its text.
 *
 * Why: every process that has no copy of an engine and its V8 code cache yet (a fresh CI machine, each pnpm 12 install's
 * first hook worker there) unpacks, hashes and compiles the whole text on the install's path. Measured in a fresh
 * Node 20 (the pnpmfile's engine, 8 rounds): 23.6 ms unminified, 17.9 minified (compiling 12.8 → 8.9 ms; 954 → 485 KB
 * of text, 216 → 166 KB carried in the file); a load from the kept copy and its code cache 2.9 → 2.2 ms.
 */
export async function minifiedEngine(engine: string, minify: (text: string) => Promise<string>): Promise<string> {
  const at = engine.indexOf(`${HELPER}\n`);
  if (at < 0 || engine.indexOf(HELPER, at + 1) >= 0) throw new Error('the engine does not have the lazy-module helper once (run lazyEngine first)');
  const small = await minify(`${engine.slice(0, at)}${engine.slice(at + HELPER.length + 1)}`);
  if (!/\b__lazyModule\(/.test(small) || /\b__lazyModule\s*=|function\s+__lazyModule\b/.test(small)) throw new Error('the minified engine must call __lazyModule and not define it');
  const strict = /^"use strict";\n?/.exec(small)?.[0] ?? '';
  return `${strict}${strict.endsWith('\n') || strict === '' ? '' : '\n'}${HELPER}\n${small.slice(strict.length)}`;
}

/**
 * The loaders' builds (pnpm's, npm's and the CLI's build.mjs): `node:crypto` and `node:zlib` loaded on first use. A
 * repeated pnpm 12 install replays updateConfig and reads the second worker's token without hashing anything (pnpm's
 * state-file.ts), and loading `node:crypto` was ~1.75 ms of each of the two hook workers (measured); the engine's hash,
 * the code cache and the memo secret still use it whenever they run. `node:zlib` (~1.6 ms) unpacks a section of the
 * loader's own file (embedded.ts), which a loader does only when the cache folder has no copy of the engine yet;
 * `node:vm` compiles the engine; `node:os` gives the home folder only when `$HOME` does not (dirs.ts): ~0.07 and
 * ~0.16 ms of each hook worker. `also`: built-ins one loader imports besides those, each required to be found (the
 * pnpmfile's `node:worker_threads`: ~0.45 ms of each of pnpm 12's two hook workers, which start no thread).
 */
export function lazyLoader(bundle: string, also: readonly string[] = []): string {
  const { text, counts } = lazyModules(bundle, { packages: [], builtins: ['node:crypto', 'node:zlib', 'node:os', 'node:vm', ...also] });
  for (const [builtin, count] of counts) if (count === 0) throw new Error(`no import of ${builtin} found to load lazily: has esbuild's output changed?`);
  return text;
}
