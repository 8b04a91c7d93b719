/**
 * Issue 13's closing attack round: working directories, config locations and lockfile fields, through the
 * built product and real clients against the test registries (docs/security.md, "Attack round (issue 13,
 * closing)"). Registry `main` is the project's (trusted keys in the policy); registry `elsewhere` serves the
 * same packages but is not in the policy, so whatever comes from it must be UNTRUSTED_REGISTRY.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cleanPackage, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, enforceWithYarnPlugin, install, portcullis, portcullisNpm, run, type Project, type RunResult, CLI } from '../src/project.js';
import { npm, pnpm, yarn, type Tool } from '../src/toolbox.js';

const fixtures = [
  cleanPackage('left-pad-lite', '1.0.0'),
  cleanPackage('tampered-lib', '1.0.0', { signature: 'corrupt' }),
  cleanPackage('@acme/scoped', '1.0.0'),
  // depends on tampered-lib and bundles nothing
  cleanPackage('holder', '1.0.0', { dependencies: { 'tampered-lib': '1.0.0' } }),
];
let main: TestRegistry;
let elsewhere: TestRegistry;
const results: string[] = [];
beforeAll(async () => {
  [main, elsewhere] = await Promise.all([startRegistry({ packages: fixtures }), startRegistry({ packages: fixtures })]);
});
afterAll(async () => {
  await Promise.all([main?.close(), elsewhere?.close()]);
  if (results.length > 0) process.stdout.write(`\nattack round results:\n${results.join('\n')}\n`);
});

const policy = () => ({ registries: { [main.url]: { keys: main.keys.keys } } });
const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
function note(label: string, r: RunResult): RunResult {
  const codes = [...new Set(out(r).match(/\b(BAD_SIGNATURE|UNSIGNED|UNTRUSTED_REGISTRY|INTEGRITY_MISSING|UNSIGNED_SOURCE|POLICY_[A-Z_]+|depends on [a-z-]+|LOCKFILE_NOT_FOUND|No lockfile|is not the policy|does not exist|is not a file|invalid JSON|internal error)\b/g) ?? [])].join(' ') || '-';
  results.push(`${label} | exit ${r.code} | ${codes}`);
  return r;
}

/** `portcullis check` started in `cwd` (a folder of the project), with `args`. */
function checkIn(project: Project, cwd: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, 'check', ...args], { cwd, env: { ...project.env, ...env } });
}

function editJson(file: string, edit: (value: Record<string, any>) => void): void {
  const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  edit(value);
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Turns the project into a workspace root with the member `packages/app` bringing `deps` (the root brings none). */
function makeMember(project: Project, deps: Record<string, string>, kind: 'npm' | 'pnpm' | 'yarn'): string {
  const member = join(project.dir, 'packages', 'app');
  mkdirSync(join(member, 'src'), { recursive: true });
  writeFileSync(join(member, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: deps }, null, 2)}\n`);
  editJson(join(project.dir, 'package.json'), (root) => {
    root.dependencies = {};
    if (kind !== 'pnpm') root.workspaces = ['packages/*'];
  });
  if (kind === 'pnpm') writeFileSync(join(project.dir, 'pnpm-workspace.yaml'), 'packages:\n  - "packages/*"\n');
  return member;
}

async function lockOnly(tool: Tool, project: Project, kind: 'npm' | 'pnpm' | 'yarn'): Promise<void> {
  const args =
    kind === 'npm'
      ? ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund']
      : kind === 'pnpm'
        ? ['install', '--lockfile-only', '--ignore-scripts', `--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`]
        : ['install', '--mode=skip-build', '--no-immutable'];
  const r = await run(tool.command, [...tool.args, ...args], { cwd: project.dir, env: project.env });
  if (r.code !== 0) throw new Error(`${tool.name} ${args.join(' ')} failed:\n${out(r)}`);
}

describe('A1: an npm lockfile entry marked inBundle that no dependency bundles', () => {
  it.each([10, 11, 12] as const)('npm %i: check and portcullis-npm ci judge it as the registry package npm fetches', async (major) => {
    const tool = npm(major);
    const project = createProject('npm', main.url, { 'left-pad-lite': '1.0.0', 'tampered-lib': '1.0.0' }, { policy: policy() });
    await lockOnly(tool, project, 'npm');
    // the pull request's edit: the badly signed package claims to ship inside a parent (there is none)
    editJson(join(project.dir, 'package-lock.json'), (lock) => {
      lock.packages['node_modules/tampered-lib'].inBundle = true;
    });
    const check = note(`A1 npm ${major} check`, await portcullis(project, ['check']));
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('BAD_SIGNATURE');
    const ci = note(`A1 npm ${major} portcullis-npm ci`, await portcullisNpm(tool, project, ['ci']));
    expect(ci.code, out(ci)).toBe(1);
    expect(out(ci)).toContain('BAD_SIGNATURE');
    expect(existsSync(join(project.dir, 'node_modules', 'tampered-lib'))).toBe(false);
  });
});

describe('A1b: inBundle on a copy nested under a parent that bundles nothing', () => {
  it.each([10, 11, 12] as const)('npm %i: check and portcullis-npm ci judge it as the registry package npm fetches', async (major) => {
    const tool = npm(major);
    const project = createProject('npm', main.url, { holder: '1.0.0' }, { policy: policy() });
    await lockOnly(tool, project, 'npm');
    editJson(join(project.dir, 'package-lock.json'), (lock) => {
      lock.packages['node_modules/holder/node_modules/tampered-lib'] = { ...lock.packages['node_modules/tampered-lib'], inBundle: true };
      delete lock.packages['node_modules/tampered-lib'];
    });
    const check = note(`A1b npm ${major} check`, await portcullis(project, ['check']));
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('BAD_SIGNATURE');
    const ci = note(`A1b npm ${major} portcullis-npm ci`, await portcullisNpm(tool, project, ['ci']));
    expect(ci.code, out(ci)).toBe(1);
    expect(out(ci)).toContain('BAD_SIGNATURE');
    expect(existsSync(join(project.dir, 'node_modules', 'holder', 'node_modules', 'tampered-lib'))).toBe(false);
    // without its integrity, npm would install whatever the registry serves: INTEGRITY_MISSING
    editJson(join(project.dir, 'package-lock.json'), (lock) => {
      delete lock.packages['node_modules/holder/node_modules/tampered-lib'].integrity;
      delete lock.packages['node_modules/holder/node_modules/tampered-lib'].resolved;
    });
    const unpinned = note(`A1b npm ${major} check, integrity removed`, await portcullis(project, ['check']));
    expect(unpinned.code, out(unpinned)).toBe(1);
    expect(out(unpinned)).toContain('INTEGRITY_MISSING');
  });
});

describe('A2: portcullis check from inside a workspace member', () => {
  it.each([
    ['npm', npm(11)],
    ['pnpm', pnpm(10)],
    ['yarn', yarn('latest')],
  ] as const)('%s: the root lockfile and policy decide, from the member, a sub-folder and --dir; a member policy is refused', async (kind, tool) => {
    const project = createProject(kind, main.url, {}, { policy: policy() });
    const member = makeMember(project, { 'left-pad-lite': '1.0.0', 'tampered-lib': '1.0.0' }, kind);
    await lockOnly(tool, project, kind);
    for (const [label, cwd, args] of [
      ['in the member', member, []],
      ['in member/src', join(member, 'src'), []],
      ['--dir packages/app from the root', project.dir, ['--dir', 'packages/app']],
    ] as const) {
      const r = note(`A2 ${kind} check ${label}`, await checkIn(project, cwd, [...args]));
      expect(r.code, `${label}\n${out(r)}`).toBe(1);
      expect(out(r)).toContain('BAD_SIGNATURE');
    }
    // a member's own portcullis.json that would switch signatures off: not the policy of the root's lockfile
    writeFileSync(join(member, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    const planted = note(`A2 ${kind} check in the member with a member portcullis.json`, await checkIn(project, join(member, 'src')));
    expect(planted.code, out(planted)).toBe(2);
    expect(out(planted)).toContain('packages/app/portcullis.json is not the policy of this project');
    const atRoot = note(`A2 ${kind} check at the root with a member portcullis.json`, await checkIn(project, project.dir));
    expect(atRoot.code, out(atRoot)).toBe(1);
  });
});

describe('A3: PORTCULLIS_POLICY that cannot be read is a configuration error, never the default policy', () => {
  it('missing file, malformed file, a folder', async () => {
    const project = createProject('npm', main.url, { 'left-pad-lite': '1.0.0' }, { policy: { signatures: { require: 'off' } } });
    await lockOnly(npm(11), project, 'npm');
    writeFileSync(join(project.home, 'broken.json'), '{"signatures": {');
    for (const [label, value] of [
      ['missing', join(project.home, 'nope.json')],
      ['malformed', join(project.home, 'broken.json')],
      ['a folder', project.home],
    ] as const) {
      const r = note(`A3 PORTCULLIS_POLICY ${label}`, await portcullis(project, ['check'], { PORTCULLIS_POLICY: value }));
      expect(r.code, `${label}\n${out(r)}`).toBe(2);
    }
  });
});

describe('A4: Yarn reads .yarnrc.yml from parent folders and from the member it runs in', () => {
  it.each([['4.18', yarn('latest')], ['4.0', yarn('4.0')]] as const)('Yarn %s: check and the plugin judge a scope against the registry Yarn uses', async (release, tool) => {
    const project = createProject('yarn', main.url, { 'left-pad-lite': '1.0.0', '@acme/scoped': '1.0.0' }, { policy: policy() });
    // a folder above the project (a CI runner's work folder, a parent checkout) sends @acme elsewhere
    const parentRc = join(dirname(project.dir), '.yarnrc.yml');
    writeFileSync(parentRc, `npmScopes:\n  acme:\n    npmRegistryServer: "${elsewhere.url}"\n`);
    await lockOnly(tool, project, 'yarn');
    expect(elsewhere.requests.some((r) => r.path.includes('acme'))).toBe(true);
    const check = note(`A4 Yarn ${release} check, @acme from a parent .yarnrc.yml`, await portcullis(project, ['check']));
    expect(check.code, out(check)).toBe(1);
    expect(out(check)).toContain('UNTRUSTED_REGISTRY');
    const enforced = await enforceWithYarnPlugin(project);
    expect(enforced.code, out(enforced)).toBe(0);
    const yarnInstall = note(`A4 Yarn ${release} install with the plugin, parent .yarnrc.yml`, await install(tool, 'yarn', project));
    expect(yarnInstall.code, out(yarnInstall)).not.toBe(0);
    expect(out(yarnInstall)).toContain('UNTRUSTED_REGISTRY');

    // the same scope set by a member's .yarnrc.yml: Yarn uses it only when started in the member
    writeFileSync(parentRc, '');
    editJson(join(project.dir, 'package.json'), (root) => {
      root.workspaces = ['packages/*'];
    });
    const member = makeMember(project, { '@acme/scoped': '1.0.0' }, 'yarn');
    editJson(join(project.dir, 'package.json'), (root) => {
      root.dependencies = { 'left-pad-lite': '1.0.0' };
    });
    writeFileSync(join(member, '.yarnrc.yml'), `npmScopes:\n  acme:\n    npmRegistryServer: "${elsewhere.url}"\n`);
    const fromMember = note(`A4 Yarn ${release} install with the plugin in a member with its own .yarnrc.yml`, await run(tool.command, [...tool.args, 'install', '--no-immutable'], { cwd: member, env: project.env }));
    expect(fromMember.code, out(fromMember)).not.toBe(0);
    expect(out(fromMember)).toContain('UNTRUSTED_REGISTRY');
    const checkMember = note(`A4 Yarn ${release} check in that member`, await checkIn(project, member));
    expect(checkMember.code, out(checkMember)).toBe(1);
    expect(out(checkMember)).toContain('UNTRUSTED_REGISTRY');
    const checkRoot = note(`A4 Yarn ${release} check at the root (Yarn there uses the root's registry)`, await checkIn(project, project.dir));
    expect(out(checkRoot)).not.toContain('UNTRUSTED_REGISTRY');
    // YARN_NPM_REGISTRY_SERVER beats every rc file, for Yarn and for check
    const viaEnv = { YARN_NPM_REGISTRY_SERVER: elsewhere.url };
    const envCheck = note(`A4 Yarn ${release} YARN_NPM_REGISTRY_SERVER=elsewhere: check at the root`, await checkIn(project, project.dir, [], viaEnv));
    expect(envCheck.code, out(envCheck)).toBe(1);
    expect(out(envCheck)).toMatch(/UNTRUSTED_REGISTRY[\s\S]*left-pad-lite/);
    const envInstall = note(`A4 Yarn ${release} YARN_NPM_REGISTRY_SERVER=elsewhere: install with the plugin at the root`, await run(tool.command, [...tool.args, 'install', '--no-immutable'], { cwd: project.dir, env: { ...project.env, ...viaEnv } }));
    expect(envInstall.code, out(envInstall)).not.toBe(0);
    expect(out(envInstall)).toContain('UNTRUSTED_REGISTRY');
  });
});

/** How the shaping proxy in front of the registry answers a packument request. */
type Shape =
  | 'as served'
  | 'redirect to another host'
  | 'redirect loop'
  | 'no dist.integrity'
  | 'dist.signatures []'
  | 'no dist.signatures'
  | 'hasInstallScript "true"'
  | 'scripts an array'
  | 'duplicate "versions" key'
  | 'text/html'
  | 'gzip'
  | 'huge time';

/** Rewrites every version entry of a packument. */
function eachVersion(doc: Record<string, any>, edit: (entry: Record<string, any>) => void): void {
  for (const entry of Object.values(doc.versions ?? {})) edit(entry as Record<string, any>);
}

/**
 * A registry front on 127.0.0.1 that passes everything through to `upstream`, except packuments, which it
 * reshapes as `shape` says. `other` is a second front (another host:port) that a redirect points at; both log
 * whether a request carried credentials.
 */
async function shapingProxy(upstream: string): Promise<{ url: string; otherUrl: string; setShape(s: Shape): void; authSeen: { front: number; other: number }; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const { gzipSync } = await import('node:zlib');
  let shape: Shape = 'as served';
  const authSeen = { front: 0, other: 0 };
  const forward = async (path: string, accept: string | undefined) => {
    const res = await fetch(new URL(path.replace(/^\//, ''), upstream), { headers: accept ? { accept } : {} });
    const type = res.headers.get('content-type') ?? 'application/octet-stream';
    let body = Buffer.from(await res.arrayBuffer());
    // a mirror names itself in tarball URLs
    if (type.includes('json')) body = Buffer.from(body.toString('utf8').split(upstream).join(url));
    return { status: res.status, type, body };
  };
  const servers = [0, 1].map((which) =>
    createServer((req, res) => {
      void (async () => {
        const path = req.url ?? '/';
        if (req.headers.authorization) authSeen[which === 0 ? 'front' : 'other']++;
        const packument = !path.includes('/-/');
        if (which === 0 && packument && shape === 'redirect to another host') {
          res.writeHead(302, { location: `${otherUrl.replace(/\/$/, '')}${path}` }).end();
          return;
        }
        if (which === 0 && packument && shape === 'redirect loop') {
          res.writeHead(302, { location: path }).end();
          return;
        }
        const up = await forward(path, req.headers.accept);
        if (!packument || up.status !== 200 || which === 1) {
          res.writeHead(up.status, { 'content-type': up.type }).end(up.body);
          return;
        }
        const doc = JSON.parse(up.body.toString('utf8')) as Record<string, any>;
        let text: string | undefined;
        let type = up.type;
        if (shape === 'no dist.integrity') eachVersion(doc, (v) => delete v.dist.integrity);
        if (shape === 'dist.signatures []') eachVersion(doc, (v) => (v.dist.signatures = []));
        if (shape === 'no dist.signatures') eachVersion(doc, (v) => delete v.dist.signatures);
        if (shape === 'hasInstallScript "true"') eachVersion(doc, (v) => (v.hasInstallScript = 'true'));
        if (shape === 'scripts an array') eachVersion(doc, (v) => (v.scripts = ['postinstall']));
        if (shape === 'huge time') {
          doc.time = { ...(doc.time ?? {}) };
          for (let i = 0; i < 150_000; i++) doc.time[`0.0.${i}-x`] = '2020-01-01T00:00:00.000Z';
        }
        if (shape === 'duplicate "versions" key') {
          // the genuine versions first, then a second "versions" without signatures: JSON.parse (npm's and ours) keeps the last
          const stripped = JSON.parse(JSON.stringify(doc.versions)) as Record<string, any>;
          for (const v of Object.values(stripped)) delete (v as Record<string, any>).dist.signatures;
          const body = JSON.stringify(doc);
          text = `${body.slice(0, -1)},"versions":${JSON.stringify(stripped)}}`;
        }
        if (shape === 'text/html') type = 'text/html; charset=utf-8';
        const bytes = Buffer.from(text ?? JSON.stringify(doc));
        if (shape === 'gzip') res.writeHead(200, { 'content-type': type, 'content-encoding': 'gzip' }).end(gzipSync(bytes));
        else res.writeHead(200, { 'content-type': type }).end(bytes);
      })().catch(() => res.destroy());
    }),
  );
  const urls = await Promise.all(servers.map((s) => new Promise<string>((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}/`)))));
  const [url, otherUrl] = urls as [string, string];
  return {
    url,
    otherUrl,
    setShape: (s) => (shape = s),
    authSeen,
    close: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined),
  };
}

describe('A5: registry response shapes through portcullis check and portcullis-npm ci', () => {
  // expected exit for left-pad-lite@1.0.0 (validly signed) and what must appear
  const cases: Array<[Shape, 0 | 1 | 3, string | null]> = [
    ['as served', 0, null],
    ['redirect to another host', 0, null],
    ['redirect loop', 3, 'redirects'],
    ['no dist.integrity', 0, null],
    ['dist.signatures []', 1, 'UNSIGNED'],
    ['no dist.signatures', 1, 'UNSIGNED'],
    ['hasInstallScript "true"', 3, 'hasInstallScript'],
    ['scripts an array', 3, 'scripts'],
    ['duplicate "versions" key', 1, 'UNSIGNED'],
    ['text/html', 0, null],
    ['gzip', 0, null],
    ['huge time', 0, null],
  ];
  let proxy: Awaited<ReturnType<typeof shapingProxy>>;
  let project: Project;
  const tool = npm(11);
  beforeAll(async () => {
    proxy = await shapingProxy(main.url);
    project = createProject('npm', proxy.url, { 'left-pad-lite': '1.0.0' }, { policy: { registries: { [proxy.url]: { keys: main.keys.keys } } } });
    // a token for the front only: it must never reach the other host a redirect names
    writeFileSync(join(project.dir, '.npmrc'), `registry=${proxy.url}\n${proxy.url.replace(/^http:/, '')}:_authToken=front-secret\n`);
    await lockOnly(tool, project, 'npm');
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it.each(cases)('%s → check and ci exit %i', async (shape, exit, says) => {
    proxy.setShape(shape);
    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    const fresh = (tag: string) => ({ PORTCULLIS_CACHE_DIR: join(project.home, `cache-${tag}-${shape.replace(/\W+/g, '-')}`), PORTCULLIS_STATE_DIR: join(project.home, `state-${tag}-${shape.replace(/\W+/g, '-')}`) });
    const before = { ...proxy.authSeen };
    const check = note(`A5 ${shape}: check`, await portcullis(project, ['check'], fresh('check')));
    expect(check.code, out(check)).toBe(exit);
    if (says !== null) expect(out(check)).toContain(says);
    const ci = note(`A5 ${shape}: portcullis-npm ci (npm 11)`, await portcullisNpm(tool, project, ['ci'], fresh('ci')));
    expect(ci.code, out(ci)).toBe(exit);
    expect(existsSync(join(project.dir, 'node_modules', 'left-pad-lite', 'package.json'))).toBe(exit === 0);
    if (shape === 'redirect to another host') {
      expect(proxy.authSeen.front).toBeGreaterThan(before.front);
      expect(proxy.authSeen.other).toBe(0);
    }
  });
});

describe('A6: a pnpm lockfile whose importer names a package it does not pin', () => {
  it.each([10, 12] as const)('pnpm %i: check refuses the lockfile (pnpm itself re-resolves and installs the package)', async (major) => {
    const tool = pnpm(major);
    const project = createProject('pnpm', main.url, { 'left-pad-lite': '1.0.0', 'tampered-lib': '1.0.0' }, { policy: policy() });
    await lockOnly(tool, project, 'pnpm');
    const file = join(project.dir, 'pnpm-lock.yaml');
    const text = readFileSync(file, 'utf8');
    // a "merge conflict" keeps the importer's line and drops the package's entries
    const edited = text.replace(/\n {2}tampered-lib@1\.0\.0:\n {4}resolution: \{[^\n]*\}\n/, '\n').replace(/\n {2}tampered-lib@1\.0\.0: \{\}\n?/, '\n');
    expect(edited).not.toContain('tampered-lib@1.0.0');
    writeFileSync(file, edited);
    const check = note(`A6 pnpm ${major} check`, await portcullis(project, ['check']));
    expect(check.code, out(check)).toBe(2);
    expect(out(check)).toContain('depends on tampered-lib');
  });
});

describe('A7: npm lockfile shapes', () => {
  it('a link whose target is outside the project is unsigned by nature; lockfileVersion 1 is refused; v2 is read from "packages"', async () => {
    const tool = npm(11);
    const project = createProject('npm', main.url, { 'left-pad-lite': '1.0.0' }, { policy: policy() });
    await lockOnly(tool, project, 'npm');
    const file = join(project.dir, 'package-lock.json');
    const genuine = readFileSync(file, 'utf8');
    editJson(file, (lock) => {
      lock.packages['node_modules/left-pad-lite'] = { resolved: '../outside/left-pad-lite', link: true };
      lock.packages['../outside/left-pad-lite'] = { name: 'left-pad-lite', version: '1.0.0' };
    });
    const outside = note('A7 link outside the project: check', await portcullis(project, ['check']));
    expect(outside.code, out(outside)).toBe(1);
    expect(out(outside)).toContain('UNSIGNED_SOURCE');

    writeFileSync(file, genuine);
    editJson(file, (lock) => {
      lock.lockfileVersion = 1;
      delete lock.packages;
      lock.dependencies = { 'left-pad-lite': { version: '1.0.0' } };
    });
    const v1 = note('A7 lockfileVersion 1: check', await portcullis(project, ['check']));
    expect(v1.code, out(v1)).toBe(2);

    // v2 carries both sections; npm 7+ reads "packages" — a "dependencies" section that says otherwise changes nothing
    writeFileSync(file, genuine);
    editJson(file, (lock) => {
      lock.lockfileVersion = 2;
      lock.packages['node_modules/tampered-lib'] = { version: '1.0.0', resolved: `${main.url}tampered-lib/-/tampered-lib-1.0.0.tgz`, integrity: 'sha512-' + 'A'.repeat(86) + '==' };
      lock.packages[''].dependencies['tampered-lib'] = '1.0.0';
      lock.dependencies = { 'left-pad-lite': { version: '1.0.0' } };
    });
    const v2 = note('A7 lockfileVersion 2 with a "dependencies" section hiding a package: check', await portcullis(project, ['check']));
    expect(v2.code, out(v2)).toBe(1);
    expect(out(v2)).toContain('tampered-lib');
  });
});

describe('A8: npm registry settings from the environment and the user config', () => {
  it('npm 11: check and portcullis-npm ci judge against the registry npm really fetches from', async () => {
    const tool = npm(11);
    const project = createProject('npm', main.url, { 'left-pad-lite': '1.0.0', '@acme/scoped': '1.0.0' }, { policy: policy() });
    // no `resolved` in the lockfile: npm fetches from whatever registry its configuration names at install time
    writeFileSync(join(project.dir, '.npmrc'), `registry=${main.url}\nomit-lockfile-registry-resolved=true\n`);
    await lockOnly(tool, project, 'npm');
    expect(readFileSync(join(project.dir, 'package-lock.json'), 'utf8')).not.toContain('"resolved"');
    const clean = note('A8 baseline: check', await portcullis(project, ['check']));
    expect(clean.code, out(clean)).toBe(0);

    const viaEnv = { npm_config_registry: elsewhere.url };
    // where plain npm fetches from with each setting (the gate must judge that registry)
    const plainCi = async (env: NodeJS.ProcessEnv, tarball: string) => {
      const seen = elsewhere.requests.length;
      // a cold npm cache each time: a cached tarball is not fetched from anywhere
      const cache = join(project.home, `npm-cache-${tarball}`);
      const r = await run(tool.command, [...tool.args, 'ci', '--ignore-scripts'], { cwd: project.dir, env: { ...project.env, npm_config_cache: cache, ...env } });
      expect(r.code, out(r)).toBe(0);
      expect(elsewhere.requests.slice(seen).some((q) => q.path.endsWith(tarball))).toBe(true);
      rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    };
    await plainCi(viaEnv, 'left-pad-lite-1.0.0.tgz');
    const envCheck = note('A8 npm_config_registry=elsewhere: check', await portcullis(project, ['check'], viaEnv));
    expect(envCheck.code, out(envCheck)).toBe(1);
    expect(out(envCheck)).toContain('UNTRUSTED_REGISTRY');
    const envCi = note('A8 npm_config_registry=elsewhere: portcullis-npm ci', await portcullisNpm(tool, project, ['ci'], viaEnv));
    expect(envCi.code, out(envCi)).toBe(1);
    expect(existsSync(join(project.dir, 'node_modules', 'left-pad-lite'))).toBe(false);

    // the user's ~/.npmrc sends @acme elsewhere; the project's .npmrc says nothing about the scope
    writeFileSync(join(project.home, '.npmrc'), `@acme:registry=${elsewhere.url}\n`);
    await plainCi({}, 'scoped-1.0.0.tgz');
    const userCheck = note('A8 ~/.npmrc @acme:registry=elsewhere: check', await portcullis(project, ['check']));
    expect(userCheck.code, out(userCheck)).toBe(1);
    expect(out(userCheck)).toMatch(/UNTRUSTED_REGISTRY[\s\S]*@acme\/scoped/);
    expect(out(userCheck)).not.toMatch(/left-pad-lite@1\.0\.0 comes from/);
    const userCi = note('A8 ~/.npmrc @acme:registry=elsewhere: portcullis-npm ci', await portcullisNpm(tool, project, ['ci']));
    expect(userCi.code, out(userCi)).toBe(1);
    expect(existsSync(join(project.dir, 'node_modules', '@acme', 'scoped'))).toBe(false);
  });
});

describe('A9: pnpm install started in a workspace member that carries its own portcullis.json', () => {
  it.each([10, 11, 12] as const)('pnpm %i: the root policy decides (the member\'s file that switches signatures off does not apply)', async (major) => {
    const tool = pnpm(major);
    const project = createProject('pnpm', main.url, {}, { policy: policy() });
    const member = makeMember(project, { 'left-pad-lite': '1.0.0', 'tampered-lib': '1.0.0' }, 'pnpm');
    const init = await portcullis(project, ['init', 'pnpm']);
    expect(init.code, out(init)).toBe(0);
    writeFileSync(join(member, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
    const args = ['install', `--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
    const r = note(`A9 pnpm ${major} install in the member`, await run(tool.command, [...tool.args, ...args], { cwd: member, env: project.env }));
    expect(r.code, out(r)).not.toBe(0);
    expect(out(r)).toContain('BAD_SIGNATURE');
    expect(existsSync(join(member, 'node_modules', 'tampered-lib'))).toBe(false);
  });
});
