/**
 * Where npm reads its command line otherwise than portcullis-npm did (second review wave of round 43):
 * - `--` ends npm's options (nopt drops it): `npm -- ci` is `npm ci`, while the wrapper took `--` as the command and
 *   passed everything to npm;
 * - `--no-<option> <word>` for an option that may hold a string (`browser`, `script-shell`, …): nopt gives it the next
 *   word, the wrapper did not, so `--no-browser test ci` was `test` (passed through) to the wrapper and `ci` to npm.
 * Before: exit 0 with the badly signed `tampered-lib` installed on npm 10.9.9, 11.21.2 and 12.2.3, and with
 * ignore-scripts not in .npmrc, `evil-postinstall` ran on npm 10 and 11. Now `--` is read as npm reads it, and a command
 * line where npm may take another word than the wrapper as a command that is gated or refused is refused (exit 2).
 * - `pack`, `diff --diff=` and `cache add` passed a git spec to npm, whose pacote prepares it (npm 10: its `prepare`,
 *   whatever ignore-scripts says). Now these take only registry packages and local paths.
 * - `global=true` or `location=global` in an .npmrc makes npm install into its global prefix, outside the project the
 *   gate judged; the wrapper saw only the command line and the environment (npm's own errors refused some of it). Now
 *   a global install set in npm's configuration is refused (exit 2) unless the command line turns it off.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSourceServer, type SourceServer } from '../src/corpus/sources.js';
import { createProject, portcullis, portcullisNpm, run, type Project, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
let sources: SourceServer;
beforeAll(async () => {
  [registry, sources] = await Promise.all([
    startRegistry({ packages: [cleanPackage('tampered-lib', '1.0.0', { signature: 'corrupt' }), withPostinstall('evil-postinstall', '1.0.0'), cleanPackage('keep-me', '1.0.0')] }),
    startSourceServer(),
  ]);
});
afterAll(async () => {
  await Promise.all([registry?.close(), sources?.close()]);
});

const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = (p: Project) => (existsSync(p.markers) ? readdirSync(p.markers).sort() : []);
const policy = () => ({ scripts: { allow: [] }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** A project whose lockfile (written by plain npm) names tampered-lib and evil-postinstall; `portcullis init npm` done. */
async function lockedProject(major: 10 | 11 | 12, scriptsOffInNpmrc = true): Promise<Project> {
  const tool = npm(major);
  const project = createProject('npm', registry.url, { 'tampered-lib': '1.0.0', 'evil-postinstall': '1.0.0', 'keep-me': '1.0.0' }, { policy: policy() });
  const lock = await run(tool.command, [...tool.args, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project.dir, env: project.env });
  expect(lock.code, out(lock)).toBe(0);
  const init = await portcullis(project, ['init', 'npm']);
  expect(init.code, out(init)).toBe(0);
  if (!scriptsOffInNpmrc) {
    const npmrc = join(project.dir, '.npmrc');
    writeFileSync(npmrc, readFileSync(npmrc, 'utf8').replace(/^ignore-scripts=true\n?/m, ''));
  }
  return project;
}

const tamperedInstalled = (project: Project) => existsSync(join(project.dir, 'node_modules', 'tampered-lib', 'package.json'));

describe.each([10, 11, 12] as const)('npm %i', (major) => {
  it('`-- ci` is npm ci: gated (BAD_SIGNATURE, exit 1), nothing installed', async () => {
    const project = await lockedProject(major);
    const result = await portcullisNpm(npm(major), project, ['--', 'ci']);
    expect(result.code, out(result)).toBe(1);
    expect(out(result)).toContain('BAD_SIGNATURE');
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it.each([
    ['--no-browser test ci', ['--no-browser', 'test', 'ci']],
    ['--no-script-shell ls install', ['--no-script-shell', 'ls', 'install']],
  ])('%s: refused (npm would run another command than the one read), nothing installed', async (_label, args) => {
    const project = await lockedProject(major);
    const result = await portcullisNpm(npm(major), project, args);
    expect(result.code, out(result)).toBe(2);
    expect(out(result)).toContain('may read');
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it('`-- ci` with ignore-scripts not in .npmrc: nothing runs, nothing installed', async () => {
    const project = await lockedProject(major, false);
    const result = await portcullisNpm(npm(major), project, ['--', 'ci']);
    expect(result.code, out(result)).toBe(1);
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  const optIn = major === 10 ? [] : ['--allow-git=all'];
  it.each([
    ['pack <git>', (u: string) => ['pack', u, ...optIn]],
    ['cache add <git>', (u: string) => ['cache', 'add', u, ...optIn]],
    ['diff --diff=<git>', (u: string) => ['diff', `--diff=${u}`, `--diff=${u}`, ...optIn]],
  ] as const)('%s: refused (exit 2), none of the git package scripts run', async (_label, args) => {
    const project = createProject('npm', registry.url, {}, { policy: policy() });
    const init = await portcullis(project, ['init', 'npm']);
    expect(init.code, out(init)).toBe(0);
    const result = await portcullisNpm(npm(major), project, args(sources.gitFileUrl));
    expect(result.code, out(result)).toBe(2);
    expect(out(result)).toContain('would fetch');
    expect(ran(project)).toEqual([]);
  });

  it.each([
    ['global=true', ['install']],
    ['global=true', ['install', 'keep-me']],
    ['location=global', ['ci']],
  ])('%s in the project .npmrc, %s: refused (a global install), nothing installed in the global prefix or run', async (setting, args) => {
    const project = await lockedProject(major);
    appendFileSync(join(project.dir, '.npmrc'), `${setting}\n`);
    const prefix = mkdtempSync(join(tmpdir(), 'portcullis-global-prefix-'));
    const result = await portcullisNpm(npm(major), project, args, { npm_config_prefix: prefix });
    expect(result.code, out(result)).toBe(2);
    expect(out(result)).toContain(`${setting} in ${join(project.dir, '.npmrc')}`);
    expect(readdirSync(prefix)).toEqual([]);
    expect(tamperedInstalled(project)).toBe(false);
    expect(ran(project)).toEqual([]);
  });
});
