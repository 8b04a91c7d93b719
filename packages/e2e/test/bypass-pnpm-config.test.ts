/**
 * Issue 13 (items 3, 6, 7) through the real pnpm 10, 11 and 12 with the pnpmfile of `portcullis init pnpm`:
 * - every setting that could widen pnpm's builds, from every place pnpm reads settings, cannot make a package
 *   build that scripts.allow does not cover: the install either refuses or skips it with a truthful notice;
 * - an install (or `pnpm add`) run from a workspace sub-folder uses the registry, policy and lockfile of the workspace root;
 * - the user sees one instruction for a skipped build (`portcullis approve`), never pnpm's `pnpm approve…`.
 * See docs/pnpm.md and docs/security.md ("pnpm settings").
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { markerFileName, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, pnpmDrivers, projectFiles, ran, freshCheckout, type Driver } from '../src/corpus/drivers.js';
import { DEEP, EVIL, GOOD, PARENT, pnpmConfigCases, pnpmConfigDependencies, pnpmConfigPackages } from '../src/corpus/pnpm-config.js';
import { run, type Project } from '../src/project.js';

let registry: TestRegistry;
/** A registry the projects must never ask: it records every request and answers 404. */
let unused: { url: string; requests: string[]; server: Server };
const results: string[] = [];

beforeAll(async () => {
  registry = await startRegistry({ packages: pnpmConfigPackages });
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  unused = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests, server };
});
afterAll(async () => {
  await registry?.close();
  await new Promise<void>((resolve) => (unused?.server ? unused.server.close(() => resolve()) : resolve()));
  if (results.length > 0) process.stdout.write(`\npnpm settings results:\n${results.join('\n')}\n`);
});

const policy = () => ({ scripts: { allow: [GOOD] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
const EVIL_MARKER = markerFileName(EVIL, '1.0.0');
const GOOD_MARKER = markerFileName(GOOD, '1.0.0');
const NOTICE = `portcullis: skipped the install scripts of ${EVIL}@1.0.0`;
/** pnpm's own instruction for held builds (10, 11, 12.21: `Run "pnpm approve-builds"`; 12.23: `Run "pnpm approve"`). */
const PNPM_APPROVE = /Run "pnpm approve/;
/** What Portcullis adds when pnpm will offer its own approval anyway (a package new to a fresh resolution). */
const APPROVAL_NOTE = 'pnpm may also suggest "pnpm approve-builds" (or "pnpm approve") for these: that cannot allow them past portcullis.json';

const pnpmArgs = (project: Project) => [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];

function summary(text: string): string {
  const codes = [...new Set(text.match(/ERR_PNPM_[A-Z_]+|SETTING_WIDENS_BUILDS|skipped the install scripts|Run "pnpm approve[a-z-]*|pnpm may also suggest/g) ?? [])];
  return codes.join(' ') || '-';
}

describe.each(pnpmDrivers().map((d) => [d.label, d] as const))('%s: pnpm settings cannot widen scripts.allow', (_label, driver: Driver) => {
  it('baseline: the unlisted build is skipped with one instruction, `portcullis approve`, and no `pnpm approve`', async () => {
    const project = await driver.project(registry.url, pnpmConfigDependencies, policy());
    const r = await driver.install(project);
    results.push(`${driver.label} | baseline | exit ${r.code} | ${summary(output(r))} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(r.code, output(r)).toBe(0);
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(output(r)).toContain(`${NOTICE} (not in scripts.allow of portcullis.json). To allow: portcullis approve ${EVIL}@1.0.0`);
    expect(output(r)).not.toMatch(PNPM_APPROVE);
    // denying builds outright is in memory only: pnpm writes no settings file for it
    expect(existsSync(join(project.dir, 'pnpm-workspace.yaml'))).toBe(false);

    // the same from the lockfile, as CI installs it
    const files = projectFiles(project, driver.lockfile);
    freshCheckout(project);
    const frozen = await driver.frozen(project, ['--config.side-effects-cache=false']);
    expect(frozen.code, output(frozen)).toBe(0);
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(output(frozen)).toContain(NOTICE);
    expect(output(frozen)).not.toMatch(PNPM_APPROVE);
    expect(projectFiles(project, driver.lockfile)).toEqual(files);
    expect(existsSync(join(project.dir, 'pnpm-workspace.yaml'))).toBe(false);
  });

  it('a transitive package new to a fresh resolution: skipped; if pnpm offers its approval, Portcullis says it cannot help; from the lockfile pnpm offers none', async () => {
    const project = await driver.project(registry.url, { [PARENT]: '1.0.0', [GOOD]: '1.0.0' }, policy());
    const fresh = await driver.install(project);
    results.push(`${driver.label} | transitive, fresh | exit ${fresh.code} | ${summary(output(fresh))} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(fresh.code, output(fresh)).toBe(0);
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(output(fresh)).toContain(`portcullis: skipped the install scripts of ${DEEP}@1.0.0`);
    if (PNPM_APPROVE.test(output(fresh))) expect(output(fresh)).toContain(APPROVAL_NOTE);

    freshCheckout(project);
    const again = await driver.install(project, ['--config.side-effects-cache=false']);
    results.push(`${driver.label} | transitive, from the lockfile | exit ${again.code} | ${summary(output(again))} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(again.code, output(again)).toBe(0);
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(output(again)).not.toMatch(PNPM_APPROVE);
    expect(output(again)).not.toContain(APPROVAL_NOTE);
  });

  it.each(pnpmConfigCases.map((c) => [c.place, c.setting, c] as const))('%s %s: the unlisted package does not build; refused or skipped with a truthful notice', async (place, setting, c) => {
    const project = await driver.project(registry.url, pnpmConfigDependencies, policy());
    const { env = {}, args = [], command } = c.apply(project);
    const r = command ? await driver.plain(project, [...command, ...args], env) : await driver.install(project, args, env);
    const markers = ran(project);
    results.push(`${driver.label} | ${place} | ${setting} | exit ${r.code} | ${summary(output(r))} | ran: ${markers.join(' ') || 'nothing'}`);
    expect(markers, output(r)).not.toContain(EVIL_MARKER);
    if (r.code === 0) {
      expect(markers, output(r)).toEqual([GOOD_MARKER]);
      expect(output(r)).toContain(NOTICE);
    } else {
      // refused by Portcullis before anything was fetched or built, naming the setting and its fix
      expect(markers, output(r)).toEqual([]);
      expect(output(r)).toContain('SETTING_WIDENS_BUILDS');
      expect(output(r)).toContain('fix: ');
    }
  });

  it.runIf(driver.label.startsWith('pnpm 12'))('pnpm 12 with a `node` shim on PATH (volta, asdf, a bin script): a build allowed on the command line is still refused', async () => {
    // pnpm 12 starts its hook worker with the `node` on PATH; a shim that is a shell script puts a shell between
    // pnpm and the worker, so the worker's parent is not pnpm. Measured: the full e2e run under `pnpm run test`
    // (packages/e2e/node_modules/.bin/node is such a shim) built the unlisted package before the fix.
    const project = await driver.project(registry.url, pnpmConfigDependencies, policy());
    const shims = join(project.home, 'shims');
    mkdirSync(shims);
    writeFileSync(join(shims, 'node'), `#!/bin/sh\n"${process.execPath}" "$@"\nexit $?\n`, { mode: 0o755 });
    const r = await driver.install(project, [`--config.allow-builds={"${EVIL}":true}`], { PATH: `${shims}:${project.env.PATH ?? ''}` });
    results.push(`${driver.label} | command line, node shim on PATH | --config.allow-builds | exit ${r.code} | ${summary(output(r))} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(ran(project), output(r)).not.toContain(EVIL_MARKER);
    expect(r.code, output(r)).not.toBe(0);
    expect(output(r)).toContain('SETTING_WIDENS_BUILDS');
  });

  it.runIf(driver.label.startsWith('pnpm 12'))('pnpm 12: a build allowed on the command line is refused before any build even if updateConfig\'s result is lost', async () => {
    // Defence in depth: afterAllResolved repeats the command-line check in pnpm 12's hook worker, before any build.
    // Emulated with a pnpmfile that drops updateConfig.
    const project = await driver.project(registry.url, pnpmConfigDependencies, policy());
    renameSync(join(project.dir, '.pnpmfile.cjs'), join(project.dir, 'portcullis-hooks.cjs'));
    writeFileSync(join(project.dir, '.pnpmfile.cjs'), "const p = require('./portcullis-hooks.cjs');\nconst { updateConfig: _dropped, ...hooks } = p.hooks;\nmodule.exports = { ...p, hooks };\n");
    const r = await driver.install(project, [`--config.allow-builds={"${EVIL}":true}`]);
    results.push(`${driver.label} | command line, updateConfig lost | --config.allow-builds | exit ${r.code} | ${summary(output(r))} | ran: ${ran(project).join(' ') || 'nothing'}`);
    expect(ran(project), output(r)).not.toContain(EVIL_MARKER);
    expect(r.code, output(r)).not.toBe(0);
    expect(output(r)).toContain('SETTING_WIDENS_BUILDS');
  });

  it('a workspace installed project by project (shared-workspace-lockfile=false): a project folder\'s own .npmrc and package.json cannot widen the builds', async () => {
    const project = await driver.project(registry.url, {}, policy());
    writeFileSync(join(project.dir, 'pnpm-workspace.yaml'), 'packages:\n  - app\n');
    writeFileSync(join(project.dir, '.npmrc'), `registry=${registry.url}\nshared-workspace-lockfile=false\n`);
    const app = join(project.dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: pnpmConfigDependencies, pnpm: { onlyBuiltDependencies: [EVIL] } }, null, 2)}\n`);
    writeFileSync(join(app, '.npmrc'), 'dangerously-allow-all-builds=true\n');
    const r = await driver.install(project, ['-r']);
    const markers = ran(project);
    results.push(`${driver.label} | shared-workspace-lockfile=false, app/.npmrc + app/package.json | exit ${r.code} | ${summary(output(r))} | ran: ${markers.join(' ') || 'nothing'}`);
    expect(markers, output(r)).not.toContain(EVIL_MARKER);
    if (r.code !== 0) expect(output(r)).toContain('SETTING_WIDENS_BUILDS');
    else expect(output(r)).toContain(NOTICE);
  });

  it('from a workspace sub-folder (install, frozen, add): the root .npmrc registry, the root policy and lockfile decide; the default registry is never asked', async () => {
    const project = await driver.project(registry.url, {}, policy());
    writeFileSync(join(project.dir, 'pnpm-workspace.yaml'), 'packages:\n  - app\n');
    const app = join(project.dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: pnpmConfigDependencies }, null, 2)}\n`);
    // the user's default registry is one this project does not use
    writeFileSync(join(project.home, '.npmrc'), `registry=${unused.url}\n`);
    const before = unused.requests.length;
    const inApp = (args: string[]) => run(driver.tool.command, [...driver.tool.args, ...args, ...pnpmArgs(project)], { cwd: app, env: project.env });

    const fresh = await inApp(['install']);
    results.push(`${driver.label} | sub-folder install | exit ${fresh.code} | ${summary(output(fresh))} | ran: ${ran(project).join(' ') || 'nothing'} | unused registry asked ${unused.requests.length - before}×`);
    expect(fresh.code, output(fresh)).toBe(0);
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(output(fresh)).toContain(NOTICE);
    expect(readFileSync(join(project.dir, 'pnpm-lock.yaml'), 'utf8')).toContain(`${EVIL}@1.0.0`);

    freshCheckout(project);
    const frozen = await inApp(['install', '--frozen-lockfile', '--config.side-effects-cache=false']);
    expect(frozen.code, output(frozen)).toBe(0);
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(unused.requests.slice(before)).toEqual([]);

    // `pnpm add` from the sub-folder (on pnpm 12 the root's lockfile judged by updateConfig): a package whose dependency
    // has an install script the root policy does not allow is added, that script not run, and the notice names it.
    const added = await inApp(['add', `${PARENT}@1.0.0`, '--config.side-effects-cache=false']);
    results.push(`${driver.label} | sub-folder add | exit ${added.code} | ${summary(output(added))} | ran: ${ran(project).join(' ') || 'nothing'} | unused registry asked ${unused.requests.length - before}×`);
    expect(added.code, output(added)).toBe(0);
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies[PARENT]).toBeDefined();
    expect(ran(project)).toEqual([GOOD_MARKER]);
    expect(output(added)).toContain('skipped the install scripts');
    expect(output(added)).toContain(`${DEEP}@1.0.0`);
    expect(unused.requests.slice(before)).toEqual([]);
  });
});
