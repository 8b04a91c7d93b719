/**
 * `portcullis-npm` in front of the real npm 10, 11 and 12: install scripts run only when allowed (each
 * installed copy on its own), signature problems abort before anything is installed with package.json
 * and package-lock.json byte-identical, `ci` enforces the same, and other commands pass straight through.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, demo, startRegistry, withInstallScript, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, install, portcullis, portcullisNpm, run, type Project } from '../src/project.js';
import { npm, type Tool } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({
    packages: [
      ...demo,
      withInstallScript('preinstall', 'pre-hook', '1.0.0'),
      withPostinstall('twin', '1.0.0'),
      withPostinstall('twin', '2.0.0'),
      // holder brings a nested copy of twin@1 (node_modules/holder/node_modules/twin)
      cleanPackage('holder', '1.0.0', { dependencies: { twin: '1.0.0' } }),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

const policy = (allow: string[]) => ({ scripts: { allow }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** The marker each fixture script writes, sorted: which install-time code actually ran. */
function ran(project: Project): string[] {
  return readdirSync(project.markers).sort();
}

function bytes(project: Project): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of ['package.json', 'package-lock.json']) {
    const file = join(project.dir, name);
    out[name] = existsSync(file) ? readFileSync(file, 'base64') : null;
  }
  return out;
}

/** What `portcullis init npm` writes: a plain `npm install` that bypasses the wrapper runs nothing. */
function withIgnoreScriptsNpmrc(project: Project): void {
  writeFileSync(join(project.dir, '.npmrc'), `${readFileSync(join(project.dir, '.npmrc'), 'utf8')}ignore-scripts=true\n`);
}

/** Root lifecycle scripts that leave a marker named after the event. */
function withRootScripts(project: Project): void {
  const file = join(project.dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const script = `node -e "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, 'root-' + process.env.npm_lifecycle_event), '')"`;
  manifest.scripts = { preinstall: script, postinstall: script, prepare: script };
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

const versions: Array<[10 | 11 | 12, () => Tool]> = [
  [10, () => npm(10)],
  [11, () => npm(11)],
  [12, () => npm(12)],
];

describe.each(versions)('portcullis-npm with npm %i', (_major, tool) => {
  it('runs exactly the allowed scripts, copy by copy, then the root lifecycle; ci enforces the same', async () => {
    const deps = { 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'pre-hook': '1.0.0', 'fast-compiler': '^3.2.0', twin: '2.0.0', holder: '1.0.0' };
    const project = createProject('npm', registry.url, deps, { policy: policy(['fast-compiler', 'twin@1']) });
    withIgnoreScriptsNpmrc(project);
    withRootScripts(project);

    const first = await portcullisNpm(tool(), project, ['install']);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    // twin@1.0.0 (nested) is allowed, twin@2.0.0 (top level) is not; postinstall, preinstall and binding.gyp stay off
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran', 'root-postinstall', 'root-preinstall', 'root-prepare', 'twin@1.0.0.ran']);
    expect(first.stderr).toContain('ran postinstall of twin@1.0.0 (node_modules/holder/node_modules/twin)');
    expect(first.stderr).toContain('portcullis approve evil-postinstall@1.0.0 native-addon@1.0.0 pre-hook@1.0.0 twin@2.0.0');
    expect(existsSync(join(project.dir, 'node_modules', 'evil-postinstall', 'package.json'))).toBe(true);

    // ci on the existing lockfile, with a policy that now allows the binding.gyp package and the preinstall one
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy(['native-addon@1.0.0', 'pre-hook', 'twin@2.0.0'])));
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    for (const f of readdirSync(project.markers)) rmSync(join(project.markers, f));
    const lockBefore = bytes(project);
    const ci = await portcullisNpm(tool(), project, ['ci']);
    expect(ci.code, ci.stderr + ci.stdout).toBe(0);
    expect(ran(project)).toEqual(['native-addon@1.0.0.ran', 'pre-hook@1.0.0.ran', 'root-postinstall', 'root-preinstall', 'root-prepare', 'twin@2.0.0.ran']);
    expect(readFileSync(join(project.markers, 'native-addon@1.0.0.ran'), 'utf8')).toContain('node-gyp');
    expect(bytes(project)).toEqual(lockBefore);
  });

  it("a fresh install asks the registry for each packument once: the gate reads what npm's resolution kept in npm's cache", async () => {
    const project = createProject('npm', registry.url, { '@acme/logger': '^2.1.0', 'fast-compiler': '^3.2.0', holder: '1.0.0' }, { policy: policy([]) });
    const from = registry.requests.length;
    const fresh = await portcullisNpm(tool(), project, ['install']);
    expect(fresh.code, fresh.stderr + fresh.stdout).toBe(0);
    const packuments = new Map<string, number>();
    for (const r of registry.requests.slice(from)) if (r.method === 'GET' && !r.path.startsWith('/-/') && !r.path.endsWith('.tgz')) packuments.set(r.path, (packuments.get(r.path) ?? 0) + 1);
    expect(packuments.size).toBeGreaterThanOrEqual(3);
    expect([...packuments].filter(([, n]) => n > 1)).toEqual([]);
  });

  it('a fresh `install` is one npm run: npm resolves, the gate judges the lockfile npm is about to write, and npm installs exactly that', async () => {
    const project = createProject('npm', registry.url, { '@acme/logger': '^2.1.0', 'fast-compiler': '^3.2.0', holder: '1.0.0' }, { policy: policy([]) });
    const r = await portcullisNpm(tool(), project, ['install'], { PORTCULLIS_TIMING: '1' });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    // npm writes a debug log for each run (the gate's lock-only resolution was a run of its own).
    const logs = readdirSync(join(project.home, 'npm-cache', '_logs')).filter((f) => f.endsWith('-debug-0.log'));
    expect(logs).toHaveLength(1);
    // The gate judged npm's question (its timing marks), and npm installed what it asked about.
    expect(r.stderr).toContain('resolved (npm asks)');
    expect(r.stderr).not.toMatch(/timing: resolved \d/);
    const lockfile = JSON.parse(readFileSync(join(project.dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lockfile.packages)).toEqual(expect.arrayContaining(['node_modules/@acme/logger', 'node_modules/fast-compiler', 'node_modules/holder', 'node_modules/twin']));
    expect(existsSync(join(project.dir, 'node_modules', 'holder', 'package.json'))).toBe(true);
  });

  it('aborts `install <pkgs>` on unsigned, badly signed and unknown-key packages: nothing runs, files byte-identical', async () => {
    const project = createProject('npm', registry.url, { 'left-pad-lite': '1.1.0' }, { policy: policy(['evil-postinstall']) });
    const setup = await portcullisNpm(tool(), project, ['install']);
    expect(setup.code, setup.stderr).toBe(0);
    const before = bytes(project);

    const r = await portcullisNpm(tool(), project, ['install', 'unsigned-lib', 'tampered-lib', 'rogue-signed', 'evil-postinstall']);
    expect(r.code).toBe(1);
    for (const code of ['UNSIGNED', 'BAD_SIGNATURE', 'UNKNOWN_KEY']) expect(r.stderr).toContain(code);
    expect(r.stderr).toContain('unsigned-lib@1.0.0 has no registry signature');
    expect(bytes(project)).toEqual(before);
    expect(ran(project)).toEqual([]);
    expect(existsSync(join(project.dir, 'node_modules', 'evil-postinstall'))).toBe(false);
  });

  it('leaves no lockfile behind when a fresh install is blocked', async () => {
    const project = createProject('npm', registry.url, { 'evil-postinstall': '1.0.0', 'tampered-lib': '1.0.0' }, { policy: policy(['evil-postinstall']) });
    const before = bytes(project);
    const from = registry.requests.length;
    const r = await portcullisNpm(tool(), project, ['install']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('BAD_SIGNATURE');
    expect(r.stderr).toContain('nothing was installed');
    // Decided before npm fetched a single tarball.
    expect(registry.requests.slice(from).filter((q) => q.path.endsWith('.tgz'))).toEqual([]);
    expect(bytes(project)).toEqual(before);
    expect(before['package-lock.json']).toBeNull();
    expect(existsSync(join(project.dir, 'node_modules'))).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it('npm-shrinkwrap.json beside package-lock.json: the gate judges the file this npm installs (npm 12 reads package-lock.json only)', async () => {
    const project = createProject('npm', registry.url, { 'tampered-lib': '1.0.0' }, { policy: policy([]) });
    // The lockfile npm 12 installs lists tampered-lib; a decoy npm-shrinkwrap.json (what npm 10 and 11 would use) lists nothing.
    expect((await install(tool(), 'npm', project, ['--package-lock-only'])).code).toBe(0);
    writeFileSync(join(project.dir, 'npm-shrinkwrap.json'), `${JSON.stringify({ name: 'e2e-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'e2e-app', version: '1.0.0' } } }, null, 2)}\n`);
    for (const command of [['ci'], ['install']]) {
      const r = await portcullisNpm(tool(), project, command);
      expect(r.code, `${command.join(' ')}: ${r.stderr}${r.stdout}`).not.toBe(0);
      expect(existsSync(join(project.dir, 'node_modules', 'tampered-lib')), command.join(' ')).toBe(false);
      if (_major >= 12) expect(r.stderr, command.join(' ')).toContain('tampered-lib@1.0.0 failed registry signature verification');
    }
    // `portcullis check` does not know the npm: it asks instead of passing either file.
    const check = await portcullis(project, ['check']);
    expect(check.code).toBe(2);
    expect(check.stderr).toContain('npm 12 from package-lock.json only');
  });

  it('`ci` on an existing lockfile with a tampered package installs nothing', async () => {
    const project = createProject('npm', registry.url, { 'evil-postinstall': '1.0.0', 'tampered-lib': '1.0.0' }, { policy: policy(['evil-postinstall']) });
    // the lockfile comes from a plain npm, outside the gate
    expect((await install(tool(), 'npm', project, ['--package-lock-only'])).code).toBe(0);
    const before = bytes(project);
    const r = await portcullisNpm(tool(), project, ['ci']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tampered-lib@1.0.0 failed registry signature verification');
    expect(existsSync(join(project.dir, 'node_modules'))).toBe(false);
    expect(ran(project)).toEqual([]);
    expect(bytes(project)).toEqual(before);
  });

  it('passes other commands straight to npm: same output, same exit code', async () => {
    const project = createProject('npm', registry.url, {});
    const file = join(project.dir, 'package.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), scripts: { hello: 'node -e "console.log(42)"' } }));
    const t = tool();
    const plain = (args: string[]) => run(t.command, [...t.args, ...args], { cwd: project.dir, env: project.env });
    for (const args of [['--version'], ['view', 'left-pad-lite', 'version'], ['run', 'hello'], ['run', 'no-such-script']]) {
      const [wrapped, direct] = [await portcullisNpm(t, project, args), await plain(args)];
      expect(wrapped.code, args.join(' ')).toBe(direct.code);
      expect(wrapped.stdout, args.join(' ')).toBe(direct.stdout);
    }
  });
});

describe('portcullis init npm', () => {
  it('turns scripts off for plain npm, imports allowScripts, and the wrapper still runs the allowed ones', async () => {
    const project = createProject('npm', registry.url, { 'fast-compiler': '^3.2.0', 'evil-postinstall': '1.0.0' });
    const file = join(project.dir, 'package.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), allowScripts: { 'fast-compiler': true, 'evil-postinstall': false } }));
    const init = await portcullis(project, ['init', 'npm']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('alias npm=portcullis-npm');
    expect(readFileSync(join(project.dir, '.npmrc'), 'utf8')).toBe(`registry=${registry.url}\nignore-scripts=true\n`);
    const written = JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')) as { scripts: { allow: string[] }; registries: Record<string, unknown> };
    expect(written.scripts.allow).toEqual(['fast-compiler']);

    // a plain npm that bypasses the wrapper runs nothing
    expect((await run(npm(11).command, [...npm(11).args, 'install'], { cwd: project.dir, env: project.env })).code).toBe(0);
    expect(ran(project)).toEqual([]);
    written.registries = { [registry.url]: { keys: registry.keys.keys } };
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(written));
    const r = await portcullisNpm(npm(11), project, ['rebuild']);
    expect(r.code, r.stderr).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
  });
});
