/**
 * Git repositories built by a test, as data (no network): bare repositories a client clones through a `git+file:` URL,
 * or through a hosted URL that git's `url.<base>.insteadOf` sends to them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from './project.js';

const gitIdentity = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test', GIT_CONFIG_NOSYSTEM: '1' };

/** Runs git in `cwd` with a fixed identity and no user or system configuration; its trimmed stdout. */
export async function git(cwd: string, args: string[]): Promise<string> {
  const r = await run('git', args, { cwd, env: { ...process.env, ...gitIdentity, HOME: cwd } });
  if (r.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

export interface BareRepository {
  /** The bare repository's folder. */
  bare: string;
  /** Its one commit. */
  sha: string;
  /** Its `git+file:` URL. */
  url: string;
}

/** A bare repository `<root>/<name>.git` holding `files` in one commit. */
export async function bareRepository(root: string, name: string, files: Record<string, string>): Promise<BareRepository> {
  const work = join(root, `${name}-work`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
  }
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-q', '-m', name]);
  const sha = await git(work, ['rev-parse', 'HEAD']);
  const bare = join(root, `${name}.git`);
  await git(root, ['clone', '-q', '--bare', work, bare]);
  return { bare, sha, url: `git+file://${bare}` };
}

/**
 * The tenth wave's G1 repositories under `root`: `git-outer`, whose manifest is `outer` plus a git devDependency
 * `git-inner` (with a `prepare`: npm fetches it with one more nested npm), and whose own `.npmrc` sets `node-options`
 * to import a data: module that leaves `marker` (the working folder of the process it ran in).
 */
export async function cloneConfigRepositories(root: string, marker: string, outer: Record<string, unknown>): Promise<BareRepository> {
  const code = `import("node:fs").then((fs)=>fs.writeFileSync(${JSON.stringify(marker)},process.cwd()))`;
  const inner = await bareRepository(root, 'git-inner', { 'package.json': JSON.stringify({ name: 'git-inner', version: '1.0.0', scripts: { prepare: 'node -e 0' } }) });
  return bareRepository(root, 'git-outer', {
    'package.json': JSON.stringify({ name: 'git-outer', version: '1.0.0', ...outer, devDependencies: { 'git-inner': inner.url } }),
    '.npmrc': `node-options=--import=data:text/javascript,${encodeURIComponent(code)}\n`,
  });
}
