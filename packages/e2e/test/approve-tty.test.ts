/**
 * `portcullis approve` in a real terminal (tmux, else `script`): a project with three blocked builds, two of them
 * picked with the keyboard. The policy then allows exactly those two, and a reinstall through the gate — pnpm 12, npm 11
 * through portcullis-npm, Yarn 4 with the plugin — builds exactly them. Without a terminal the same command never asks: it lists and exits 1.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, withInstallScript, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createProject, enforceWithYarnPlugin, markersOf, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { openTerminal, terminalDriver, type Terminal } from '../src/terminal.js';
import { npm, pnpm, yarn } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({
    packages: [withPostinstall('alpha-build', '1.0.0'), withInstallScript('preinstall', 'beta-build', '1.0.0'), withInstallScript('install', 'gamma-build', '2.1.0')],
  });
});
afterAll(async () => {
  await registry?.close();
});

const deps = { 'alpha-build': '1.0.0', 'beta-build': '1.0.0', 'gamma-build': '2.1.0' };
const policy = () => ({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
const ran = markersOf;
const output = (r: RunResult) => `${r.stdout}${r.stderr}`;
const allowList = (project: Project) => (JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')) as { scripts: { allow: string[] } }).scripts.allow;

/** The checkbox as last drawn (a `script` transcript holds every frame). */
function lastFrame(screen: string): string {
  return screen.slice(screen.lastIndexOf('Approve which packages?'));
}
const checkedCount = (screen: string) => (lastFrame(screen).match(/◉/g) ?? []).length;

/** Runs `portcullis approve` in a terminal and picks alpha-build and gamma-build (the first and third entries). */
async function pickAlphaAndGamma(project: Project): Promise<{ screen: string; code: number }> {
  const terminal: Terminal = openTerminal([process.execPath, CLI, 'approve'], { cwd: project.dir, env: project.env });
  try {
    const listing = await terminal.waitFor(/Approve which packages\?/);
    // What would run is on screen before anything is chosen: the exact command lines and the signature facts.
    expect(listing).toMatch(/alpha-build@1\.0\.0\n\s+runs postinstall: node -e "const d=process\.env\.PORTCULLIS_MARKER_DIR/);
    expect(listing).toMatch(/beta-build@1\.0\.0\n\s+runs preinstall: node -e /);
    expect(listing).toMatch(/gamma-build@2\.1\.0\n\s+runs install: node -e /);
    expect(listing).toMatch(/signature: verified by SHA256:/);
    expect(checkedCount(listing)).toBe(0);
    await terminal.send('Space');
    await terminal.waitFor((s) => checkedCount(s) === 1);
    await terminal.send('Down', 'Down', 'Space');
    const picked = await terminal.waitFor((s) => checkedCount(s) === 2);
    expect(lastFrame(picked)).toMatch(/◉ alpha-build@1\.0\.0/);
    expect(lastFrame(picked)).toMatch(/◯ beta-build@1\.0\.0/);
    expect(lastFrame(picked)).toMatch(/◉ gamma-build@2\.1\.0/);
    await terminal.send('Enter');
    const code = await terminal.exitCode();
    const screen = await terminal.screen();
    if (process.env.PORTCULLIS_E2E_SHOW_SCREEN) console.log(screen);
    return { screen, code };
  } finally {
    await terminal.close();
  }
}

describe('portcullis approve on a terminal', () => {
  it('a machine with neither tmux nor script fails these tests with what to install, never skips them', () => {
    const path = process.env.PATH;
    try {
      process.env.PATH = '/nonexistent';
      expect(() => terminalDriver()).toThrow(/neither tmux nor script \(util-linux\) is on PATH — install tmux/);
    } finally {
      process.env.PATH = path;
    }
    expect(['tmux', 'script']).toContain(terminalDriver());
  });

  it('pnpm 12: the two picked packages are pinned, and a reinstall builds exactly them', async () => {
    const project = createProject('pnpm', registry.url, deps, { policy: policy() });
    expect((await portcullis(project, ['init', 'pnpm'])).code).toBe(0);
    const tool = pnpm(12);
    const pnpmIn = (args: string[]) => run(tool.command, [...tool.args, ...args, `--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'], { cwd: project.dir, env: project.env });
    const first = await pnpmIn(['install']);
    expect(first.code, output(first)).toBe(0);
    expect(ran(project)).toEqual([]);

    const { screen, code } = await pickAlphaAndGamma(project);
    expect(code, screen).toBe(0);
    expect(screen).toContain('+ scripts.allow: "alpha-build@1.0.0"');
    expect(screen).toContain('+ scripts.allow: "gamma-build@2.1.0"');
    expect(allowList(project)).toEqual(['alpha-build@1.0.0', 'gamma-build@2.1.0']);
    const check = await portcullis(project, ['check', '--format', 'json']);
    expect((JSON.parse(check.stdout) as { findings: Array<{ package: string }> }).findings.map((f) => f.package)).toEqual(['beta-build']);

    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    const again = await pnpmIn(['install', '--frozen-lockfile', '--config.side-effects-cache=false']);
    expect(again.code, output(again)).toBe(0);
    expect(ran(project)).toEqual(['alpha-build@1.0.0.ran', 'gamma-build@2.1.0.ran']);
  });

  it('npm 11 through portcullis-npm: the two picked packages are pinned, and npm ci builds exactly them', async () => {
    const project = createProject('npm', registry.url, deps, { policy: policy() });
    expect((await portcullis(project, ['init', 'npm'])).code).toBe(0);
    const tool = npm(11);
    const first = await portcullisNpm(tool, project, ['install']);
    expect(first.code, output(first)).toBe(0);
    expect(ran(project)).toEqual([]);

    const { screen, code } = await pickAlphaAndGamma(project);
    expect(code, screen).toBe(0);
    expect(allowList(project)).toEqual(['alpha-build@1.0.0', 'gamma-build@2.1.0']);

    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    const again = await portcullisNpm(tool, project, ['ci']);
    expect(again.code, output(again)).toBe(0);
    expect(ran(project)).toEqual(['alpha-build@1.0.0.ran', 'gamma-build@2.1.0.ran']);
  });

  it('Yarn 4 with the plugin: the two picked packages are pinned, and an --immutable reinstall builds exactly them', async () => {
    const project = createProject('yarn', registry.url, deps, { policy: policy() });
    expect((await enforceWithYarnPlugin(project)).code).toBe(0);
    const tool = yarn('latest');
    const yarnIn = (args: string[]) => run(tool.command, [...tool.args, ...args], { cwd: project.dir, env: project.env });
    const first = await yarnIn(['install', '--no-immutable']);
    expect(first.code, output(first)).toBe(0);
    expect(ran(project)).toEqual([]);
    // Inside Yarn the same listing, spelled for Yarn, and never a prompt.
    const listed = await yarnIn(['portcullis', 'approve']);
    expect(listed.code, output(listed)).toBe(1);
    expect(listed.stdout).toMatch(/beta-build@1\.0\.0\n\s+runs preinstall: node -e /);
    expect(listed.stdout).toContain('  yarn portcullis approve alpha-build@1.0.0 beta-build@1.0.0 gamma-build@2.1.0\n');
    expect(allowList(project)).toEqual([]);

    const { screen, code } = await pickAlphaAndGamma(project);
    expect(code, screen).toBe(0);
    expect(allowList(project)).toEqual(['alpha-build@1.0.0', 'gamma-build@2.1.0']);

    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    const again = await yarnIn(['install', '--immutable']);
    expect(again.code, output(again)).toBe(0);
    expect(ran(project)).toEqual(['alpha-build@1.0.0.ran', 'gamma-build@2.1.0.ran']);
  });

  it('without a terminal it never asks: it lists what is blocked with the exact command, exits 1 and writes nothing', async () => {
    const project = createProject('npm', registry.url, deps, { policy: policy() });
    const first = await portcullisNpm(npm(11), project, ['install']);
    expect(first.code, output(first)).toBe(0);
    const before = readFileSync(join(project.dir, 'portcullis.json'), 'utf8');
    // run() gives the CLI no terminal (stdin ignored, stdout a pipe).
    const listed = await portcullis(project, ['approve']);
    expect(listed.code, output(listed)).toBe(1);
    expect(listed.stdout).toContain('runs preinstall: node -e');
    expect(listed.stdout).toContain('  portcullis approve alpha-build@1.0.0 beta-build@1.0.0 gamma-build@2.1.0');
    expect(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')).toBe(before);
  });

  it('before anything is installed (a lockfile only), the command lines come from the registry\'s full documents', async () => {
    const project = createProject('npm', registry.url, deps, { policy: policy() });
    const tool = npm(11);
    const locked = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project.dir, env: project.env });
    expect(locked.code, output(locked)).toBe(0);
    const listed = await portcullis(project, ['approve']);
    expect(listed.code, output(listed)).toBe(1);
    expect(listed.stdout).toMatch(/alpha-build@1\.0\.0\n\s+runs postinstall: node -e "const d=process\.env\.PORTCULLIS_MARKER_DIR/);
    expect(listed.stdout).toMatch(/gamma-build@2\.1\.0\n\s+runs install: node -e /);
    expect(listed.stdout).toContain('not installed here');
    expect(listed.stdout).not.toContain('command line not known');
  });
});
