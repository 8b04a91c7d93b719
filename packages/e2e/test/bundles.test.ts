/**
 * Shipped bundles have zero runtime dependencies: every module they load is a Node built-in (dev dependencies such as
 * the CLI's prompt library are bundled in). Reads the built files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
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

const builtin = (specifier: string) => specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!) || builtinModules.includes(specifier);

describe('shipped bundles load only Node built-ins', () => {
  it.each(Object.entries(bundles))('%s', (_name, path) => {
    const text = readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');
    const specifiers = loads(text);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !builtin(s))).toEqual([]);
  });

  it('the CLI bundles its prompt library (@inquirer/checkbox) instead of loading it', () => {
    const text = readFileSync(fileURLToPath(new URL(bundles['packages/cli/dist/portcullis.js'], import.meta.url)), 'utf8');
    expect(text).toContain('User force closed the prompt');
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
