/**
 * Ways around the round-43 Yarn fixes (git judged before Yarn packs it, resolution downloads compared with the signed
 * integrity), found by the second review of that round (docs/yarn.md, quirks.ts):
 *
 * R1  a lockfile Yarn refreshes (an older __metadata.version, enableHardenedMode, --refresh-lockfile) is resolved again:
 *     Yarn downloads every tarball-URL dependency again while it resolves, and the fetch step takes them from its cache.
 *     Every verified registry package Yarn fetched while resolving must have been downloaded with the signed bytes.
 * R2  a git dependency spelled as Yarn's git resolver also accepts (`http://…/repo.git#commit:<sha>`) is a git
 *     dependency to the verdict: Yarn packs it in the fetch step, so a script scripts.allow does not cover blocks.
 * R3  an `exec:` dependency's generator runs when Yarn fetches it, while it resolves: judged before that fetch (Yarn 4.0.2
 *     accepts one declared by a registry package; 4.14.1 and 4.18.1 refuse it themselves). A workspace's own one is
 *     the project's own code and still runs.
 *
 * Real Yarn 4.0.2, 4.14.1 and 4.18.1, a registry serving altered tarballs under untouched signed metadata, a git
 * repository served over git's dumb HTTP protocol, cold caches.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createProject, enforceWithYarnPlugin, markersOf, run, type Project, type RunResult } from '../src/project.js';
import { yarn } from '../src/toolbox.js';

let registry: TestRegistry;
let files: Server;
let gitBase: string; // http://127.0.0.1:port/git-thing.git
let sha: string;
const root = mkdtempSync(join(tmpdir(), 'portcullis-yarn-refetch-'));

const marker = (file: string) => `node -e "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, '${file}'), process.cwd())"`;

async function git(cwd: string, args: string[]): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd };
  const r = await run('git', args, { cwd, env });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function gitRepository(registryUrl: string): Promise<void> {
  const work = join(root, 'git-work');
  mkdirSync(work, { recursive: true });
  const manifest = {
    name: 'git-thing',
    version: '1.0.0',
    scripts: { prepack: marker('git-prepack.ran'), postpack: marker('git-postpack.ran'), postinstall: marker('git-postinstall.ran'), prepare: marker('git-prepare.ran') },
  };
  writeFileSync(join(work, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(work, 'index.js'), 'module.exports = "git";\n');
  writeFileSync(join(work, '.yarnrc.yml'), `npmRegistryServer: "${registryUrl}"\nunsafeHttpWhitelist: ["127.0.0.1"]\nenableScripts: true\nnodeLinker: node-modules\n`);
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', 'git-thing']);
  sha = await git(work, ['rev-parse', 'HEAD']);
  await git(root, ['clone', '-q', '--bare', work, join(root, 'git-thing.git')]);
  await git(join(root, 'git-thing.git'), ['update-server-info']);
}

beforeAll(async () => {
  files = createServer((req, res) => {
    const file = normalize(join(root, decodeURIComponent((req.url ?? '/').split('?')[0]!)));
    try {
      if (!file.startsWith(`${join(root, 'git-thing.git')}${sep}`) || !statSync(file).isFile()) throw new Error('not found');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  gitBase = `http://127.0.0.1:${(files.address() as AddressInfo).port}/git-thing.git`;
  registry = await startRegistry({
    packages: [cleanPackage('good', '1.0.0'), cleanPackage('plain', '1.0.0'), withPostinstall('allowed-build', '1.0.0'), cleanPackage('exec-dependent', '1.0.0', {
        dependencies: { 'gen-thing': 'exec:./gen.js' },
        files: {
          'gen.js':
            "const fs=require('fs'),path=require('path');const d=process.env.PORTCULLIS_MARKER_DIR;if(d)fs.writeFileSync(path.join(d,'exec-generator.ran'),process.cwd());" +
            "fs.mkdirSync(execEnv.buildDir,{recursive:true});fs.writeFileSync(path.join(execEnv.buildDir,'package.json'),JSON.stringify({name:'gen-thing',version:'1.0.0'}));",
        },
      }),
      ...[1, 2, 3, 4, 5, 6].flatMap((i) => [cleanPackage(`good-${i}`, '1.0.0'), withPostinstall(`build-${i}`, '1.0.0')])],
  });
  await gitRepository(registry.url);
}, 120_000);

afterAll(async () => {
  await registry?.close();
  await new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve()));
});

function policy(extra: Record<string, unknown> = {}) {
  return { scripts: { allow: ['allowed-build', 'build-1', 'build-2', 'build-3', 'build-4', 'build-5', 'build-6'] }, registries: { [registry.url]: { keys: registry.keys.keys } }, ...extra };
}

async function project(deps: Record<string, string>, pol: object = policy()): Promise<Project> {
  const p = createProject('yarn', registry.url, deps, { policy: pol });
  const init = await enforceWithYarnPlugin(p);
  expect(init.code, init.stdout + init.stderr).toBe(0);
  return p;
}

function yarnIn(release: 'latest' | '4.14' | '4.0', p: Project, args: string[], cwd = p.dir): Promise<RunResult> {
  const tool = yarn(release);
  return run(tool.command, [...tool.args, ...args], { cwd, env: p.env });
}
const check = (p: Project) => run(process.execPath, [CLI, 'check'], { cwd: p.dir, env: p.env });
const ran = markersOf;
const out = (r: RunResult) => r.stdout + r.stderr;
function coldCaches(p: Project): void {
  for (const m of readdirSync(p.markers)) rmSync(join(p.markers, m));
  for (const d of [join(p.dir, 'node_modules'), join(p.home, 'yarn-cache'), join(p.home, 'yarn-global'), join(p.home, 'portcullis-cache')]) rmSync(d, { recursive: true, force: true });
}
const installed = (p: Project, name: string) => {
  const file = join(p.dir, 'node_modules', name, 'index.js');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};
const lockOf = (p: Project) => readFileSync(join(p.dir, 'yarn.lock'), 'utf8');
const setLock = (p: Project, text: string) => writeFileSync(join(p.dir, 'yarn.lock'), text);
const withoutChecksums = (text: string) => text.replace(/^\s+checksum: .*\n/gm, '');


describe('R1: a lockfile Yarn refreshes is fetched again while resolving: the bytes must be the signed ones', () => {
  for (const [i, label, tweak] of [
    [1, '__metadata.version lowered in yarn.lock', (p: Project) => setLock(p, lockOf(p).replace(/^( {2}version: )\d+$/m, '$16'))],
    [2, 'enableHardenedMode: true in .yarnrc.yml (on by default for pull requests from forks)', (p: Project) => appendFileSync(join(p.dir, '.yarnrc.yml'), 'enableHardenedMode: true\n')],
    [3, "yarn install --refresh-lockfile (the user's own flag)", (_p: Project) => {}],
    [4, '__metadata.version lowered in yarn.lock', (p: Project) => setLock(p, lockOf(p).replace(/^( {2}version: )\d+$/m, '$16'))],
    [5, 'only the checksums dropped (no refresh: the fetch step downloads and checks)', (_p: Project) => {}],
  ] as const) {
    const release = i === 4 ? '4.0' : 'latest';
    it(`Yarn ${release}, ${label}: the mirror-altered tarballs of registry tarball URLs are refused; nothing altered is installed or run`, async () => {
      const good = `${registry.url}good-${i}/-/good-${i}-1.0.0.tgz`;
      const build = `${registry.url}build-${i}/-/build-${i}-1.0.0.tgz`;
      const p = await project({ [`good-${i}`]: good, [`build-${i}`]: build });
      // The lockfile is made while the registry serves the signed bytes.
      const first = await yarnIn(release, p, ['install', '--no-immutable']);
      expect(first.code, out(first)).toBe(0);
      expect(installed(p, `good-${i}`)).toContain('module.exports');
      // Later a mirror alters both tarballs (metadata and signatures untouched); the pull request drops the checksums.
      registry.swapTarball(`good-${i}`, '1.0.0', { 'index.js': 'module.exports = "altered by a mirror";\n' });
      registry.swapTarball(`build-${i}`, '1.0.0', { 'package.json': JSON.stringify({ name: `build-${i}`, version: '1.0.0', scripts: { postinstall: marker('altered-postinstall.ran') } }) });
      setLock(p, withoutChecksums(lockOf(p)));
      tweak(p);
      coldCaches(p);
      const r = await yarnIn(release, p, ['install', '--no-immutable', ...(i === 3 ? ['--refresh-lockfile'] : [])]);
      // Before the fix (i = 1 to 4): exit 0, altered-postinstall.ran, node_modules/good-N/index.js altered.
      expect({ code: r.code, ran: ran(p), installed: installed(p, `good-${i}`) }, out(r)).toEqual({ code: 1, ran: [], installed: '' });
      expect(out(r)).toContain(`portcullis BAD_SIGNATURE`);
      expect(out(r)).toContain(`good-${i}@1.0.0`);
    }, 180_000);
  }

  it('Yarn 4.18.1: an untouched lockfile of registry tarball URLs, refreshed, installs (the bytes downloaded are the signed ones)', async () => {
    const p = await project({ plain: `${registry.url}plain/-/plain-1.0.0.tgz` });
    const first = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(first.code, out(first)).toBe(0);
    coldCaches(p);
    const r = await yarnIn('latest', p, ['install', '--no-immutable', '--refresh-lockfile']);
    expect(r.code, out(r)).toBe(0);
    expect(existsSync(join(p.dir, 'node_modules', 'plain', 'package.json'))).toBe(true);
  }, 180_000);
});

/** A lockfile and package.json spelling the git dependency `http://…/git-thing.git#commit:<sha>`, Yarn's colon form. */
async function colonSpelled(release: 'latest' | '4.0', approve: boolean): Promise<Project> {
  const gitPlus = `git+${gitBase}`;
  // The lockfile is made while the policy allows the repository's scripts.
  const p = await project({ 'git-thing': gitPlus }, policy({ scripts: { allow: ['allowed-build', 'git-thing'] }, signatures: { allowUnsigned: ['git-thing'] } }));
  if (approve) appendFileSync(join(p.dir, '.yarnrc.yml'), 'approvedGitRepositories: ["**"]\n');
  const first = await yarnIn(release, p, ['install', '--no-immutable']);
  expect(first.code, out(first)).toBe(0);
  const spelled = `${gitBase}#commit:${sha}`;
  setLock(p, lockOf(p).split(`${gitPlus}#commit=${sha}`).join(spelled).split(gitPlus).join(spelled));
  writeFileSync(join(p.dir, 'package.json'), JSON.stringify({ name: 'demo-app', version: '1.0.0', private: true, dependencies: { 'git-thing': spelled } }));
  // Then the policy allows the source but not its scripts.
  writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(policy({ signatures: { allowUnsigned: ['git-thing'] } })));
  coldCaches(p);
  return p;
}

describe('R2: a git dependency spelled `…repo.git#commit:<sha>` is a git dependency to the verdict', () => {
  for (const [release, approve] of [['4.0', false], ['latest', true]] as const) {
    it(`Yarn ${release}: in signatures.allowUnsigned but not scripts.allow, from its lockfile (--immutable, cold caches): refused SCRIPT_NOT_ALLOWED before the fetch step packs it; check agrees`, async () => {
      const p = await colonSpelled(release, approve);
      expect(lockOf(p)).toContain(`#commit:${sha}`);
      const r = await yarnIn(release, p, ['install', '--immutable']);
      // Before the fix: exit 0 with a YN0005 warning; git-prepack, git-postpack and git-postinstall ran.
      expect({ code: r.code, ran: ran(p) }, out(r)).toEqual({ code: 1, ran: [] });
      expect(out(r)).toContain('portcullis SCRIPT_NOT_ALLOWED: git-thing@1.0.0');
      expect(out(r)).toContain('a git dependency runs its scripts when Yarn packs it');
      const c = await check(p);
      expect(c.code, out(c)).toBe(1);
      expect(out(c)).toContain('git-thing');
    }, 180_000);
  }
});

describe('R3: an exec: dependency is judged before Yarn runs its generator', () => {
  for (const release of ['4.0', '4.14', 'latest'] as const) {
    it(`Yarn ${release}: a signed registry package with an exec: dependency (default policy): refused, the generator never ran`, async () => {
      const p = await project({ 'exec-dependent': '1.0.0' });
      const r = await yarnIn(release, p, ['install', '--no-immutable']);
      // Before the fix, Yarn 4.0.2: exit 1 UNSIGNED_SOURCE after exec-generator.ran was written. 4.14.1 and 4.18.1 refuse it themselves (YN0057).
      expect({ code: r.code, ran: ran(p) }, out(r)).toEqual({ code: 1, ran: [] });
      if (release === '4.0') {
        expect(out(r)).toContain('portcullis UNSIGNED_SOURCE: gen-thing');
        expect(out(r)).toContain('the install stopped before Yarn fetched it: none of its code ran');
      }
    }, 180_000);
  }

  for (const release of ['4.0', 'latest'] as const) {
    it(`Yarn ${release}: a workspace's own exec: dependency is the project's own code: its generator runs and the install succeeds`, async () => {
      const p = await project({ plain: '1.0.0' });
      // Yarn 4.14+ refuse every exec: dependency while scripts are off (YN0004): the project turns them on for its own.
      appendFileSync(join(p.dir, '.yarnrc.yml'), 'enableScripts: true\n');
      writeFileSync(
        join(p.dir, 'gen.js'),
        "const fs=require('fs'),path=require('path');fs.writeFileSync(path.join(process.env.PORTCULLIS_MARKER_DIR,'own-generator.ran'),'');" +
          "fs.mkdirSync(execEnv.buildDir,{recursive:true});fs.writeFileSync(path.join(execEnv.buildDir,'package.json'),JSON.stringify({name:'gen-own',version:'1.0.0'}));",
      );
      writeFileSync(join(p.dir, 'package.json'), JSON.stringify({ name: 'demo-app', version: '1.0.0', private: true, dependencies: { plain: '1.0.0', 'gen-own': 'exec:./gen.js' } }));
      const r = await yarnIn(release, p, ['install', '--no-immutable']);
      expect(r.code, out(r)).toBe(0);
      expect(ran(p)).toContain('own-generator.ran');
      expect(existsSync(join(p.dir, 'node_modules', 'gen-own', 'package.json'))).toBe(true);
      const c = await check(p);
      expect(c.code, out(c)).toBe(0);
    }, 180_000);
  }
});

describe('non-regressions', () => {
  it('Yarn 4.0.2: a patch: of a git dependency on a fresh resolution is judged before the git fetch (default policy)', async () => {
    const p = await project({ plain: '1.0.0' });
    writeFileSync(join(p.dir, 'fix.patch'), ['diff --git a/index.js b/index.js', '--- a/index.js', '+++ b/index.js', '@@ -1 +1 @@', '-module.exports = "git";', '+module.exports = "patched";', ''].join('\n'));
    writeFileSync(join(p.dir, 'package.json'), JSON.stringify({ name: 'demo-app', version: '1.0.0', private: true, dependencies: { 'git-thing': `patch:git-thing@${encodeURIComponent(`git+${gitBase}`)}#./fix.patch` } }));
    const r = await yarnIn('4.0', p, ['install', '--no-immutable']);
    expect({ code: r.code, ran: ran(p) }, out(r)).toEqual({ code: 1, ran: [] });
  }, 180_000);

  it("Yarn 4.18.1: a patch of a registry package already in Yarn's cache, added on a fresh resolution, installs (the original is not fetched while resolving)", async () => {
    const p = await project({ plain: '1.0.0' });
    const first = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(first.code, out(first)).toBe(0);
    writeFileSync(join(p.dir, 'fix.patch'), ['diff --git a/index.js b/index.js', '--- a/index.js', '+++ b/index.js', '@@ -1 +1 @@', `-${readFileSync(join(p.dir, 'node_modules/plain/index.js'), 'utf8').trimEnd()}`, '+module.exports = "patched";', ''].join('\n'));
    writeFileSync(join(p.dir, 'package.json'), JSON.stringify({ name: 'demo-app', version: '1.0.0', private: true, dependencies: { plain: 'patch:plain@npm%3A1.0.0#./fix.patch' } }));
    const r = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(r.code, out(r)).toBe(0);
    expect(installed(p, 'plain')).toContain('patched');
  }, 180_000);
});
