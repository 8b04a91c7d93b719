/**
 * A Yarn workspace whose folder is a committed symlink (seventh review wave of round 44). Yarn globs `workspaces`
 * through symlinks, so `vendored/child -> ../../outside/child` (a folder outside the project) or
 * `vendored/child -> ../node_modules/evil-postinstall` (a registry package the policy does not let build) is a
 * workspace, and Yarn runs a workspace's lifecycle scripts whatever enableScripts says. Core already judged such a
 * workspace as not the project's own (no signature: UNSIGNED_SOURCE); but once the policy lets it in unsigned
 * (signatures.allowUnsigned, which the refusal suggests), the plugin let every `workspace:` locator build.
 * Before, Yarn 4.0.2 and 4.18.1: exit 0 and the outside folder's postinstall ran (the plugin itself had printed
 * "child@0.0.0-use.local will not run install scripts"); the registry package's postinstall ran as the workspace's.
 * Now the plugin asks core whether a workspace is the project's own; one that is not builds only if scripts.allow
 * covers it. Secure outcome: nothing not allowed runs; `check` exit 1.
 */
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearMarkers, CLI, createProject, enforceWithYarnPlugin, markersOf, run, type Project, type RunResult } from '../src/project.js';
import { yarn } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [withPostinstall('evil-postinstall', '1.0.0'), withPostinstall('allowed-build', '1.0.0'), cleanPackage('good', '1.0.0')] });
});
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = markersOf;
/** The workspace may come in unsigned; nothing lets it build. */
const policy = () => ({ scripts: { allow: ['allowed-build'] }, signatures: { allowUnsigned: ['child', 'evil-postinstall'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
type Release = 'latest' | '4.14' | '4.0';
const yarnIn = (release: Release, p: Project, args: string[]) => {
  const tool = yarn(release);
  return run(tool.command, [...tool.args, ...args], { cwd: p.dir, env: p.env });
};
const check = (p: Project) => run(process.execPath, [CLI, 'check'], { cwd: p.dir, env: p.env });

/** A project with the plugin, installed once (the developer's checkout: node_modules in place); markers cleared. */
async function installed(release: Release, deps: Record<string, string>): Promise<Project> {
  const p = createProject('yarn', registry.url, deps, { policy: policy() });
  const init = await enforceWithYarnPlugin(p);
  expect(init.code, out(init)).toBe(0);
  const first = await yarnIn(release, p, ['install', '--no-immutable']);
  expect(first.code, out(first)).toBe(0);
  clearMarkers(p);
  return p;
}

/** The pull request: `workspaces: ["vendored/*"]` and the committed symlink `vendored/child -> target`. */
function linkedWorkspace(p: Project, target: string): void {
  mkdirSync(join(p.dir, 'vendored'));
  symlinkSync(target, join(p.dir, 'vendored', 'child'));
  const pkg = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  pkg.workspaces = ['vendored/*'];
  writeFileSync(join(p.dir, 'package.json'), JSON.stringify(pkg, null, 2));
}

describe.each(['latest', '4.14', '4.0'] as const)('Yarn %s: a workspace folder that is a committed symlink', (release) => {
  it('out of the project, let in unsigned: its postinstall does not run (scripts.allow does not cover it); check exit 1', async () => {
    const p = await installed(release, { good: '1.0.0' });
    const outside = join(dirname(p.dir), 'outside', 'child');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'package.json'), JSON.stringify({ name: 'child', version: '1.0.0', scripts: { postinstall: markerScript('child-postinstall', '1.0.0', 'postinstall') } }));
    linkedWorkspace(p, '../../outside/child');
    const r = await yarnIn(release, p, ['install', '--no-immutable']);
    // Before the fix: exit 0 and child-postinstall@1.0.0.ran, beside the plugin's own "will not run install scripts".
    expect(ran(p), out(r)).toEqual([]);
    expect(out(r)).toContain('portcullis SCRIPT_NOT_ALLOWED: child@0.0.0-use.local');
    const c = await check(p);
    expect(c.code, out(c)).toBe(1);
    expect(out(c)).toContain('child');
  }, 180_000);

  it('into node_modules (a registry package not allowed to build), let in unsigned: its postinstall does not run as the workspace\'s', async () => {
    const p = await installed(release, { 'evil-postinstall': '1.0.0' });
    appendFileSync(join(p.dir, '.yarnrc.yml'), 'enableTransparentWorkspaces: false\n');
    linkedWorkspace(p, '../node_modules/evil-postinstall');
    const r = await yarnIn(release, p, ['install', '--no-immutable']);
    // Before the fix: exit 0 and evil-postinstall@1.0.0.ran.
    expect(ran(p), out(r)).toEqual([]);
    const c = await check(p);
    expect(c.code, out(c)).toBe(1);
  }, 180_000);
});
