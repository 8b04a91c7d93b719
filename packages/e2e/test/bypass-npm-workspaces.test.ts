/**
 * Bypass corpus, npm workspaces (issue 13, item 4): `portcullis-npm` started inside a workspace member, or
 * in a folder below it without a package.json. npm installs the workspace root's lockfile from there; the
 * wrapper must decide on that lockfile (every member's packages), refuse with nothing installed or run and
 * every file npm touched byte-identical, and run the normal install when everything is allowed.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markerFileName, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshCheckout, npmDrivers, output, ran, type Driver } from '../src/corpus/drivers.js';
import { corpusPackages } from '../src/corpus/packages.js';
import { installedAnywhere, makeWorkspace, MEMBER, NESTED, UNSIGNED, workspaceHashes, workspacePackages, wrapperIn } from '../src/corpus/workspaces.js';
import type { Project, RunResult } from '../src/project.js';

let registry: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  registry = await startRegistry({ packages: [...corpusPackages, ...workspacePackages] });
});
afterAll(async () => {
  await registry?.close();
  if (results.length > 0) process.stdout.write(`\nnpm workspace results:\n${results.join('\n')}\n`);
});

const policy = () => ({ scripts: { allow: ['evil-postinstall', 'allowed-tool'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
const evilMarker = markerFileName('evil-postinstall', '1.0.0');

function record(driver: Driver, label: string, r: RunResult, project: Project): void {
  const codes = [...new Set(output(r).match(/UNSIGNED|BAD_SIGNATURE|WORKSPACE_[A-Z_]+|POLICY_[A-Z_]+|LOCKFILE_NOT_FOUND/g) ?? [])].join(' ') || '-';
  results.push(`${driver.label} | ${label} | exit ${r.code} | ${codes} | ran: ${ran(project).join(' ') || 'nothing'}`);
}

/** A refusal: non-zero, the finding named, nothing of the blocked packages installed, nothing run, every file as it was. */
function expectRefused(r: RunResult, project: Project, before: Record<string, string | null>, codes: string[], blocked: string[]): void {
  expect(r.code, output(r)).toBe(1);
  for (const code of codes) expect(output(r)).toContain(code);
  for (const name of blocked) expect(installedAnywhere(project, name), output(r)).toEqual([]);
  expect(ran(project)).toEqual([]);
  expect(workspaceHashes(project)).toEqual(before);
}

describe.each(npmDrivers().map((d) => [d.label, d] as const))('%s: portcullis-npm inside a workspace member', (_label, driver) => {
  let blocked: Project;
  let allowed: Project;

  beforeAll(async () => {
    // the member brings an unsigned package, the other member a badly signed one: both in the root lockfile
    blocked = await driver.project(registry.url, {}, policy());
    await makeWorkspace(driver, blocked, { app: { 'left-pad-lite': '1.1.0', [UNSIGNED.name]: UNSIGNED.version }, other: { 'tampered-lib': '1.0.0' } });
    allowed = await driver.project(registry.url, {}, policy());
    // the other member's allowed-tool is in the lockfile but npm, filtering to the member, does not install it
    await makeWorkspace(driver, allowed, { app: { 'left-pad-lite': '1.1.0', 'evil-postinstall': '1.0.0' }, other: { 'allowed-tool': '1.0.0' } });
  });

  it('ci and install from the member and from a folder below it decide on the root lockfile: refused, nothing installed, files unchanged', async () => {
    for (const [folder, command] of [
      [MEMBER, 'ci'],
      [NESTED, 'ci'],
      [MEMBER, 'install'],
      [NESTED, 'install'],
    ] as const) {
      freshCheckout(blocked);
      const before = workspaceHashes(blocked);
      const r = await wrapperIn(driver, blocked, folder, [command]);
      record(driver, `${command} in ${folder}, root lockfile with ${UNSIGNED.name} (app) and tampered-lib (other)`, r, blocked);
      // every member's packages are decided, not only the member's own
      expectRefused(r, blocked, before, ['UNSIGNED', UNSIGNED.name, 'BAD_SIGNATURE', 'tampered-lib'], [UNSIGNED.name, 'tampered-lib', 'left-pad-lite']);
    }
  });

  it('the allowed case from the member: ci and install exit 0, install at the root, the allowed script runs', async () => {
    const before = workspaceHashes(allowed);
    const ci = await wrapperIn(driver, allowed, MEMBER, ['ci']);
    record(driver, `ci in ${MEMBER}, everything allowed`, ci, allowed);
    expect(ci.code, output(ci)).toBe(0);
    expect(installedAnywhere(allowed, 'evil-postinstall')).toEqual([join(allowed.dir, 'node_modules', 'evil-postinstall')]);
    expect(installedAnywhere(allowed, 'left-pad-lite')).toEqual([join(allowed.dir, 'node_modules', 'left-pad-lite')]);
    expect(ran(allowed)).toEqual([evilMarker]);
    expect(installedAnywhere(allowed, 'allowed-tool')).toEqual([]);
    expect(workspaceHashes(allowed)['package-lock.json']).toBe(before['package-lock.json']);

    freshCheckout(allowed);
    const install = await wrapperIn(driver, allowed, NESTED, ['install']);
    record(driver, `install in ${NESTED}, everything allowed`, install, allowed);
    expect(install.code, output(install)).toBe(0);
    expect(installedAnywhere(allowed, 'evil-postinstall')).toEqual([join(allowed.dir, 'node_modules', 'evil-postinstall')]);
    expect(ran(allowed)).toEqual([evilMarker]);
  });

  it('install <pkg> and add from the member: refused with the root lockfile, the members\' package.json and node_modules/.package-lock.json byte-identical', async () => {
    // an installed workspace: npm's hidden lockfile exists and npm rewrites it while it resolves
    freshCheckout(allowed);
    const first = await wrapperIn(driver, allowed, MEMBER, ['ci']);
    expect(first.code, output(first)).toBe(0);
    expect(existsSync(join(allowed.dir, 'node_modules', '.package-lock.json'))).toBe(true);
    freshCheckoutMarkers(allowed);
    for (const [folder, args, code, name] of [
      [MEMBER, ['install', UNSIGNED.name], 'UNSIGNED', UNSIGNED.name],
      [NESTED, ['add', 'tampered-lib'], 'BAD_SIGNATURE', 'tampered-lib'],
    ] as const) {
      const before = workspaceHashes(allowed);
      const r = await wrapperIn(driver, allowed, folder, [...args]);
      record(driver, `${args.join(' ')} in ${folder}`, r, allowed);
      expectRefused(r, allowed, before, [code, name], [name]);
    }

    // allowed: the package lands in the member's package.json and the root lockfile; deep-5's script is not allowed and stays off
    const add = await wrapperIn(driver, allowed, MEMBER, ['install', 'deep-4']);
    record(driver, `install deep-4 in ${MEMBER}`, add, allowed);
    expect(add.code, output(add)).toBe(0);
    expect(JSON.parse(readFileSync(join(allowed.dir, MEMBER, 'package.json'), 'utf8')).dependencies).toHaveProperty('deep-4');
    expect(readFileSync(join(allowed.dir, 'package-lock.json'), 'utf8')).toContain('node_modules/deep-4');
    expect(existsSync(join(allowed.dir, MEMBER, 'package-lock.json'))).toBe(false);
    expect(installedAnywhere(allowed, 'deep-4')).toEqual([join(allowed.dir, 'node_modules', 'deep-4')]);
    // the wrapper runs the allowed scripts of what is installed again (evil-postinstall is allowed); deep-5 stays off
    expect(ran(allowed).filter((m) => m !== evilMarker)).toEqual([]);
  });

  it('`--workspaces false install <pkg>`: npm reads the `false` as the option\'s value, so the command is install and it is gated', async () => {
    freshCheckoutMarkers(allowed);
    const before = workspaceHashes(allowed);
    const r = await wrapperIn(driver, allowed, '.', ['--workspaces', 'false', 'install', UNSIGNED.name]);
    record(driver, `--workspaces false install ${UNSIGNED.name} in the root`, r, allowed);
    expectRefused(r, allowed, before, ['UNSIGNED', UNSIGNED.name], [UNSIGNED.name]);
  });

  it('a portcullis.json inside the member, which npm\'s project does not use: refused with exit 2, nothing run', async () => {
    freshCheckout(blocked);
    const file = join(blocked.dir, MEMBER, 'portcullis.json');
    writeFileSync(file, `${JSON.stringify({ ...policy(), signatures: { require: 'off' } }, null, 2)}\n`);
    try {
      const before = workspaceHashes(blocked);
      const r = await wrapperIn(driver, blocked, NESTED, ['ci']);
      record(driver, `ci in ${NESTED} with a portcullis.json in the member`, r, blocked);
      expect(r.code, output(r)).toBe(2);
      expect(output(r)).toContain(file);
      expect(installedAnywhere(blocked, UNSIGNED.name)).toEqual([]);
      expect(ran(blocked)).toEqual([]);
      expect(workspaceHashes(blocked)).toEqual(before);
    } finally {
      rmSync(file);
    }
  });
});

/** Forgets the markers only (node_modules stays, as after an install). */
function freshCheckoutMarkers(project: Project): void {
  for (const marker of ran(project)) rmSync(join(project.markers, marker));
}
