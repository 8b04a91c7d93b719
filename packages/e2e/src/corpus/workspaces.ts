/**
 * npm workspaces for the bypass corpus (issue 13, item 4): a workspace root whose lockfile holds every
 * member's packages, and `portcullis-npm` started from inside a member (or a folder below it), where the
 * nearest package.json is the member's and not the project npm installs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, type FixtureSpec } from '@portcullis/test-registry';
import { NPM_WRAPPER, run, type Project, type RunResult } from '../project.js';
import type { Driver } from './drivers.js';

/** A registry package with no `dist.signatures`: UNSIGNED while signatures are required. */
export const UNSIGNED = { name: 'ws-unsigned', version: '1.0.0' };

/** What the workspace cases add to the corpus registry. */
export const workspacePackages: FixtureSpec[] = [cleanPackage(UNSIGNED.name, UNSIGNED.version, { signature: 'none' })];

/** The member the cases start from, its folder without a package.json, and a second member. */
export const MEMBER = 'packages/app';
export const NESTED = 'packages/app/src/lib';
export const OTHER = 'packages/other';

/** Every file npm may write when it resolves for the workspace: the root's, the members' and the hidden lockfile. */
export const WORKSPACE_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'node_modules/.package-lock.json', `${MEMBER}/package.json`, `${OTHER}/package.json`, 'portcullis.json'];

/**
 * Turns a driver's project (portcullis.json, `portcullis init npm` done) into a workspace root with two
 * members, and writes the root lockfile with the plain npm (lock-only, nothing installed or run).
 */
export async function makeWorkspace(driver: Driver, project: Project, members: { app: Record<string, string>; other: Record<string, string> }): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(project.dir, 'package.json'), `${JSON.stringify({ ...manifest, workspaces: ['packages/*'] }, null, 2)}\n`);
  for (const [folder, name, dependencies] of [
    [MEMBER, 'app', members.app],
    [OTHER, 'other', members.other],
  ] as const) {
    mkdirSync(join(project.dir, folder), { recursive: true });
    writeFileSync(join(project.dir, folder, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', dependencies }, null, 2)}\n`);
  }
  mkdirSync(join(project.dir, NESTED), { recursive: true });
  writeFileSync(join(project.dir, NESTED, 'index.js'), 'module.exports = 1;\n');
  const lock = await driver.plain(project, ['install', '--package-lock-only', '--ignore-scripts']);
  if (lock.code !== 0) throw new Error(`npm could not write the workspace lockfile: ${lock.stdout}\n${lock.stderr}`);
}

/** `portcullis-npm` started in `folder` (relative to the project root), in front of the driver's npm. */
export function wrapperIn(driver: Driver, project: Project, folder: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const npmCli = driver.tool.args[0];
  if (driver.pm !== 'npm' || npmCli === undefined) throw new Error(`wrapperIn needs an npm driver, got ${driver.label}`);
  return run(driver.tool.command, [NPM_WRAPPER, ...args], { cwd: join(project.dir, folder), env: { ...project.env, PORTCULLIS_NPM: npmCli, ...env } });
}

/** sha256 of each file npm may touch (null: absent), for byte-identity checks. */
export function workspaceHashes(project: Project): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of WORKSPACE_FILES) {
    const file = join(project.dir, name);
    out[name] = existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null;
  }
  return out;
}

/** Whether a package was installed anywhere npm puts a workspace's packages (root or member node_modules). */
export function installedAnywhere(project: Project, name: string): string[] {
  return ['', MEMBER, OTHER].map((folder) => join(project.dir, folder, 'node_modules', name)).filter((dir) => existsSync(dir));
}
