import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { narrowDenials, updateConfig as updateConfigOf } from './config.js';
import { newInstallState } from './state.js';
import { registryConfigFromPnpm, workspaceRootOf } from './project.js';
import { commandLineWidening, uncoveredAllowances } from './settings.js';


function projectWith(policy: object, workspaceYaml?: string, manifest?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-unit-'));
  writeFileSync(join(dir, 'portcullis.json'), JSON.stringify(policy));
  if (workspaceYaml !== undefined) writeFileSync(join(dir, 'pnpm-workspace.yaml'), workspaceYaml);
  if (manifest !== undefined) writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  return dir;
}

const pnpm10 = (dir: string, extra: object = {}) => ({ lockfileDir: dir, userAgent: 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64', rawConfig: { registry: 'http://127.0.0.1:9/' }, argv: { original: ['install'] }, ...extra });
/** Each call is a new pnpm process: a fresh install state. */
const updateConfig = (config: Record<string, unknown>) => updateConfigOf(newInstallState(), config);
/** A fake of the policy's build allowance: exact `name` / `name@version` entries, and `sharp@^0.34.0` as a range. */
const policyOf = (allow: string[]) => ({
  covers: (name: string, version?: string) =>
    allow.includes(name) || (version !== undefined && (allow.includes(`${name}@${version}`) || (allow.includes(`${name}@^0.34.0`) && /^0\.34\./.test(version)))),
});

describe('updateConfig', () => {
  it('replaces allowBuilds with the policy, keeps a user false, drops dangerouslyAllowAllBuilds (pnpm 11/12)', async () => {
    const dir = projectWith({ scripts: { allow: ['esbuild'] } });
    // The command line is known and does not carry the flag (it came from a file pnpm reads before the hook):
    // without `argv` the hook would read this test process's own ancestors.
    const config = await updateConfig({ lockfileDir: dir, userAgent: 'pnpm/12.21.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, allowBuilds: { evil: true, esbuild: true, fsevents: false }, dangerouslyAllowAllBuilds: true, argv: { original: ['install'] } });
    expect(config.allowBuilds).toEqual({ esbuild: true, fsevents: false });
    expect(config.dangerouslyAllowAllBuilds).toBe(false);
    expect(config.strictDepBuilds).toBe(false);
    expect(config).not.toHaveProperty('onlyBuiltDependencies');
  });
  it('on pnpm 10 empties onlyBuiltDependencies and removes neverBuiltDependencies; strictDepBuilds from pnpm-workspace.yaml', async () => {
    const dir = projectWith({}, 'strictDepBuilds: true\n');
    const config = await updateConfig({ lockfileDir: dir, userAgent: 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64', rawConfig: { registry: 'http://127.0.0.1:9/' }, onlyBuiltDependencies: ['evil'], neverBuiltDependencies: [] });
    expect(config.allowBuilds).toEqual({});
    expect(config.onlyBuiltDependencies).toEqual([]);
    expect(config).not.toHaveProperty('neverBuiltDependencies');
    expect(config.strictDepBuilds).toBe(true);
  });
});

describe('settings pnpm applies after updateConfig', () => {
  it('pnpm 10: a root package.json allowance the policy does not cover refuses the install, naming the file, the setting and the fix', async () => {
    const dir = projectWith({ scripts: { allow: ['esbuild'] } }, undefined, { pnpm: { onlyBuiltDependencies: ['esbuild', 'evil'] } });
    const refused = updateConfig(pnpm10(dir, { rootProjectManifestDir: dir }));
    await expect(refused).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_SETTINGS' });
    await expect(refused).rejects.toHaveProperty('hint', expect.stringContaining(`SETTING_WIDENS_BUILDS  pnpm.onlyBuiltDependencies in ${join(dir, 'package.json')} allows evil`));
    await expect(refused).rejects.toHaveProperty('hint', expect.stringContaining('fix: add "evil" to scripts.allow of portcullis.json if it may build, then remove "pnpm.onlyBuiltDependencies" from package.json'));
  });
  it('pnpm 10: allowances the policy covers anyway stay; allowBuilds, the allowlist file and neverBuiltDependencies are read too', async () => {
    const covered = projectWith({ scripts: { allow: ['esbuild', 'sharp@^0.34.0'] } }, undefined, { pnpm: { onlyBuiltDependencies: ['esbuild', 'sharp@0.34.1 || 0.34.2'], allowBuilds: { esbuild: true, evil: false } } });
    await expect(updateConfig(pnpm10(covered))).resolves.toBeDefined();
    const file = projectWith({}, undefined, { pnpm: { onlyBuiltDependenciesFile: 'builds.json' } });
    writeFileSync(join(file, 'builds.json'), '["evil"]');
    await expect(updateConfig(pnpm10(file))).rejects.toHaveProperty('hint', expect.stringContaining('pnpm.onlyBuiltDependenciesFile'));
    const never = projectWith({}, undefined, { pnpm: { neverBuiltDependencies: [] } });
    await expect(updateConfig(pnpm10(never))).rejects.toHaveProperty('hint', expect.stringContaining('deny-list mode'));
    // pnpm 10 installing workspace projects one by one applies their own settings after the hook
    const alone = projectWith({});
    await expect(updateConfig(pnpm10(alone, { workspaceDir: alone, sharedWorkspaceLockfile: false }))).rejects.toHaveProperty('hint', expect.stringContaining('shared-workspace-lockfile=false'));
    await expect(updateConfig(pnpm10(alone, { workspaceDir: alone, sharedWorkspaceLockfile: true }))).resolves.toBeDefined();
    // pnpm 11 and 12 do not read the package.json `pnpm` field
    await expect(updateConfig({ ...pnpm10(never), userAgent: 'pnpm/11.28.10 npm/? node/? linux x64' })).resolves.toBeDefined();
  });
  it('allowances are covered only version by version; anything unparseable never is', () => {
    const policy = policyOf(['esbuild', 'sharp@^0.34.0']);
    expect(uncoveredAllowances(policy, ['esbuild', 'esbuild@1.0.0', 'sharp@0.34.1(react@18.0.0)', 'sharp@0.34.1 || 0.35.0', 'sharp', 'sharp@^0.34.0', 'git+https://x/y.git', 7])).toEqual(['sharp@0.34.1 || 0.35.0', 'sharp', 'sharp@^0.34.0', 'git+https://x/y.git', '7']);
  });
  it('the command line: --allow-build (10, 11) and --dangerously-allow-all-builds (11, 12) widen; an unknown command line with a `true` is refused', () => {
    const policy = policyOf(['esbuild']);
    expect(commandLineWidening(policy, ['add', 'evil', '--allow-build=evil'], 10, {})).toHaveLength(1);
    expect(commandLineWidening(policy, ['add', 'esbuild', '--allow-build', 'esbuild'], 11, {})).toEqual([]);
    expect(commandLineWidening(policy, ['install', '--dangerously-allow-all-builds'], 10, {})).toEqual([]);
    expect(commandLineWidening(policy, ['add', 'evil', '--allow-build=evil'], 12, {})).toEqual([]);
    expect(commandLineWidening(policy, ['install', '--dangerously-allow-all-builds'], 12, {})[0]).toMatchObject({ setting: '--dangerously-allow-all-builds', place: 'on the command line' });
    expect(commandLineWidening(policy, ['install', '--config.dangerously-allow-all-builds=true'], 11, {})).toHaveLength(1);
    expect(commandLineWidening(policy, ['install', '--dangerously-allow-all-builds=false'], 12, {})).toEqual([]);
    expect(commandLineWidening(policy, ['install'], 12, { dangerouslyAllowAllBuilds: true })).toEqual([]);
    expect(commandLineWidening(policy, undefined, 12, { dangerouslyAllowAllBuilds: true })).toHaveLength(1);
    expect(commandLineWidening(policy, undefined, 12, { dangerouslyAllowAllBuilds: false })).toEqual([]);
    expect(commandLineWidening(policy, ['install', '--config.allow-builds={"evil":true,"esbuild":true}'], 12, {})[0]).toMatchObject({ setting: '--config.allow-builds', allows: ['evil'] });
    expect(commandLineWidening(policy, ['install', '--config.allow-builds={"esbuild":true,"evil":false}'], 11, {})).toEqual([]);
    expect(commandLineWidening(policy, ['install', '--config.allow-builds=evil'], 11, {})).toHaveLength(1);
    expect(commandLineWidening(policy, ['install', '--config.allow-builds.evil=true'], 12, {})).toHaveLength(1);
    expect(commandLineWidening(policy, ['install', '--config.allow-builds={"evil":true}'], 10, {})).toEqual([]);
  });
});

describe('denied outright', () => {
  it('packages the policy never lets build are `false` in allowBuilds, so pnpm does not offer its own approval; not in strict mode', async () => {
    const dir = projectWith({ scripts: { allow: ['esbuild'] } }, undefined, { dependencies: { esbuild: '1', evil: '1', alias: 'npm:real-evil@1', own: 'workspace:*' } });
    const config = await updateConfig({ lockfileDir: dir, userAgent: 'pnpm/12.21.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, argv: { original: ['install'] } });
    expect(config.allowBuilds).toEqual({ esbuild: true, evil: false, 'real-evil': false });
    const strict = projectWith({ scripts: { allow: ['esbuild'] } }, 'strictDepBuilds: true\n', { dependencies: { evil: '1' } });
    expect((await updateConfig({ lockfileDir: strict, userAgent: 'pnpm/12.21.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, argv: { original: ['install'] } })).allowBuilds).toEqual({ esbuild: true });
  });
});

describe('denials narrowed once pnpm 12 judged the lockfile', () => {
  it('drops only the lockfile packages with nothing skipped; keeps the skipped, direct dependencies, ranged misses, the user\'s own, and the allowed', async () => {
    const dir = projectWith({ scripts: { allow: ['esbuild', 'sharp@^0.34.0'] } }, undefined, { dependencies: { direct: '1', esbuild: '1' } });
    const lock = (names: string[]) => `lockfileVersion: '9.0'\n\npackages:\n\n${names.map((n) => `  ${n}:\n    resolution: {integrity: sha512-AAAA}\n`).join('\n')}`;
    writeFileSync(join(dir, 'pnpm-lock.yaml'), lock(['plain@1.0.0', 'scripted@2.0.0', '\'@scope/scripted@3.0.0\'', 'direct@1.0.0', 'esbuild@0.25.0', 'sharp@0.33.0', 'mine@1.0.0']));
    const state = newInstallState();
    const config = await updateConfigOf(state, { lockfileDir: dir, userAgent: 'pnpm/12.24.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, allowBuilds: { mine: false }, argv: { original: ['install'] } });
    expect(config.allowBuilds).toEqual({ esbuild: true, mine: false, plain: false, scripted: false, '@scope/scripted': false, direct: false, 'sharp@0.33.0': false });
    narrowDenials(state.project, config, ['scripted@2.0.0', '@scope/scripted@3.0.0', 'sharp@0.33.0']);
    expect(config.allowBuilds).toEqual({ esbuild: true, mine: false, scripted: false, '@scope/scripted': false, direct: false, 'sharp@0.33.0': false });
    expect([...state.project!.deniedBuilds!].sort()).toEqual(['@scope/scripted', 'direct', 'mine', 'scripted', 'sharp@0.33.0']);
    // Nothing skipped at all: every lockfile-only denial goes (a ranged entry's versions, asked for, stay).
    const again = newInstallState();
    const config2 = await updateConfigOf(again, { lockfileDir: dir, userAgent: 'pnpm/12.24.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, argv: { original: ['install'] } });
    narrowDenials(again.project, config2, []);
    expect(config2.allowBuilds).toEqual({ esbuild: true, direct: false, 'sharp@0.33.0': false });
    // Strict mode denies nothing outright: nothing to narrow.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'strictDepBuilds: true\n');
    const strict = newInstallState();
    const config3 = await updateConfigOf(strict, { lockfileDir: dir, userAgent: 'pnpm/12.24.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, strictDepBuilds: true, argv: { original: ['install'] } });
    narrowDenials(strict.project, config3, []);
    expect(config3.allowBuilds).toEqual({ esbuild: true });
  });
});

describe('workspaceRootOf', () => {
  it('finds the workspace root from a sub-folder; a folder outside any workspace is its own root', () => {
    const root = projectWith({}, 'packages:\n  - app\n');
    mkdirSync(join(root, 'app', 'src'), { recursive: true });
    expect(workspaceRootOf(join(root, 'app', 'src'), {})).toBe(root);
    expect(workspaceRootOf(join(root, 'app'), { pnpm_config_workspace_dir: '..' })).toBe(root);
    const alone = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-unit-'));
    expect(workspaceRootOf(alone, {})).toBe(alone);
  });
});

describe('registryConfigFromPnpm', () => {
  it("reads pnpm's resolved registry, scopes and tokens", () => {
    const config = registryConfigFromPnpm({ authConfig: { registry: 'http://reg.test/', '@acme:registry': 'http://acme.test/', '//acme.test/:_authToken': 'tok-1234', unrelated: 3 } })!;
    expect(config.registryFor('left-pad')).toBe('http://reg.test/');
    expect(config.registryFor('@acme/logger')).toBe('http://acme.test/');
    expect(config.authFor('http://acme.test/@acme%2flogger')?.authorization()).toBe('Bearer tok-1234');
    expect(registryConfigFromPnpm({})).toBeUndefined();
  });
});

describe("updateConfig: pnpm's store inside the checkout", () => {
  it('refuses storeDir pointing into the checkout, as pnpm hands it over (relative, from pnpm-workspace.yaml), before anything else', async () => {
    const dir = projectWith({ scripts: { allow: [] } }, 'storeDir: .pnpm-store\n');
    mkdirSync(join(dir, '.git'));
    const error = await updateConfig(pnpm10(dir, { storeDir: '.pnpm-store', workspaceDir: dir, dir })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_STORE' });
    expect((error as Error).message).toContain(`storeDir ".pnpm-store" in pnpm-workspace.yaml) is ${join(dir, '.pnpm-store')}`);
    expect((error as { hint: string }).hint).toContain('--store-dir=$HOME/.pnpm-store');
    // Set elsewhere (the command line): named as pnpm's configuration; a relative value judged against each folder pnpm may read it from.
    const sub = join(dir, 'packages', 'a');
    mkdirSync(sub, { recursive: true });
    await expect(updateConfig(pnpm10(dir, { storeDir: '../../store', dir: sub }))).rejects.toThrow(/in pnpm's configuration\) is/);
  });

  it("leaves pnpm's default store (unset), and a store outside the checkout (the test suite's --store-dir=<home>/pnpm-store), alone", async () => {
    const dir = projectWith({ scripts: { allow: [] } });
    mkdirSync(join(dir, '.git'));
    const home = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-home-'));
    await expect(updateConfig(pnpm10(dir))).resolves.toBeDefined();
    await expect(updateConfig(pnpm10(dir, { storeDir: join(home, 'pnpm-store') }))).resolves.toBeDefined();
  });

  it("r43b: judges `~/` both ways (pnpm 12.24.0 hands it over unexpanded and reads it as <project>/~/)", async () => {
    const dir = projectWith({ scripts: { allow: [] } }, 'storeDir: ~/.pnpm-store\n');
    mkdirSync(join(dir, '.git'));
    const pnpm12 = { ...pnpm10(dir), userAgent: 'pnpm/12.24.0 npm/? node/? linux x64' };
    await expect(updateConfig({ ...pnpm12, storeDir: '~/.pnpm-store' })).rejects.toThrow(new RegExp(`is ${join(dir, '~', '.pnpm-store').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    // pnpm 10 and 11 hand it over expanded (measured) and use the home folder: left alone.
    const home = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-home-'));
    await expect(updateConfig(pnpm10(dir, { storeDir: join(home, '.pnpm-store') }))).resolves.toBeDefined();
  });

  it('r43f: refuses excludeLinksFromLockfile (the lockfile would leave the project\'s link: dependencies out)', async () => {
    const dir = projectWith({ scripts: { allow: [] } });
    await expect(updateConfig(pnpm10(dir, { excludeLinksFromLockfile: true }))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_SETTINGS' });
    await expect(updateConfig(pnpm10(dir, { excludeLinksFromLockfile: false }))).resolves.toBeDefined();
  });

  it('r43c: refuses a modulesDir inside the checkout other than node_modules (pnpm keeps its virtual store in it), handed over or only written', async () => {
    const dir = projectWith({ scripts: { allow: [] } });
    mkdirSync(join(dir, '.git'));
    const error = await updateConfig(pnpm10(dir, { modulesDir: 'gvs' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_STORE' });
    expect((error as Error).message).toContain(`pnpm's modules folder (modulesDir "gvs" in pnpm's configuration) is ${join(dir, 'gvs')}`);
    await expect(updateConfig(pnpm10(dir, { modulesDir: 'node_modules' }))).resolves.toBeDefined();
    await expect(updateConfig(pnpm10(dir, { modulesDir: join(dir, 'node_modules') }))).resolves.toBeDefined();
    // Written in pnpm-workspace.yaml but not handed over: judged as written.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'modulesDir: gvs\n');
    await expect(updateConfig(pnpm10(dir))).rejects.toThrow(/modulesDir "gvs" in pnpm-workspace\.yaml/);
  });

  it('r43b: refuses a virtualStoreDir inside the checkout (not the default node_modules/.pnpm), and any inside with the global virtual store on', async () => {
    const dir = projectWith({ scripts: { allow: [] } });
    mkdirSync(join(dir, '.git'));
    const error = await updateConfig(pnpm10(dir, { virtualStoreDir: 'gvs' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_STORE' });
    expect((error as Error).message).toContain(`pnpm's virtual store (virtualStoreDir "gvs" in pnpm's configuration) is ${join(dir, 'gvs')}`);
    await expect(updateConfig(pnpm10(dir, { virtualStoreDir: 'node_modules/.pnpm' }))).resolves.toBeDefined();
    await expect(updateConfig(pnpm10(dir, { virtualStoreDir: join(dir, 'node_modules', '.pnpm') }))).resolves.toBeDefined();
    await expect(updateConfig(pnpm10(dir, { virtualStoreDir: 'node_modules/.pnpm', enableGlobalVirtualStore: true }))).rejects.toThrow(/global virtual store/);
    await expect(updateConfig(pnpm10(dir, { enableGlobalVirtualStore: true }))).resolves.toBeDefined();
    const home = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-home-'));
    await expect(updateConfig(pnpm10(dir, { virtualStoreDir: join(home, 'vs'), enableGlobalVirtualStore: true }))).resolves.toBeDefined();
    // Set in pnpm-workspace.yaml, handed over as written (measured on 10.34.8, 11.28.10, 12.24.0): named as the file's.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'enableGlobalVirtualStore: true\nvirtualStoreDir: gvs\n');
    await expect(updateConfig(pnpm10(dir, { virtualStoreDir: 'gvs', enableGlobalVirtualStore: true }))).rejects.toThrow(/virtualStoreDir "gvs" in pnpm-workspace\.yaml, enableGlobalVirtualStore on/);
  });

  it('r43b: without a .git, a relative store the repository names beside the project is taken as inside the checkout', async () => {
    const root = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-nogit-'));
    const dir = join(root, 'project');
    mkdirSync(dir);
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ scripts: { allow: [] } }));
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'storeDir: ../committed-store\n');
    await expect(updateConfig(pnpm10(dir, { storeDir: '../committed-store' }))).rejects.toThrow(`storeDir "../committed-store" in pnpm-workspace.yaml) is ${join(root, 'committed-store')}`);
    // The user's own --store-dir outside the project is left alone.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), '');
    await expect(updateConfig(pnpm10(dir, { storeDir: join(root, 'user-store') }))).resolves.toBeDefined();
  });
});
