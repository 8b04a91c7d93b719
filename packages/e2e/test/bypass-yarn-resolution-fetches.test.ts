/**
 * What Yarn fetches while it resolves, before the plugin's verdict exists (review round 43; docs/yarn.md, quirks.ts):
 *
 * Y1  a git dependency: Yarn clones it and runs `yarn pack --install-if-needed` in the clone while it resolves (prepack,
 *     postpack, the clone's own postinstall, an install of the clone's dependencies with the clone's own .yarnrc.yml and
 *     no plugin). The plugin judges that fetch first: refused unless signatures.allowUnsigned and scripts.allow both name
 *     the package; from a lockfile (--immutable) the verdict refuses before the fetch step packs it.
 * Y2  a dependency written as the registry's own tarball URL: Yarn downloads it while it resolves (no signed integrity
 *     known yet) into its cache, and the fetch step takes it from there. The plugin hashes such downloads and, after the
 *     verdict, compares them with the signed integrity; bytes taken from Yarn's cache instead are refused too.
 *
 * Real Yarn 4.0.2 and 4.18.1, a registry serving altered tarballs under untouched signed metadata, a git repository
 * served over git's dumb HTTP protocol. Nothing of the repository or the altered tarballs may run or be installed.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, enforceWithYarnPlugin, markersOf, run, type Project, type RunResult } from '../src/project.js';
import { yarn } from '../src/toolbox.js';

let registry: TestRegistry;
let files: Server;
let gitUrl: string;
const root = mkdtempSync(join(tmpdir(), 'portcullis-yarn-resolution-'));

const marker = (file: string) => `node -e "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, '${file}'), process.cwd())"`;
/** What the repository runs when Yarn packs it (the clone's install also runs evil-postinstall's postinstall). */
const GIT_MARKERS = ['git-postinstall.ran', 'git-postpack.ran', 'git-prepack.ran'];

async function git(cwd: string, args: string[]): Promise<void> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd };
  const r = await run('git', args, { cwd, env });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
}

/** A git repository whose package has prepack/postpack/postinstall/prepare, a registry dependency with a postinstall, and its own .yarnrc.yml turning scripts on. */
async function gitRepository(registryUrl: string): Promise<void> {
  const work = join(root, 'git-work');
  mkdirSync(work, { recursive: true });
  const manifest = {
    name: 'git-thing',
    version: '1.0.0',
    scripts: { prepack: marker('git-prepack.ran'), postpack: marker('git-postpack.ran'), postinstall: marker('git-postinstall.ran'), prepare: marker('git-prepare.ran') },
    dependencies: { 'evil-postinstall': '1.0.0' },
  };
  writeFileSync(join(work, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(work, 'index.js'), 'module.exports = "git";\n');
  writeFileSync(join(work, '.yarnrc.yml'), `npmRegistryServer: "${registryUrl}"\nunsafeHttpWhitelist: ["127.0.0.1"]\nenableScripts: true\nnodeLinker: node-modules\n`);
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', 'git-thing']);
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
  gitUrl = `git+http://127.0.0.1:${(files.address() as AddressInfo).port}/git-thing.git`;
  registry = await startRegistry({
    packages: [
      cleanPackage('good', '1.0.0'),
      cleanPackage('plain', '1.0.0'),
      withPostinstall('allowed-build', '1.0.0'),
      withPostinstall('evil-postinstall', '1.0.0'),
      // A signed registry package that depends on a git repository.
      cleanPackage('git-dependent', '1.0.0', { dependencies: { 'git-thing': gitUrl } }),
    ],
  });
  // A signed registry package whose dependency is another package's registry tarball URL (the transitive variant of Y2).
  registry.add(cleanPackage('url-dependent', '1.0.0', { dependencies: { good: `${registry.url}good/-/good-1.0.0.tgz` } }));
  await gitRepository(registry.url);
  // A mirror alters two tarballs (metadata and signatures untouched).
  registry.swapTarball('good', '1.0.0', { 'index.js': 'module.exports = "altered by a mirror";\n' });
  registry.swapTarball('allowed-build', '1.0.0', { 'package.json': JSON.stringify({ name: 'allowed-build', version: '1.0.0', scripts: { postinstall: marker('altered-postinstall.ran') } }) });
}, 120_000);

afterAll(async () => {
  await registry?.close();
  await new Promise<void>((resolve) => (files ? files.close(() => resolve()) : resolve()));
});

function policy(extra: Record<string, unknown> = {}) {
  return { scripts: { allow: ['allowed-build'] }, registries: { [registry.url]: { keys: registry.keys.keys } }, ...extra };
}

async function project(deps: Record<string, string>, pol: object = policy()): Promise<Project> {
  const p = createProject('yarn', registry.url, deps, { policy: pol });
  const init = await enforceWithYarnPlugin(p);
  expect(init.code, init.stdout + init.stderr).toBe(0);
  return p;
}

/** Yarn 4.14+ refuse git repositories approvedGitRepositories does not cover (YN0080): a pull request can add `**` beside the dependency. */
function approveEveryRepository(p: Project): void {
  appendFileSync(join(p.dir, '.yarnrc.yml'), 'approvedGitRepositories: ["**"]\n');
}

function yarnIn(release: 'latest' | '4.0', p: Project, args: string[]): Promise<RunResult> {
  const tool = yarn(release);
  return run(tool.command, [...tool.args, ...args], { cwd: p.dir, env: p.env });
}

const ran = markersOf;
const out = (r: RunResult) => r.stdout + r.stderr;
/** A fresh checkout on a machine whose caches never held anything of it. */
function coldCaches(p: Project): void {
  for (const m of readdirSync(p.markers)) rmSync(join(p.markers, m));
  for (const d of [join(p.dir, 'node_modules'), join(p.home, 'yarn-cache'), join(p.home, 'yarn-global')]) rmSync(d, { recursive: true, force: true });
}
const installed = (p: Project, name: string) => {
  const file = join(p.dir, 'node_modules', name, 'index.js');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

describe('Y1: a git dependency is judged before Yarn packs it', () => {
  it('Yarn 4.0.2: a signed registry package depending on a git repository (default policy): refused before the clone is packed', async () => {
    const p = await project({ 'git-dependent': '1.0.0' });
    const r = await yarnIn('4.0', p, ['install', '--no-immutable']);
    expect(r.code, out(r)).toBe(1);
    expect(out(r)).toContain('portcullis UNSIGNED_SOURCE: git-thing (a git repository, git+http://');
    expect(out(r)).toContain('portcullis SCRIPT_NOT_ALLOWED: git-thing');
    expect(out(r)).toContain('the install stopped before Yarn fetched it: none of its code ran');
    expect(out(r)).not.toContain('before fetching or running anything');
    // Before the fix: git-prepack, git-postpack, git-postinstall and the clone's evil-postinstall all ran.
    expect(ran(p), out(r)).toEqual([]);
  }, 120_000);

  it('Yarn 4.0.2: the same with --immutable after the git dependency was added to package.json', async () => {
    const p = await project({ good: '1.0.0' });
    // good is altered by the mirror; the lockfile is written from a clean project first (its own resolution).
    const pkg = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies = { 'git-dependent': '1.0.0' };
    writeFileSync(join(p.dir, 'package.json'), JSON.stringify(pkg));
    const r = await yarnIn('4.0', p, ['install', '--immutable']);
    expect(r.code, out(r)).toBe(1);
    expect(ran(p), out(r)).toEqual([]);
  }, 120_000);

  it('Yarn 4.18.1: a direct git dependency, approvedGitRepositories set by the same pull request (default policy): refused', async () => {
    const p = await project({ plain: '1.0.0', 'git-thing': gitUrl });
    approveEveryRepository(p);
    const r = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(r.code, out(r)).toBe(1);
    expect(out(r)).toContain('UNSIGNED_SOURCE');
    expect(ran(p), out(r)).toEqual([]);
  }, 120_000);

  it('Yarn 4.18.1: in signatures.allowUnsigned but not scripts.allow: refused SCRIPT_NOT_ALLOWED on a fresh resolution, and from its lockfile (--immutable, cold caches)', async () => {
    // The lockfile is made while the policy allows the repository's scripts (the positive control: they run then)...
    const p = await project({ 'git-thing': gitUrl }, policy({ scripts: { allow: ['allowed-build', 'git-thing', 'evil-postinstall'] }, signatures: { allowUnsigned: ['git-thing'] } }));
    approveEveryRepository(p);
    const first = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(first.code, out(first)).toBe(0);
    expect(ran(p).filter((m) => GIT_MARKERS.includes(m)), out(first)).toEqual(GIT_MARKERS);
    expect(readFileSync(join(p.dir, 'yarn.lock'), 'utf8')).toContain('git-thing@git+http://');

    // ...then the policy allows the source but not its scripts: the verdict refuses before the fetch step packs it.
    writeFileSync(join(p.dir, 'portcullis.json'), JSON.stringify(policy({ signatures: { allowUnsigned: ['git-thing'] } })));
    coldCaches(p);
    const locked = await yarnIn('latest', p, ['install', '--immutable']);
    expect(locked.code, out(locked)).toBe(1);
    expect(out(locked)).toContain('portcullis SCRIPT_NOT_ALLOWED: git-thing@1.0.0');
    expect(out(locked)).toContain('a git dependency runs its scripts when Yarn packs it');
    expect(out(locked)).not.toContain('Fetch step');
    expect(ran(p), out(locked)).toEqual([]);

    // A fresh resolution (no lockfile) is refused at the fetch that would pack it.
    rmSync(join(p.dir, 'yarn.lock'));
    coldCaches(p);
    const fresh = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(fresh.code, out(fresh)).toBe(1);
    expect(out(fresh)).toContain('portcullis SCRIPT_NOT_ALLOWED: git-thing (a git repository');
    expect(out(fresh)).not.toContain('UNSIGNED_SOURCE');
    expect(ran(p), out(fresh)).toEqual([]);
  }, 180_000);

  it('Yarn 4.18.1: a ranged scripts.allow entry does not let a git dependency be packed before its version is known', async () => {
    const p = await project({ 'git-thing': gitUrl }, policy({ scripts: { allow: ['git-thing@^1.0.0'] }, signatures: { allowUnsigned: ['git-thing'] } }));
    approveEveryRepository(p);
    const r = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(r.code, out(r)).toBe(1);
    expect(out(r)).toContain('no scripts.allow entry covers every version of git-thing');
    expect(ran(p), out(r)).toEqual([]);
  }, 120_000);
});

describe('Y2: the registry\'s own tarball URL as a dependency: the bytes Yarn downloads while it resolves must be the signed ones', () => {
  for (const release of ['latest', '4.0'] as const) {
    it(`Yarn ${release}: the mirror-altered tarballs are refused (BAD_SIGNATURE), nothing altered is linked or run; the next install, from Yarn's cache, is refused too`, async () => {
      const p = await project({ good: `${registry.url}good/-/good-1.0.0.tgz`, 'allowed-build': `${registry.url}allowed-build/-/allowed-build-1.0.0.tgz` });
      const r = await yarnIn(release, p, ['install', '--no-immutable']);
      // Before the fix: exit 0, altered-postinstall.ran, node_modules/good/index.js altered.
      expect({ code: r.code, ran: ran(p), installed: installed(p, 'good') }, out(r)).toEqual({ code: 1, ran: [], installed: '' });
      expect(out(r)).toContain('portcullis BAD_SIGNATURE: the tarball Yarn downloaded for good@1.0.0 while it resolved');
      expect(out(r)).toContain('portcullis BAD_SIGNATURE: the tarball Yarn downloaded for allowed-build@1.0.0 while it resolved');

      // Yarn keeps what it downloaded in its cache: the second attempt downloads nothing, and cannot be told apart.
      const again = await yarnIn(release, p, ['install', '--no-immutable']);
      expect({ code: again.code, ran: ran(p), installed: installed(p, 'good') }, out(again)).toEqual({ code: 1, ran: [], installed: '' });
      expect(out(again)).toContain('YN0035: │ portcullis METADATA_UNAVAILABLE: good@1.0.0 was resolved from its tarball URL');
      expect(out(again)).toContain("and Yarn took that tarball from its cache instead of downloading it");
    }, 120_000);
  }

  it('Yarn 4.18.1: the transitive variant (a signed package whose dependency is the registry tarball URL of another) is refused', async () => {
    const p = await project({ 'url-dependent': '1.0.0' });
    const r = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect({ code: r.code, ran: ran(p), installed: installed(p, 'good') }, out(r)).toEqual({ code: 1, ran: [], installed: '' });
    expect(out(r)).toContain('portcullis BAD_SIGNATURE: the tarball Yarn downloaded for good@1.0.0 while it resolved');
  }, 120_000);

  it('Yarn 4.18.1: an untouched tarball by its registry URL installs (the bytes downloaded are the signed ones), and again from the lockfile', async () => {
    const p = await project({ plain: `${registry.url}plain/-/plain-1.0.0.tgz` });
    const r = await yarnIn('latest', p, ['install', '--no-immutable']);
    expect(r.code, out(r)).toBe(0);
    expect(existsSync(join(p.dir, 'node_modules', 'plain', 'package.json'))).toBe(true);
    coldCaches(p);
    const locked = await yarnIn('latest', p, ['install', '--immutable']);
    expect(locked.code, out(locked)).toBe(0);
  }, 120_000);
});
