/**
 * The Yarn plugin inside the real Yarn (latest 4.x, 4.14 — the first to skip scripts by default — and
 * 4.0, the oldest we claim): builds only for allowed packages (named scripts and the implicit node-gyp
 * build), signature violations abort during resolution before any tarball is fetched (fresh, --immutable,
 * warm cache), and a tarball swapped on the registry is caught.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, demo, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, enforceWithYarnPlugin, markersOf, run, type Project, type RunResult } from '../src/project.js';
import { yarn, type Tool } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [...demo, cleanPackage('swapped-lib', '1.0.0'), cleanPackage('replayed-lib', '1.0.0')] });
});
afterAll(async () => {
  await registry?.close();
});

const trustTestRegistry = () => ({ [registry.url]: { keys: registry.keys.keys } });

async function yarnProject(dependencies: Record<string, string>, policy: object, manifest: object = {}): Promise<Project> {
  const project = createProject('yarn', registry.url, dependencies, { policy: { registries: trustTestRegistry(), ...policy } });
  if (Object.keys(manifest).length > 0) {
    const file = join(project.dir, 'package.json');
    writeFileSync(file, `${JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...manifest }, null, 2)}\n`);
  }
  const init = await enforceWithYarnPlugin(project);
  expect(init.code, init.stderr).toBe(0);
  return project;
}

function yarnIn(tool: Tool, project: Project, args: string[]): Promise<RunResult> {
  return run(tool.command, [...tool.args, ...args], { cwd: project.dir, env: project.env });
}

const ran = markersOf;
const tarballRequests = () => registry.requests.filter((r) => r.path.endsWith('.tgz')).length;
const output = (r: RunResult) => r.stdout + r.stderr;

describe.each([['latest'], ['4.14'], ['4.0']] as const)('yarn %s with the Portcullis plugin', (release) => {
  const tool = yarn(release);

  it('runs install scripts and node-gyp only for allowed packages; dependenciesMeta cannot widen the policy', async () => {
    const deps = { '@acme/logger': '^2.1.0', 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'fast-compiler': '^3.2.0' };
    const project = await yarnProject(deps, { scripts: { allow: ['fast-compiler@^3.2.0'] } }, { dependenciesMeta: { 'evil-postinstall': { built: true } } });
    const manifestBefore = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8'));
    const r = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(r.code, output(r)).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran']);
    expect(r.stdout).toContain('YN0005');
    expect(r.stdout).toContain('portcullis SCRIPT_NOT_ALLOWED: evil-postinstall@1.0.0, native-addon@1.0.0');
    expect(r.stdout).toContain('yarn portcullis approve evil-postinstall@1.0.0 native-addon@1.0.0');
    // the plugin never writes the user's dependenciesMeta
    expect(JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8')).dependenciesMeta).toEqual(manifestBefore.dependenciesMeta);

    // approving through Yarn lets the binding.gyp package build on the next (immutable) install
    const approved = await yarnIn(tool, project, ['portcullis', 'approve', 'native-addon']);
    expect(approved.code, output(approved)).toBe(0);
    expect(JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')).scripts.allow).toContain('native-addon@1.0.0');
    const again = await yarnIn(tool, project, ['install', '--immutable']);
    expect(again.code, output(again)).toBe(0);
    expect(ran(project)).toEqual(['fast-compiler@3.2.0.ran', 'native-addon@1.0.0.ran']);
    expect(readFileSync(join(project.markers, 'native-addon@1.0.0.ran'), 'utf8')).toContain('node-gyp');
  });

  it('an old key counts for versions published before its expiry, not after (full packument through Yarn)', async () => {
    // Among other packages (Yarn has then fetched and memoized their abbreviated documents), 1.0.0 passes.
    const before = await yarnProject({ 'legacy-signed': '1.0.0', '@acme/logger': '^2.1.0', 'tiny-colors': '^0.4.0', 'fast-compiler': '^3.2.0' }, { scripts: { allow: ['fast-compiler'] } });
    const ok = await yarnIn(tool, before, ['install', '--no-immutable']);
    expect(output(ok)).not.toContain('KEY_EXPIRED');
    expect(ok.code, output(ok)).toBe(0);
    const after = await yarnProject({ 'legacy-signed': '1.1.0' }, {});
    const blocked = await yarnIn(tool, after, ['install', '--no-immutable']);
    expect(blocked.code, output(blocked)).not.toBe(0);
    expect(output(blocked)).toContain('portcullis KEY_EXPIRED: legacy-signed@1.1.0');
    expect(output(blocked)).toContain('published on 2025-06-01');
  });

  it('range pins hold: entries for other versions allow nothing', async () => {
    const project = await yarnProject({ 'fast-compiler': '^3.2.0', 'native-addon': '1.0.0' }, { scripts: { allow: ['fast-compiler@^4.0.0', 'native-addon@1.0.1'] } });
    const r = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(r.code, output(r)).toBe(0);
    expect(ran(project)).toEqual([]);
    expect(r.stdout).toContain('portcullis SCRIPT_NOT_ALLOWED: fast-compiler@3.2.0, native-addon@1.0.0');
  });

  it('a fresh resolution asks the registry for each packument once: the gate judges the documents Yarn received', async () => {
    const deps = { '@acme/logger': '^2.1.0', 'tiny-colors': '^0.4.0', 'left-pad-lite': '1.1.0', 'evil-postinstall': '1.0.0' };
    const project = await yarnProject(deps, {});
    const from = registry.requests.length;
    const r = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toContain('portcullis SCRIPT_NOT_ALLOWED: evil-postinstall@1.0.0');
    const packuments = new Map<string, number>();
    for (const { path } of registry.requests.slice(from)) if (!path.startsWith('/-/') && !path.endsWith('.tgz')) packuments.set(path, (packuments.get(path) ?? 0) + 1);
    expect([...packuments.keys()].sort()).toEqual(['/@acme%2flogger', '/evil-postinstall', '/left-pad-lite', '/tiny-colors']);
    expect([...packuments.values()]).toEqual([1, 1, 1, 1]);
  });

  it('portcullisStrict fails the install before anything is fetched', async () => {
    const project = await yarnProject({ 'evil-postinstall': '1.0.0' }, {});
    writeFileSync(join(project.dir, '.yarnrc.yml'), `${readFileSync(join(project.dir, '.yarnrc.yml'), 'utf8')}portcullisStrict: true\n`);
    const before = tarballRequests();
    const r = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('SCRIPT_NOT_ALLOWED');
    expect(tarballRequests()).toBe(before);
    expect(ran(project)).toEqual([]);
  });

  it('unsigned, badly signed and unknown-key packages abort during resolution: nothing fetched or run', async () => {
    const deps = { 'left-pad-lite': '1.1.0', 'unsigned-lib': '1.0.0', 'tampered-lib': '1.0.0', 'rogue-signed': '1.0.0', 'evil-postinstall': '1.0.0' };
    const project = await yarnProject(deps, { scripts: { allow: ['evil-postinstall'] } });
    const before = tarballRequests();
    const r = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(r.code).not.toBe(0);
    for (const code of ['UNSIGNED: unsigned-lib@1.0.0', 'BAD_SIGNATURE: tampered-lib@1.0.0', 'UNKNOWN_KEY: rogue-signed@1.0.0']) expect(r.stdout).toContain(`YN0082: │ portcullis ${code}`);
    expect(tarballRequests()).toBe(before);
    expect(existsSync(join(project.dir, 'node_modules'))).toBe(false);
    expect(ran(project)).toEqual([]);
  });

  it('yarn add of a badly signed package aborts during resolution: no tarball fetched, package.json unchanged', async () => {
    const project = await yarnProject({ 'left-pad-lite': '1.1.0' }, {});
    const first = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(first.code, output(first)).toBe(0);
    const manifest = readFileSync(join(project.dir, 'package.json'), 'utf8');
    const before = tarballRequests();
    const r = await yarnIn(tool, project, ['add', 'tampered-lib@1.0.0']);
    expect(r.code, output(r)).not.toBe(0);
    expect(r.stdout).toContain('portcullis BAD_SIGNATURE: tampered-lib@1.0.0');
    expect(tarballRequests()).toBe(before);
    expect(existsSync(join(project.dir, 'node_modules', 'tampered-lib'))).toBe(false);
    expect(readFileSync(join(project.dir, 'package.json'), 'utf8')).toBe(manifest);
  });

  it('the same with --immutable, on a warm cache and on a cold one', async () => {
    const deps = { 'unsigned-lib': '1.0.0', 'tampered-lib': '1.0.0', 'rogue-signed': '1.0.0', 'evil-postinstall': '1.0.0' };
    // signatures off: Yarn writes the lockfile and fills its cache
    const project = await yarnProject(deps, { scripts: { allow: ['evil-postinstall'] }, signatures: { require: 'off' } });
    const first = await yarnIn(tool, project, ['install', '--no-immutable']);
    expect(first.code, output(first)).toBe(0);
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    rmSync(project.markers, { recursive: true, force: true });
    const policyFile = join(project.dir, 'portcullis.json');
    writeFileSync(policyFile, JSON.stringify({ ...JSON.parse(readFileSync(policyFile, 'utf8')), signatures: { require: 'registry' } }));

    for (const cache of ['warm', 'cold']) {
      if (cache === 'cold') rmSync(join(project.home, 'yarn-cache'), { recursive: true, force: true });
      const before = tarballRequests();
      const r = await yarnIn(tool, project, ['install', '--immutable']);
      expect(r.code, `${cache}: ${output(r)}`).not.toBe(0);
      expect(r.stdout).toContain('portcullis BAD_SIGNATURE: tampered-lib@1.0.0');
      expect(r.stdout).toContain('portcullis UNSIGNED: unsigned-lib@1.0.0');
      expect(r.stdout).toContain('portcullis UNKNOWN_KEY: rogue-signed@1.0.0');
      expect(tarballRequests()).toBe(before);
      expect(existsSync(join(project.dir, 'node_modules'))).toBe(false);
      expect(existsSync(project.markers) ? readdirSync(project.markers) : []).toEqual([]);
    }
  });

  it('a remembered verdict is replayed only for the same lockfile and policy, and still refuses bytes other than the signed ones', async () => {
    // PORTCULLIS_TIMING says whether the verdict was judged or replayed (the same setting in every run: part of the key).
    const project = await yarnProject({ 'replayed-lib': '1.0.0', 'left-pad-lite': '1.1.0' }, {});
    const env = { ...project.env, PORTCULLIS_TIMING: '1' };
    const install = (...args: string[]) => run(tool.command, [...tool.args, 'install', ...args], { cwd: project.dir, env });
    const clear = (...what: Array<'node_modules' | 'cache'>) => {
      if (what.includes('node_modules')) rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
      // Yarn's project cache and its mirror in the global folder: the tarball is downloaded again.
      if (what.includes('cache')) for (const folder of ['yarn-cache', 'yarn-global']) rmSync(join(project.home, folder), { recursive: true, force: true });
    };
    const replayed = (r: RunResult) => r.stderr.includes('portcullis-yarn timing: verdict replayed');
    const judged = (r: RunResult) => r.stderr.includes('portcullis-yarn timing: judged');
    const refusedBytes = 'portcullis BAD_SIGNATURE: the tarball served for replayed-lib@1.0.0 is not the one the registry signed';

    expect((await install('--no-immutable')).code).toBe(0);
    clear('node_modules');
    const decided = await install('--immutable');
    expect(decided.code, output(decided)).toBe(0);
    expect(judged(decided), decided.stderr).toBe(true);
    clear('node_modules');
    const again = await install('--immutable');
    expect(again.code, output(again)).toBe(0);
    expect(replayed(again), again.stderr).toBe(true);
    expect(existsSync(join(project.dir, 'node_modules', 'replayed-lib', 'package.json'))).toBe(true);

    // The policy changes (an advisory lists the package): decided again and refused; back to the old policy, replayed.
    const policyFile = join(project.dir, 'portcullis.json');
    const policyText = readFileSync(policyFile, 'utf8');
    const advisory = [{ id: 'MAL-2026-0017', modified: '2026-12-01T00:00:00Z', summary: 'Malicious code in replayed-lib', affected: [{ package: { ecosystem: 'npm', name: 'replayed-lib' }, versions: ['1.0.0'] }] }];
    writeFileSync(join(project.dir, 'advisories.json'), JSON.stringify(advisory));
    writeFileSync(policyFile, JSON.stringify({ ...JSON.parse(policyText), advisories: { osv: ['advisories.json'] } }));
    clear('node_modules');
    const listed = await install('--immutable');
    expect(listed.code, output(listed)).not.toBe(0);
    expect(replayed(listed)).toBe(false);
    expect(listed.stdout).toContain('KNOWN_MALICIOUS');
    expect(existsSync(join(project.dir, 'node_modules', 'replayed-lib'))).toBe(false);
    writeFileSync(policyFile, policyText);
    const restored = await install('--immutable');
    expect(restored.code, output(restored)).toBe(0);
    expect(replayed(restored), restored.stderr).toBe(true);

    registry.swapTarball('replayed-lib', '1.0.0', { 'index.js': 'module.exports = "swapped";\n' });
    try {
      // The same lockfile, the verdict replayed: the download is still checked against the signed integrity.
      clear('node_modules', 'cache');
      const requestsBefore = tarballRequests();
      const swapped = await install('--immutable');
      expect(swapped.code, output(swapped)).not.toBe(0);
      expect(replayed(swapped), swapped.stderr).toBe(true);
      expect(swapped.stdout).toContain(refusedBytes);
      expect(tarballRequests()).toBeGreaterThan(requestsBefore);
      expect(existsSync(join(project.dir, 'node_modules', 'replayed-lib'))).toBe(false);

      // An attacker drops Yarn's checksum of the package from yarn.lock (Yarn would then take any bytes): another
      // lockfile, decided again, and the swapped tarball refused.
      const lockfile = join(project.dir, 'yarn.lock');
      const text = readFileSync(lockfile, 'utf8');
      const entry = text.indexOf('"replayed-lib@npm:1.0.0":');
      const checksum = text.indexOf('  checksum: ', entry);
      expect(entry >= 0 && checksum > entry).toBe(true);
      writeFileSync(lockfile, text.slice(0, checksum) + text.slice(text.indexOf('\n', checksum) + 1));
      clear('node_modules', 'cache');
      const edited = await install();
      expect(edited.code, output(edited)).not.toBe(0);
      expect(judged(edited), edited.stderr).toBe(true);
      expect(edited.stdout).toContain(refusedBytes);
      expect(existsSync(join(project.dir, 'node_modules', 'replayed-lib'))).toBe(false);
    } finally {
      registry.add(cleanPackage('replayed-lib', '1.0.0'));
    }
  });

  it('a tarball swapped on the registry (metadata and signature unchanged) is caught before it is installed', async () => {
    registry.swapTarball('swapped-lib', '1.0.0', { 'index.js': 'module.exports = "swapped";\n' });
    try {
      const project = await yarnProject({ 'swapped-lib': '1.0.0' }, {});
      const r = await yarnIn(tool, project, ['install', '--no-immutable']);
      expect(r.code, output(r)).not.toBe(0);
      expect(r.stdout).toContain('YN0018');
      expect(r.stdout).toContain('portcullis BAD_SIGNATURE: the tarball served for swapped-lib@1.0.0 is not the one the registry signed');
      expect(existsSync(join(project.dir, 'node_modules', 'swapped-lib'))).toBe(false);
    } finally {
      registry.add(cleanPackage('swapped-lib', '1.0.0'));
    }
  });
});

describe('portcullis init yarn and yarn portcullis check', () => {
  it('registers the plugin as yarn plugin import does and imports dependenciesMeta built entries', async () => {
    const project = createProject('yarn', registry.url, { 'fast-compiler': '^3.2.0', 'evil-postinstall': '1.0.0' });
    const file = join(project.dir, 'package.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), dependenciesMeta: { 'fast-compiler': { built: true }, 'evil-postinstall': { built: false } } }));
    const init = await enforceWithYarnPlugin(project);
    expect(init.code, init.stderr).toBe(0);
    const yarnrc = readFileSync(join(project.dir, '.yarnrc.yml'), 'utf8');
    expect(yarnrc).toMatch(/plugins:\n {2}- checksum: [0-9a-f]{128}\n {4}path: \.yarn\/plugins\/@yarnpkg\/plugin-portcullis\.cjs\n {4}spec: /);
    expect(existsSync(join(project.dir, '.yarn/plugins/@yarnpkg/plugin-portcullis.cjs'))).toBe(true);
    const policy = JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8'));
    expect(policy.scripts.allow).toEqual(['fast-compiler']);

    // Yarn loads it (checksum accepted) and lists its commands
    const help = await yarnIn(yarn(), project, ['portcullis', 'check', '--help']);
    expect(help.code, output(help)).toBe(0);

    // check through Yarn: the same findings as the CLI, with the Yarn fix
    policy.registries = trustTestRegistry();
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy));
    const installed = await yarnIn(yarn(), project, ['install', '--no-immutable']);
    expect(installed.code, output(installed)).toBe(0);
    const check = await yarnIn(yarn(), project, ['portcullis', 'check', '--format', 'json']);
    const report = JSON.parse(check.stdout) as { findings: Array<{ code: string; package: string; fix: string }> };
    expect(report.findings.map((f) => `${f.code} ${f.package}`)).toEqual(['SCRIPT_NOT_ALLOWED evil-postinstall']);
    expect(report.findings[0]!.fix).toBe('yarn portcullis approve evil-postinstall@1.0.0');
    expect(check.code).toBe(1);

    // --format github through Yarn: the annotation at the line yarn.lock declares it, the fix spelled for Yarn
    const github = await yarnIn(yarn(), project, ['portcullis', 'check', '--format', 'github']);
    expect(github.code, output(github)).toBe(1);
    const declared = readFileSync(join(project.dir, 'yarn.lock'), 'utf8').split('\n').indexOf('"evil-postinstall@npm:1.0.0":') + 1;
    expect(declared).toBeGreaterThan(0);
    expect(github.stdout).toContain(`::error file=yarn.lock,line=${declared},col=1,title=SCRIPT_NOT_ALLOWED::evil-postinstall@1.0.0 `);
    expect(github.stdout).toContain('%0Afix: yarn portcullis approve evil-postinstall@1.0.0');
  });
});
