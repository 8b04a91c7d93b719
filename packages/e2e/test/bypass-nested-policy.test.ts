/**
 * A nested project with its own portcullis.json (seventh review wave of round 44). The pull request adds `tools/` with a
 * package.json, a lockfile and a portcullis.json that allows everything; the policy is looked up from the project's root
 * (the lockfile's folder), so `tools/portcullis.json` was the policy of an install run in `tools/` — with the plugin
 * loaded from the repository's .yarnrc.yml, or through portcullis-npm.
 * Before, in a checkout (`.git` at its top): Yarn 4.0.2 and 4.18.1 `yarn install` in tools/: exit 0 and the refused
 * evil-postinstall's postinstall ran; `portcullis check` in tools/ exit 0. npm 11.21.2 `portcullis-npm ci` in tools/:
 * exit 0, evil-postinstall ran.
 * Now a portcullis.json below another in the same checkout is refused (PROJECT_AMBIGUOUS, exit 2 / the install stops),
 * naming both: one policy decides for a repository. Without a `.git` the checkout's top is unknown (documented).
 * Eighth wave: the nested project a git submodule (the pull request adds `tools` as a submodule of another repository,
 * whose commit holds the permissive portcullis.json; `git submodule update` leaves `tools/.git`, a file naming
 * `../.git/modules/tools`). Before, `tools/.git` made `tools/` a checkout's top: Yarn 4.18.1 `yarn install` in tools/
 * exit 0 and evil-postinstall's postinstall ran; `portcullis check` there exit 0; npm 11.21.2 `portcullis-npm ci` there
 * exit 0, evil-postinstall ran. Now a submodule is a folder of the checkout above it: refused the same way.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createProject, enforceWithYarnPlugin, markersOf, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { npm, yarn } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [withPostinstall('evil-postinstall', '1.0.0'), withPostinstall('allowed-build', '1.0.0')] });
});
afterAll(async () => {
  await registry?.close();
});
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = markersOf;
const rootPolicy = () => ({ scripts: { allow: ['allowed-build'] }, registries: { [registry.url]: { keys: registry.keys.keys } } });
const loose = () => ({ scripts: { allow: ['evil-postinstall'] }, signatures: { require: 'off' } });

/**
 * The nested project `tools/` as a git submodule: another repository (package.json, the files `prepare` writes, its
 * permissive portcullis.json) added with `git submodule add` to the project, a checkout.
 */
async function submodule(p: Project, prepare: (dir: string) => Promise<void>): Promise<string> {
  const git = (cwd: string, args: string[]) => run('git', ['-c', 'user.email=e2e@example.invalid', '-c', 'user.name=e2e', '-c', 'protocol.file.allow=always', '-c', 'init.defaultBranch=main', ...args], { cwd, env: p.env });
  const upstream = join(p.home, 'tools-upstream');
  mkdirSync(upstream);
  writeFileSync(join(upstream, 'package.json'), JSON.stringify({ name: 'tools', version: '1.0.0', private: true, dependencies: { 'evil-postinstall': '1.0.0' } }));
  await prepare(upstream);
  writeFileSync(join(upstream, 'portcullis.json'), JSON.stringify(loose()));
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-qm', 'tools']]) expect((await git(upstream, args)).code).toBe(0);
  for (const args of [['init', '-q'], ['submodule', 'add', '-q', upstream, 'tools']]) {
    const r = await git(p.dir, args);
    expect(r.code, out(r)).toBe(0);
  }
  const tools = join(p.dir, 'tools');
  expect(readFileSync(join(tools, '.git'), 'utf8')).toContain('.git/modules/tools');
  return tools;
}

/** The nested project `tools/` (package.json and its own permissive portcullis.json) in a checkout with the repository's policy. */
function nested(p: Project): string {
  mkdirSync(join(p.dir, '.git'));
  const tools = join(p.dir, 'tools');
  mkdirSync(tools);
  writeFileSync(join(tools, 'package.json'), JSON.stringify({ name: 'tools', version: '1.0.0', private: true, dependencies: { 'evil-postinstall': '1.0.0' } }));
  return tools;
}

/** `yarn install` in the nested project stops (PROJECT_AMBIGUOUS, naming its policy), nothing runs; `check` there exit 2. */
async function yarnInstallStops(p: Project, tools: string, tool: ReturnType<typeof yarn>): Promise<void> {
  const r = await run(tool.command, [...tool.args, 'install', '--no-immutable'], { cwd: tools, env: p.env });
  // Before the fix: exit 0, evil-postinstall@1.0.0.ran.
  expect({ code: r.code, ran: ran(p) }, out(r)).toEqual({ code: 1, ran: [] });
  expect(out(r)).toContain(`${join(tools, 'portcullis.json')} is not the policy of this repository`);
  const c = await run(process.execPath, [CLI, 'check'], { cwd: tools, env: p.env });
  expect(c.code, out(c)).toBe(2);
}

/** `portcullis-npm ci` in the nested project is refused (exit 2): nothing installed or run. */
async function npmCiRefused(p: Project, tools: string, tool: ReturnType<typeof npm>): Promise<void> {
  const r = await portcullisNpm(tool, { ...p, dir: tools }, ['ci']);
  // Before the fix: exit 0, evil-postinstall@1.0.0.ran.
  expect({ code: r.code, ran: ran(p), installed: existsSync(join(tools, 'node_modules', 'evil-postinstall')) }, out(r)).toEqual({ code: 2, ran: [], installed: false });
  expect(out(r)).toContain('is not the policy of this repository');
}

describe.each(['latest', '4.0'] as const)('Yarn %s: a nested project with its own portcullis.json', (release) => {
  it('yarn install in it stops (PROJECT_AMBIGUOUS): nothing runs; check there exit 2', async () => {
    const p = createProject('yarn', registry.url, {}, { policy: rootPolicy() });
    expect((await enforceWithYarnPlugin(p)).code).toBe(0);
    const tools = nested(p);
    writeFileSync(join(tools, 'yarn.lock'), '');
    writeFileSync(join(tools, '.yarnrc.yml'), 'enableScripts: true\n');
    writeFileSync(join(tools, 'portcullis.json'), JSON.stringify(loose()));
    await yarnInstallStops(p, tools, yarn(release));
  }, 180_000);
});

describe('npm 11: a nested project with its own portcullis.json', () => {
  it('portcullis-npm ci in it is refused (exit 2): nothing installed or run', async () => {
    const tool = npm(11);
    const p = createProject('npm', registry.url, {}, { policy: rootPolicy() });
    const tools = nested(p);
    writeFileSync(join(tools, '.npmrc'), `registry=${registry.url}\n`);
    const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: tools, env: p.env });
    expect(lock.code, out(lock)).toBe(0);
    writeFileSync(join(tools, 'portcullis.json'), JSON.stringify(loose()));
    await npmCiRefused(p, tools, tool);
  }, 180_000);
});

describe('a nested project that is a git submodule, with its own portcullis.json', () => {
  it('Yarn: yarn install in it stops (PROJECT_AMBIGUOUS): nothing runs; check there exit 2', async () => {
    const p = createProject('yarn', registry.url, {}, { policy: rootPolicy() });
    expect((await enforceWithYarnPlugin(p)).code).toBe(0);
    const tools = await submodule(p, async (dir) => {
      writeFileSync(join(dir, 'yarn.lock'), '');
      writeFileSync(join(dir, '.yarnrc.yml'), 'enableScripts: true\n');
    });
    await yarnInstallStops(p, tools, yarn('latest'));
  }, 180_000);

  it('npm 11: portcullis-npm ci in it is refused (exit 2): nothing installed or run', async () => {
    const tool = npm(11);
    const p = createProject('npm', registry.url, {}, { policy: rootPolicy() });
    const tools = await submodule(p, async (dir) => {
      writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n`);
      const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: dir, env: p.env });
      expect(lock.code, out(lock)).toBe(0);
    });
    await npmCiRefused(p, tools, tool);
  }, 180_000);
});
