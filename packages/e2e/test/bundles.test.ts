/**
 * Shipped bundles have zero runtime dependencies: every module they load is a Node built-in (dev dependencies such as
 * the CLI's prompt library are bundled in). Reads the built files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { sectionFrom, withSection } from '@portcullis/core/loader';
import { describe, expect, it } from 'vitest';

const bundles = {
  'packages/cli/dist/portcullis.js': '../../cli/dist/portcullis.js',
  'packages/npm/dist/portcullis-npm.js': '../../npm/dist/portcullis-npm.js',
  'packages/pnpm/dist/pnpmfile.cjs': '../../pnpm/dist/pnpmfile.cjs',
  'packages/verdaccio/dist/verdaccio-portcullis/index.js': '../../verdaccio/dist/verdaccio-portcullis/index.js',
};

/** Every module specifier a bundle loads: require("x"), import … from "x", import("x"). */
function loads(text: string): string[] {
  const found = new Set<string>();
  // A specifier is a module name or path; quoted text that merely follows "from" in a message is not one.
  const name = `["']([@a-zA-Z0-9_.][\\w./@:-]*)["']`;
  for (const m of text.matchAll(new RegExp(`\\brequire\\(\\s*${name}\\s*\\)|^\\s*import\\b[^;]*?\\bfrom\\s*${name}|\\bimport\\(\\s*${name}\\s*\\)`, 'gm'))) found.add((m[1] ?? m[2] ?? m[3])!);
  return [...found].sort();
}

/**
 * A shipped file's text with every section it carries unpacked after it, and theirs in turn (the CLI carries the
 * pnpmfile, which carries its engine): what a scan of what the file may load has to read.
 */
function unpacked(text: string): string {
  const sections = [...text.matchAll(/^\/\/# portcullis-.*$/gm)].map(([line]) => {
    const section = sectionFrom(text, line);
    expect(section, line).toBeDefined();
    return unpacked(section!);
  });
  return [text, ...sections].join('\n');
}

/** The whole marker line in `text` that starts with `start` (a marker's words after its name may change). */
function fullMarker(text: string, start: string): string {
  const at = text.indexOf(`\n${start}`);
  expect(at).toBeGreaterThan(0);
  return text.slice(at + 1, text.indexOf('\n', at + 1));
}

const builtin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!) || builtinModules.includes(specifier);

describe('shipped bundles load only Node built-ins', () => {
  it.each(Object.entries(bundles))('%s, and every section it carries', (_name, path) => {
    const text = unpacked(readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8'));
    const specifiers = loads(text);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !builtin(s))).toEqual([]);
  });

  it('the CLI bundles its prompt library (@inquirer/checkbox) instead of loading it', () => {
    const text = unpacked(readFileSync(fileURLToPath(new URL(bundles['packages/cli/dist/portcullis.js'], import.meta.url)), 'utf8'));
    expect(text).toContain('User force closed the prompt');
    // The engines and the texts the CLI carries are all read: the CLI's, the pnpmfile's inside its pnpmfile, the Yarn plugin.
    expect(text.match(/^\/\/# portcullis-.*$/gm)!.map((line) => line.split(' ').slice(0, 2).join(' ')).sort()).toEqual([
      '//# portcullis-cli-engine',
      '//# portcullis-cli-text',
      '//# portcullis-cli-text',
      '//# portcullis-engine',
    ]);
    expect(loads(text).some((s) => s.includes('inquirer'))).toBe(false);
  });
});

describe('the pnpmfile `portcullis init pnpm` writes', () => {
  it("is ASCII, header included (one other character makes Node hold the whole file as a two-byte string in each of pnpm 12's workers); a file with the earlier header is upgraded", async () => {
    const { createProject, portcullis } = await import('../src/project.js');
    const project = createProject('pnpm', 'http://127.0.0.1:9/', {}, { policy: { scripts: { allow: [] } } });
    const init = await portcullis(project, ['init', 'pnpm']);
    expect(init.code, init.stderr).toBe(0);
    const file = join(project.dir, '.pnpmfile.cjs');
    const text = readFileSync(file, 'utf8');
    expect(text.length).toBeGreaterThan(100_000);
    expect(/^[\x00-\x7f]*$/.test(text)).toBe(true);

    // Written by an earlier version (its header had an em dash): still Portcullis' own file, upgraded.
    writeFileSync(file, '// Portcullis pnpmfile \u2014 written by `portcullis init pnpm`; enforces portcullis.json. Do not edit: run init again to upgrade.\nmodule.exports = {};\n');
    const again = await portcullis(project, ['init', 'pnpm']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('upgraded');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

describe('the loader in front of each carried engine stays a loader', () => {
  // Compiled from source on every start (the engine after it comes with a V8 code cache): `portcullis-npm` twice per
  // install (the wrapper and the npm it holds, which loads the same file first), the pnpmfile in each of pnpm 12's hook
  // workers. One import of core's main face from a loader module once bundled the whole engine into portcullis-npm's
  // loader (577 KB, npm's code started ~40 ms later on every install); the loaders measure 12–33 KB.
  const LOADER_MAX_BYTES = 64 * 1024;
  it.each(['packages/cli/dist/portcullis.js', 'packages/npm/dist/portcullis-npm.js', 'packages/pnpm/dist/pnpmfile.cjs'] as const)('%s', (name) => {
    const text = readFileSync(fileURLToPath(new URL(bundles[name], import.meta.url)), 'utf8');
    const marker = text.search(/^\/\/# portcullis-/m);
    expect(marker).toBeGreaterThan(0);
    expect(Buffer.byteLength(text.slice(0, marker))).toBeLessThan(LOADER_MAX_BYTES);
  });
});

describe('`portcullis` and `portcullis-npm` start as CommonJS, and still run as an ES module', () => {
  // CommonJS in their own package (dist/package.json): Node's ES module loader cost every start more. A copy vendored
  // into a project (docs/ci.md: `tools/portcullis.js`) is whatever that project's package.json says: it runs either way.
  const types = { 'no "type"': {}, '"type": "commonjs"': { type: 'commonjs' }, '"type": "module"': { type: 'module' } };
  const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));

  it('dist/package.json says CommonJS', () => {
    for (const dist of ['../../cli/dist/package.json', '../../npm/dist/package.json']) expect(JSON.parse(readFileSync(file(dist), 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it.each(Object.entries(types))('copied into a folder with %s', async (_name, manifest) => {
    const { npm } = await import('../src/toolbox.js');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-vendored-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    mkdirSync(join(dir, 'tools'));
    copyFileSync(file(bundles['packages/cli/dist/portcullis.js']), join(dir, 'tools', 'portcullis.js'));
    copyFileSync(file(bundles['packages/npm/dist/portcullis-npm.js']), join(dir, 'tools', 'portcullis-npm.js'));
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'package.json'), '{"name":"app","version":"1.0.0"}');
    const env = { PATH: process.env.PATH, HOME: dir, PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state'), PORTCULLIS_NPM: npm(11).args[0] };
    const run = (tool: string, args: string[]) => spawnSync(process.execPath, [join(dir, 'tools', tool), ...args], { cwd: dir, env, encoding: 'utf8' });
    // Twice: the engine from the file, then from the copy kept and its code cache.
    for (let i = 0; i < 2; i++) {
      const version = run('portcullis.js', ['--version']);
      expect(version.stderr).toBe('');
      expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
      const init = run('portcullis.js', ['init', 'pnpm', '--dir', join(dir, 'app')]);
      expect(init.status, init.stderr).toBe(0);
      expect(readFileSync(join(dir, 'app', '.pnpmfile.cjs'), 'utf8')).toContain('//# portcullis-engine');
      // The wrapper's engine ran: it refuses `npm exec` itself, without starting npm.
      const exec = run('portcullis-npm.js', ['exec', 'left-pad']);
      expect(exec.status).toBe(2);
      expect(exec.stderr).toContain('is not gated yet; nothing was run');
    }
  });
});

describe("the CLI's thread pool", () => {
  // libuv reads UV_THREADPOOL_SIZE once, when the pool starts: the CLI sets it first (bin.ts), one thread fewer than the
  // cores (never more than libuv's four), so that the pool verifying a check's signatures leaves the main thread a core.
  const cli = fileURLToPath(new URL(bundles['packages/cli/dist/portcullis.js'], import.meta.url));
  const poolOf = (env: NodeJS.ProcessEnv) => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-pool-'));
    const report = join(dir, 'report.cjs');
    writeFileSync(report, "process.on('exit', () => require('node:fs').writeSync(2, `pool=${process.env.UV_THREADPOOL_SIZE}\\n`));\n");
    const result = spawnSync(process.execPath, ['--require', report, cli, '--version'], { env: { PATH: process.env.PATH, HOME: dir, PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state'), ...env }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    return /pool=(.*)/.exec(result.stderr)?.[1];
  };

  it('gets one thread fewer than the cores, at least one and at most four', () => {
    expect(poolOf({})).toBe(String(Math.min(4, Math.max(1, availableParallelism() - 1))));
  });

  it("keeps the user's own setting", () => {
    expect(poolOf({ UV_THREADPOOL_SIZE: '7' })).toBe('7');
  });
});

describe('a damaged `portcullis` or `portcullis-npm` file runs nothing it does not carry as built', () => {
  const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  /** A copy of `bundle` with one character changed inside the section after `marker` (the loader left as it is). */
  function damagedCopy(bundle: string, marker: string): { dir: string; path: string; env: NodeJS.ProcessEnv } {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-damaged-'));
    const text = readFileSync(file(bundle), 'utf8');
    const line = fullMarker(text, marker);
    const section = sectionFrom(text, line)!;
    const at = section.indexOf('return ');
    expect(at).toBeGreaterThan(0);
    const path = join(dir, bundle.split('/').pop()!);
    writeFileSync(path, withSection(text, line, `${section.slice(0, at)}return  ${section.slice(at + 'return '.length)}`));
    writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}');
    return { dir, path, env: { PATH: process.env.PATH, HOME: dir, PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state') } };
  }

  it.each([
    ['packages/cli/dist/portcullis.js', '//# portcullis-cli-engine', ['--version']],
    ['packages/npm/dist/portcullis-npm.js', '//# portcullis-npm-engine', ['exec', 'left-pad']],
  ] as const)('%s with its engine changed: exit 3, "damaged", nothing run', (bundle, marker, args) => {
    const { dir, path, env } = damagedCopy(bundles[bundle], marker);
    const r = spawnSync(process.execPath, [path, ...args], { cwd: dir, env, encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('is damaged');
    expect(r.stdout).toBe('');
  });

  it('the CLI with the pnpmfile it carries changed: `init pnpm` writes nothing (exit 3), other commands still run', () => {
    const { dir, path, env } = damagedCopy(bundles['packages/cli/dist/portcullis.js'], '//# portcullis-cli-text pnpmfile');
    const init = spawnSync(process.execPath, [path, 'init', 'pnpm', '--dir', dir], { cwd: dir, env, encoding: 'utf8' });
    expect(init.status).toBe(3);
    expect(init.stderr).toContain('is damaged');
    expect(existsSync(join(dir, '.pnpmfile.cjs'))).toBe(false);
    expect(spawnSync(process.execPath, [path, '--version'], { cwd: dir, env, encoding: 'utf8' }).status).toBe(0);
  });
});

describe('the engines load what they only sometimes need on first use (core cache/lazy-modules.ts)', () => {
  const engines = {
    'packages/cli/dist/portcullis.js': '//# portcullis-cli-engine',
    'packages/npm/dist/portcullis-npm.js': '//# portcullis-npm-engine',
    'packages/pnpm/dist/pnpmfile.cjs': '//# portcullis-engine ',
  };

  it.each(Object.entries(engines))('%s: minified; yaml, semver, Sigstore, node:fs/promises, node:zlib and node:dns are not loaded with the engine', (name, marker) => {
    const text = readFileSync(fileURLToPath(new URL(bundles[name as keyof typeof bundles], import.meta.url)), 'latin1');
    const engine = sectionFrom(text, fullMarker(text, marker))!;
    expect(engine.length).toBeGreaterThan(100_000);
    // Minified: a line per ~1,000 characters at most (esbuild's output keeps a template literal's lines; unminified, ~40).
    expect(engine.split('\n').length).toBeLessThan(engine.length / 1000);
    // The engine is minified (lazy-modules.ts minifiedEngine): its build checks that yaml, Sigstore and semver were each
    // made lazy (lazyEngine); here, that the calls are there, each a module put in its variable on first use.
    expect(engine.match(/\b__lazyModule\(\(\)=>[\w$]+=/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
    // Each module made lazy says so when it loads: none may load with the engine itself (a class extending one of
    // Sigstore's at the top level, say, loads it there).
    const helper = '  const module = () => (loaded ??= load());';
    expect(engine).toContain(helper);
    const told = engine.replace(helper, '  const module = () => (loaded ??= ((globalThis.__portcullisLazyLoaded ??= []).push(String(load).slice(6, 60)), load()));');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-lazy-'));
    const file = join(dir, 'engine.cjs');
    writeFileSync(file, told);
    // Node's own modules loaded with the engine, and the engine's own lazy modules.
    const probe = `const before = new Set(process.moduleLoadList); const e = require(${JSON.stringify(file)}); const loaded = process.moduleLoadList.filter((m) => !before.has(m)); console.log(JSON.stringify({ loaded, lazy: globalThis.__portcullisLazyLoaded ?? [], exports: Object.keys(e) }));`;
    const result = spawnSync(process.execPath, ['-e', probe], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, PORTCULLIS_CACHE_DIR: join(dir, 'cache'), PORTCULLIS_STATE_DIR: join(dir, 'state') } });
    expect(result.status, result.stderr).toBe(0);
    const { loaded, lazy, exports } = JSON.parse(result.stdout.trim().split('\n').pop()!) as { loaded: string[]; lazy: string[]; exports: string[] };
    expect(exports.length).toBeGreaterThan(0);
    expect(loaded.filter((m) => /^NativeModule (zlib|fs\/promises|dns)$/.test(m))).toEqual([]);
    expect(lazy).toEqual([]);
  });
});
