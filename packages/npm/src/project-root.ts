/**
 * Which project npm installs from the working directory: the folder whose lockfile it uses (its
 * "local prefix"), found exactly as npm 10–12 find it (see NPM_QUIRKS.localPrefix). When a workspace
 * root above the nearest package.json is possible, npm itself is asked (`npm prefix` with the user's
 * options): its workspace globs are npm's to interpret. Anything the wrapper cannot account for is a
 * refusal, never a guess.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { PortcullisError } from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import { runNpm, type NpmBinary } from './npm-process.js';

/** The project npm will install, and how the wrapper knows. */
export interface NpmProject {
  /** npm's project root: its lockfile, node_modules, root lifecycle scripts and .npmrc are here. */
  root: string;
  /** `prefix`: --prefix/-C; `nearest`: the nearest package.json or node_modules; `workspace`: a workspace root above that. */
  via: 'prefix' | 'nearest' | 'workspace';
  /** The nearest folder with a package.json or node_modules (what npm filters to when `via` is `workspace`). */
  nearest: string;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `--prefix`, `-C` or an abbreviation npm expands to `--prefix` (`--prefi`), as given on the command line. */
function cliPrefix(cmd: NpmCommand): string | true | undefined {
  return cmd.options.get('prefix') ?? cmd.options.get('C') ?? cmd.options.get('prefi');
}

/** The nearest folder upwards with a package.json file or a node_modules folder; the working directory when none. */
export function nearestProject(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (isFile(join(dir, 'package.json')) || isDirectory(join(dir, 'node_modules'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/**
 * The folders above `nearest` whose package.json may make one of them npm's workspace root: those with a
 * `workspaces` field, and those the wrapper cannot read as JSON (npm's own reader may, or may not).
 */
function possibleWorkspaceRoots(nearest: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(nearest); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (isFile(file)) {
      try {
        const manifest = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as unknown;
        if (manifest !== null && typeof manifest === 'object' && (manifest as Record<string, unknown>).workspaces) out.push(dir);
      } catch {
        out.push(dir);
      }
    }
    if (dirname(dir) === dir) return out;
  }
}

function ambiguous(cwd: string, why: string): PortcullisError {
  return new PortcullisError(
    'PROJECT_AMBIGUOUS',
    `cannot be sure which project npm installs from ${cwd}: ${why}. Nothing was run. Run portcullis-npm in the project's root folder (the workspace root), or name it with --prefix <folder>.`,
  );
}

/** npm's own answer: `npm prefix` with the user's options, in the same folder and environment. */
async function askNpm(cmd: NpmCommand, cwd: string, env: NodeJS.ProcessEnv, npm: NpmBinary): Promise<string> {
  const options = cmd.optionArgs.filter((a) => !/^--(json|parseable)(=|$)/.test(a) && !/^-p$/.test(a));
  const answer = await runNpm(npm, ['prefix', ...options], { cwd, env, inherit: false });
  const lines = answer.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (answer.code !== 0 || lines.length !== 1 || !isAbsolute(lines[0]!)) {
    const said = `${answer.stderr}\n${answer.stdout}`.trim().split('\n').slice(-3).join(' | ');
    throw ambiguous(cwd, `\`npm prefix\` did not name one folder (exit ${answer.code}${said === '' ? '' : `: ${said}`})`);
  }
  return resolve(lines[0]!);
}

/** The project npm will install for this command line, started in `cwd`. */
export async function findNpmProject(cmd: NpmCommand, cwd: string, env: NodeJS.ProcessEnv, npm: NpmBinary): Promise<NpmProject> {
  const prefix = cliPrefix(cmd);
  const nearest = nearestProject(cwd);
  if (typeof prefix === 'string' && prefix !== '') return { root: resolve(cwd, prefix), via: 'prefix', nearest };
  if (prefix !== undefined) throw ambiguous(cwd, 'the --prefix option has no folder');
  const candidates = possibleWorkspaceRoots(nearest);
  // No package.json above declares workspaces: npm's answer is the nearest folder, whatever the options say.
  if (candidates.length === 0) return { root: nearest, via: 'nearest', nearest };
  const root = await askNpm(cmd, cwd, env, npm);
  if (root === nearest) return { root, via: 'nearest', nearest };
  if (candidates.includes(root)) return { root, via: 'workspace', nearest };
  throw ambiguous(cwd, `npm names ${root}, which is neither the nearest project (${nearest}) nor a workspace root above it`);
}
