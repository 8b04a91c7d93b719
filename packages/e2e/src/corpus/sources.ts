/**
 * Dependencies that come from outside the registry, for the bypass corpus: a git repository (a local bare
 * repository, also served read-only over git's "dumb" HTTP protocol for package managers that refuse
 * `git+file:`) and a remote tarball on a plain HTTP server. Both carry install-time code with markers.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { markerScript, packTarball } from '@portcullis/test-registry';
import { run } from '../project.js';

/** A file server on 127.0.0.1 for the corpus' non-registry sources. */
export interface SourceServer {
  url: string;
  /** `git+file://` URL of the bare repository. */
  gitFileUrl: string;
  /** `git+http://` URL of the same repository (dumb protocol). */
  gitHttpUrl: string;
  /** URL of the remote tarball. */
  tarballUrl: string;
  close(): Promise<void>;
}

export const GIT_PACKAGE = { name: 'git-thing', version: '1.0.0' };
export const TARBALL_PACKAGE = { name: 'remote-thing', version: '1.0.0' };

async function git(cwd: string, args: string[]): Promise<void> {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test', GIT_CONFIG_NOSYSTEM: '1', HOME: cwd };
  const r = await run('git', args, { cwd, env });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * B5/B6: a git package whose `prepare`, `preinstall` and `postinstall` each leave a marker, with its own
 * `.npmrc` that turns scripts back on and points at a registry that does not exist.
 */
async function createGitRepository(root: string): Promise<string> {
  const work = join(root, 'git-work');
  const bare = join(root, 'git-thing.git');
  mkdirSync(work, { recursive: true });
  const { name, version } = GIT_PACKAGE;
  const manifest = {
    name,
    version,
    scripts: {
      prepare: markerScript(`${name}-prepare`, version, 'prepare'),
      preinstall: markerScript(`${name}-preinstall`, version, 'preinstall'),
      postinstall: markerScript(`${name}-postinstall`, version, 'postinstall'),
    },
  };
  writeFileSync(join(work, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(work, 'index.js'), 'module.exports = "git";\n');
  writeFileSync(join(work, '.npmrc'), 'ignore-scripts=false\nregistry=http://127.0.0.1:9/\n');
  writeFileSync(join(work, '.yarnrc.yml'), 'enableScripts: true\n');
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', 'git-thing']);
  await git(root, ['clone', '-q', '--bare', work, bare]);
  await git(bare, ['update-server-info']);
  return bare;
}

/** B7: a remote tarball (not a registry URL) with a postinstall. */
function remoteTarball(): Buffer {
  const { name, version } = TARBALL_PACKAGE;
  const manifest = { name, version, scripts: { postinstall: markerScript(name, version, 'postinstall') } };
  return packTarball([
    { path: 'package.json', content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), mode: 0o644 },
    { path: 'index.js', content: Buffer.from('module.exports = "remote";\n'), mode: 0o644 },
  ]);
}

/** Starts the source server: the bare repository under `/git-thing.git/`, the tarball under `/files/`. */
export async function startSourceServer(): Promise<SourceServer> {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-corpus-sources-'));
  const bare = await createGitRepository(root);
  const tarball = remoteTarball();
  const tarballPath = `/files/${TARBALL_PACKAGE.name}-${TARBALL_PACKAGE.version}.tgz`;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (path === tarballPath) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
      res.end(tarball);
      return;
    }
    const file = normalize(join(root, path));
    try {
      if (!file.startsWith(`${bare}${sep}`) || !statSync(file).isFile()) throw new Error('not found');
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    gitFileUrl: `git+file://${bare}`,
    gitHttpUrl: `git+${url}/git-thing.git`,
    tarballUrl: `${url}${tarballPath}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
