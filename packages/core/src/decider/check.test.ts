import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../report/result.js';
import { checkReport } from './check.js';
import { RememberedReports, reportMayBeRemembered } from './remembered.js';

/** An npm project with a git dependency (prepare) and a native addon installed, signatures off: no registry needed. */
function project(): { dir: string; env: Record<string, string>; cache: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pc-check-project-'));
  writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify({ scripts: { allow: [] }, signatures: { require: 'off' } }, null, 2)}\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
  const lock = {
    name: 'app',
    lockfileVersion: 3,
    packages: {
      '': { name: 'app', dependencies: { gitdep: 'git+https://git.example/gitdep.git', native: 'file:../native.tgz' } },
      'node_modules/gitdep': { version: '1.0.0', resolved: 'git+https://git.example/gitdep.git#0123456789abcdef0123456789abcdef01234567' },
      'node_modules/native': { version: '2.0.0', resolved: 'file:../native.tgz', integrity: 'sha512-AAAA' },
      'node_modules/plain': { version: '1.0.0', resolved: 'file:../plain.tgz', integrity: 'sha512-BBBB' },
    },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  mkdirSync(join(dir, 'node_modules/gitdep'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/gitdep/package.json'), JSON.stringify({ name: 'gitdep', version: '1.0.0', scripts: { prepare: 'tsc -b' } }));
  mkdirSync(join(dir, 'node_modules/native'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/native/package.json'), JSON.stringify({ name: 'native', version: '2.0.0' }));
  writeFileSync(join(dir, 'node_modules/native/binding.gyp'), '{}');
  mkdirSync(join(dir, 'node_modules/plain'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/plain/package.json'), JSON.stringify({ name: 'plain', version: '1.0.0' }));
  const home = mkdtempSync(join(tmpdir(), 'pc-check-home-'));
  const cache = join(home, 'cache');
  return { dir, env: { PORTCULLIS_CACHE_DIR: cache, PORTCULLIS_STATE_DIR: join(home, 'state') }, cache };
}

const codes = (result: CheckResult) => result.findings.map((f) => `${f.package} ${f.code}`);

describe('checkReport: a check of an unchanged tree is remembered whole', () => {
  it('replays the same report, findings and locations included', async () => {
    const { dir, env } = project();
    const first = await checkReport(dir, { env, engine: 'test-1' });
    expect(first.remembered).toBe(false);
    expect(codes(first.result)).toEqual(['gitdep SCRIPT_NOT_ALLOWED', 'native SCRIPT_NOT_ALLOWED']);
    const again = await checkReport(dir, { env, engine: 'test-1' });
    expect(again.remembered).toBe(true);
    expect(again.result).toEqual(first.result);
    expect(again.dir).toBe(first.dir);
    for (const f of first.result.findings) expect(again.locations.get(f.id!)).toEqual(first.locations.get(f.id!));
  });

  it('any change to what the check read decides again: an installed package.json, a binding.gyp, the lockfile, the policy, a setting, the build', async () => {
    const changes: Array<[string, (p: ReturnType<typeof project>) => Record<string, string> | void, (result: CheckResult) => void]> = [
      ['an installed package.json', (p) => writeFileSync(join(p.dir, 'node_modules/gitdep/package.json'), JSON.stringify({ name: 'gitdep', version: '1.0.0' })), (r) => expect(codes(r)).toEqual(['native SCRIPT_NOT_ALLOWED'])],
      ['a binding.gyp gone', (p) => rmSync(join(p.dir, 'node_modules/native/binding.gyp')), (r) => expect(codes(r)).toEqual(['gitdep SCRIPT_NOT_ALLOWED'])],
      ['a copy gone', (p) => rmSync(join(p.dir, 'node_modules/gitdep'), { recursive: true }), (r) => expect(codes(r)).toEqual(['gitdep SCRIPT_NOT_ALLOWED', 'native SCRIPT_NOT_ALLOWED'])],
      ['the lockfile’s text', (p) => writeFileSync(join(p.dir, 'package-lock.json'), `${readFileSync(join(p.dir, 'package-lock.json'), 'utf8')}\n`), () => {}],
      ['the policy', (p) => writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify({ scripts: { allow: ['native'] }, signatures: { require: 'off' } })), (r) => expect(codes(r)).toEqual(['gitdep SCRIPT_NOT_ALLOWED'])],
      ['a PORTCULLIS_ setting', () => ({ PORTCULLIS_STRICT_SCRIPTS: '1' }), () => {}],
      [
        'a patch the project’s settings name (package.json pnpm.patchedDependencies), adding a postinstall',
        (p) => {
          writeFileSync(join(p.dir, 'plain.patch'), 'diff --git a/package.json b/package.json\n--- a/package.json\n+++ b/package.json\n@@ -1 +1 @@\n-{}\n+{"scripts":{"postinstall":"x"}}\n');
          writeFileSync(join(p.dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', pnpm: { patchedDependencies: { plain: 'plain.patch' } } }));
        },
        (r) => expect(codes(r)).toEqual(['gitdep SCRIPT_NOT_ALLOWED', 'native SCRIPT_NOT_ALLOWED', 'plain SCRIPT_NOT_ALLOWED']),
      ],
    ];
    for (const [what, change, expectFresh] of changes) {
      const p = project();
      await checkReport(p.dir, { env: p.env, engine: 'test-1' });
      const extra = change(p) ?? {};
      const fresh = await checkReport(p.dir, { env: { ...p.env, ...extra }, engine: 'test-1' });
      expect(fresh.remembered, what).toBe(false);
      expectFresh(fresh.result);
      // The new state is remembered in turn.
      expect((await checkReport(p.dir, { env: { ...p.env, ...extra }, engine: 'test-1' })).remembered, what).toBe(true);
    }
    const p = project();
    await checkReport(p.dir, { env: p.env, engine: 'test-1' });
    expect((await checkReport(p.dir, { env: p.env, engine: 'test-2' })).remembered).toBe(false);
  });

  it('nothing is remembered without a build id, and an edited memo vouches for nothing', async () => {
    const { dir, env, cache } = project();
    await checkReport(dir, { env });
    expect((await checkReport(dir, { env })).remembered).toBe(false);

    await checkReport(dir, { env, engine: 'test-1' });
    const folder = join(cache, 'checks-v1');
    const [file] = readdirSync(folder);
    const text = readFileSync(join(folder, file!), 'utf8');
    // The report said two findings; an edit that drops one must not be replayed.
    writeFileSync(join(folder, file!), text.replace('"exitCode":1', '"exitCode":0'));
    const edited = await checkReport(dir, { env, engine: 'test-1' });
    expect(edited.remembered).toBe(false);
    expect(edited.result.exitCode).toBe(1);
  });

  it('an undecidable check (exit 3) is decided again every time', async () => {
    const { dir, env } = project();
    // A registry package that is not installed, checked offline with nothing cached: its metadata is unavailable.
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    lock.packages['node_modules/left-pad'] = { version: '1.0.0', resolved: 'http://127.0.0.1:9/left-pad/-/left-pad-1.0.0.tgz', integrity: 'sha512-AAAA' };
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
    writeFileSync(join(dir, '.npmrc'), 'registry=http://127.0.0.1:9/\n');
    const first = await checkReport(dir, { env, engine: 'test-1', offline: true });
    expect(first.result.exitCode).toBe(3);
    expect((await checkReport(dir, { env, engine: 'test-1', offline: true })).remembered).toBe(false);
  });

  it('an undecidable report, or one that depends on the clock, is never remembered; a remembered one lasts a day', () => {
    const base: CheckResult = { findings: [], exitCode: 0, packages: 1, lockfile: { kind: 'npm', path: '/p/package-lock.json' }, policy: null, notices: [] };
    const finding = (code: string) => ({ package: 'a', version: '1.0.0', rule: 'r', code, message: 'm', fix: 'f' }) as unknown as CheckResult['findings'][number];
    expect(reportMayBeRemembered(base)).toBe(true);
    expect(reportMayBeRemembered({ ...base, exitCode: 1, findings: [finding('SCRIPT_NOT_ALLOWED')] })).toBe(true);
    expect(reportMayBeRemembered({ ...base, exitCode: 3 })).toBe(false);
    expect(reportMayBeRemembered({ ...base, exitCode: 1, findings: [finding('RELEASE_TOO_NEW')] })).toBe(false);
    expect(reportMayBeRemembered({ ...base, exitCode: 1, findings: [finding('METADATA_UNAVAILABLE')] })).toBe(false);

    let now = 1_000_000;
    const cache = mkdtempSync(join(tmpdir(), 'pc-reports-'));
    const secret = Buffer.alloc(32, 3);
    new RememberedReports(cache, '/p', secret, () => now).remember('k', { result: base, locations: [], reads: [], installed: 'x' });
    expect(new RememberedReports(cache, '/p', secret, () => now).recall('k')?.result).toEqual(base);
    now += 24 * 60 * 60 * 1000;
    expect(new RememberedReports(cache, '/p', secret, () => now).recall('k')).toBeUndefined();
    // Another user's secret: nothing.
    expect(new RememberedReports(cache, '/p', Buffer.alloc(32, 4), () => 1_000_000).recall('k')).toBeUndefined();
  });
});

describe("check: pnpm's store inside the checkout", () => {
  /** A pnpm project with no packages, signatures off: no registry needed. */
  function pnpmProject(): { dir: string; env: Record<string, string> } {
    const dir = mkdtempSync(join(tmpdir(), 'pc-check-store-'));
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    writeFileSync(join(dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n");
    const home = mkdtempSync(join(tmpdir(), 'pc-check-store-home-'));
    return { dir, env: { HOME: home, PORTCULLIS_CACHE_DIR: join(home, 'cache'), PORTCULLIS_STATE_DIR: join(home, 'state') } };
  }

  it('is a configuration error (STORE_IN_CHECKOUT, exit 2) naming the setting, where it points and the fix, remembered check or not', async () => {
    const { dir, env } = pnpmProject();
    expect((await checkReport(dir, { env, engine: 'test-1' })).result.exitCode).toBe(0);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'storeDir: .pnpm-store\n');
    for (const engine of ['test-1', undefined]) {
      const error = await checkReport(dir, { env, ...(engine !== undefined ? { engine } : {}) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STORE_IN_CHECKOUT', exitCode: 2 });
      expect((error as Error).message).toContain(`storeDir ".pnpm-store" in pnpm-workspace.yaml) is ${join(dir, '.pnpm-store')}`);
      expect((error as Error).message).toContain('Fix: keep pnpm\'s store outside the checkout');
    }
  });

  it('a store outside the checkout, in the environment or the project .npmrc, is left alone; one inside is refused wherever it is set', async () => {
    const { dir, env } = pnpmProject();
    expect((await checkReport(dir, { env: { ...env, npm_config_store_dir: join(env.HOME!, 'pnpm-store') } })).result.exitCode).toBe(0);
    await expect(checkReport(dir, { env: { ...env, pnpm_config_store_dir: 'store' } })).rejects.toMatchObject({ code: 'STORE_IN_CHECKOUT' });
    writeFileSync(join(dir, '.npmrc'), 'store-dir=./store\n');
    await expect(checkReport(dir, { env })).rejects.toThrow(/in the project's \.npmrc \(store-dir\)/);
  });
});

describe("check: Yarn's unplugged folder (PnP) holding folders no checked install left", () => {
  /** A Yarn project with no packages, signatures off: no registry needed. */
  function yarnProject(yarnrc: string): { dir: string; env: Record<string, string> } {
    const dir = mkdtempSync(join(tmpdir(), 'pc-check-unplugged-'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    writeFileSync(join(dir, 'yarn.lock'), '__metadata:\n  version: 8\n  cacheKey: 10c0\n\n"app@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "app@workspace:."\n  languageName: unknown\n  linkType: soft\n');
    writeFileSync(join(dir, '.yarnrc.yml'), yarnrc);
    const home = mkdtempSync(join(tmpdir(), 'pc-check-unplugged-home-'));
    return { dir, env: { HOME: home, PORTCULLIS_CACHE_DIR: join(home, 'cache'), PORTCULLIS_STATE_DIR: join(home, 'state') } };
  }
  const plant = (folder: string) => {
    mkdirSync(join(folder, 'good-npm-1.0.0-4e70d39c34', 'node_modules', 'good'), { recursive: true });
    writeFileSync(join(folder, 'good-npm-1.0.0-4e70d39c34', 'node_modules', 'good', '.ready'), '');
  };

  it('is a configuration error (STORE_IN_CHECKOUT, exit 2) naming the folder and the fix, remembered check or not; the default linker is PnP', async () => {
    const { dir, env } = yarnProject('enableTelemetry: false\n');
    expect((await checkReport(dir, { env, engine: 'test-1' })).result.exitCode).toBe(0);
    plant(join(dir, '.yarn', 'unplugged'));
    for (const engine of ['test-1', undefined]) {
      const error = await checkReport(dir, { env, ...(engine !== undefined ? { engine } : {}) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'STORE_IN_CHECKOUT', exitCode: 2 });
      expect((error as Error).message).toContain(join(dir, '.yarn', 'unplugged', 'good-npm-1.0.0-4e70d39c34'));
      expect((error as Error).message).toContain('Fix: remove them');
    }
  });

  it('pnpUnpluggedFolder is read relative to its .yarnrc.yml; another linker is left alone', async () => {
    const { dir, env } = yarnProject('nodeLinker: pnp\npnpUnpluggedFolder: ./elsewhere\n');
    plant(join(dir, 'elsewhere'));
    await expect(checkReport(dir, { env })).rejects.toMatchObject({ code: 'STORE_IN_CHECKOUT' });
    writeFileSync(join(dir, '.yarnrc.yml'), 'nodeLinker: node-modules\npnpUnpluggedFolder: ./elsewhere\n');
    expect((await checkReport(dir, { env })).result.exitCode).toBe(0);
  });
});

describe('check: a pnpm workspace with one lockfile per project', () => {
  function workspace(settings: string): { dir: string; env: Record<string, string> } {
    const dir = mkdtempSync(join(tmpdir(), 'pc-check-per-project-'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'root', version: '1.0.0' }));
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), `packages:\n  - app\n${settings}`);
    writeFileSync(join(dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n");
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    writeFileSync(join(dir, 'app', 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n");
    const home = mkdtempSync(join(tmpdir(), 'pc-check-per-project-home-'));
    return { dir, env: { HOME: home, PORTCULLIS_CACHE_DIR: join(home, 'cache'), PORTCULLIS_STATE_DIR: join(home, 'state') } };
  }

  it("at the root: a configuration error (exit 2) naming the setting and the fix, since pnpm installs each project from its own lockfile", async () => {
    const { dir, env } = workspace('sharedWorkspaceLockfile: false\n');
    for (const engine of ['test-1', undefined]) {
      const error = await checkReport(dir, { env, ...(engine !== undefined ? { engine } : {}) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
      expect((error as Error).message).toContain('sharedWorkspaceLockfile: false in pnpm-workspace.yaml');
      expect((error as Error).message).toContain('portcullis check --dir <project>');
    }
    // Each project checked where its lockfile is.
    expect((await checkReport(join(dir, 'app'), { env })).result.exitCode).toBe(0);
  });

  it('set in the project .npmrc or the environment too; one workspace lockfile (the default) is checked as before', async () => {
    const { dir, env } = workspace('');
    expect((await checkReport(dir, { env })).result.exitCode).toBe(0);
    await expect(checkReport(dir, { env: { ...env, pnpm_config_shared_workspace_lockfile: 'false' } })).rejects.toMatchObject({ code: 'USAGE' });
    writeFileSync(join(dir, '.npmrc'), 'shared-workspace-lockfile=false\n');
    await expect(checkReport(dir, { env })).rejects.toThrow(/shared-workspace-lockfile=false in the project's \.npmrc/);
  });
});

describe('check: pnpm told to read its lockfile in another folder (lockfileDir)', () => {
  it('a configuration error (exit 2) naming the setting and the folder pnpm reads, wherever it is set; the project folder itself is fine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-check-lockfile-dir-'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'root', version: '1.0.0' }));
    writeFileSync(join(dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n");
    const home = mkdtempSync(join(tmpdir(), 'pc-check-lockfile-dir-home-'));
    const env = { HOME: home, PORTCULLIS_CACHE_DIR: join(home, 'cache'), PORTCULLIS_STATE_DIR: join(home, 'state') };
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'lockfileDir: .\n');
    expect((await checkReport(dir, { env })).result.exitCode).toBe(0);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'lockfileDir: sub\n');
    for (const engine of ['test-1', undefined]) {
      const error = await checkReport(dir, { env, ...(engine !== undefined ? { engine } : {}) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
      expect((error as Error).message).toContain(`lockfileDir in pnpm-workspace.yaml is ${join(dir, 'sub')}`);
    }
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), '');
    writeFileSync(join(dir, '.npmrc'), 'lockfile-dir=../elsewhere\n');
    await expect(checkReport(dir, { env })).rejects.toThrow(/lockfile-dir in the project's \.npmrc/);
    writeFileSync(join(dir, '.npmrc'), '');
    await expect(checkReport(dir, { env: { ...env, pnpm_config_lockfile_dir: '/x' } })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('no lockfile at all (lockfile: false): pnpm resolves anew at every install, so the one beside it is refused as stale, wherever it is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-check-no-lockfile-'));
    writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'root', version: '1.0.0' }));
    writeFileSync(join(dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n\nimporters:\n\n  .: {}\n");
    const home = mkdtempSync(join(tmpdir(), 'pc-check-no-lockfile-home-'));
    const env = { HOME: home, PORTCULLIS_CACHE_DIR: join(home, 'cache'), PORTCULLIS_STATE_DIR: join(home, 'state') };
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'lockfile: true\n');
    expect((await checkReport(dir, { env })).result.exitCode).toBe(0);
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'lockfile: false\n');
    for (const engine of ['test-1', undefined]) {
      await expect(checkReport(dir, { env, ...(engine !== undefined ? { engine } : {}) })).rejects.toThrow(/lockfile: false in pnpm-workspace\.yaml: pnpm reads no pnpm-lock\.yaml/);
    }
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), '');
    writeFileSync(join(dir, '.npmrc'), 'lockfile=false\n');
    await expect(checkReport(dir, { env })).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
    writeFileSync(join(dir, '.npmrc'), '');
    await expect(checkReport(dir, { env: { ...env, npm_config_lockfile: 'false' } })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
