/** Finding and loading portcullis.json: the only I/O of the policy module. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PortcullisError } from '../errors.js';
import { JsonSyntaxError, parseJsonWithLocations } from './json.js';
import type { Policy } from './types.js';
import { defaultPolicy, policyFromJson, type PolicyReadOptions } from './validate.js';

export const POLICY_FILE = 'portcullis.json';
export const MAX_POLICY_BYTES = 1024 * 1024;

/**
 * Every path `findPolicyFile` looks at, in order: `PORTCULLIS_POLICY`'s file alone, else `portcullis.json` in `cwd` and
 * each folder above it, up to the first that exists or the filesystem root, then those above the first up to the
 * checkout's top (loadProjectPolicy refuses it when one there exists). What a decision made with the policy depends on
 * besides its text: a file appearing at one of the earlier paths would be the policy, one above it refuses it.
 */
export function policyFileLookups(cwd: string, env: Record<string, string | undefined> = process.env): string[] {
  const override = env.PORTCULLIS_POLICY;
  if (override) return [resolve(cwd, override)];
  const out: string[] = [];
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    out.push(join(dir, POLICY_FILE));
    // Above the one found, up to the checkout's top: one appearing there makes the found one refused (outerPolicy).
    if (existsSync(out[out.length - 1]!)) return [...out, ...policyPathsAbove(dir)];
    if (dirname(dir) === dir) return out;
  }
}

/** A `.git` file larger than this is no git link (git writes one line). */
const MAX_GIT_LINK_BYTES = 4096;

/**
 * Whether `dir` is the top of a checkout: it holds a `.git` (a folder, or a file naming its git folder: a worktree's),
 * other than a submodule's. A submodule's `.git` is a file naming a git folder inside a superproject's `.git`, under
 * `modules/` (`gitdir: ../.git/modules/tools`): its files are a folder of the checkout above, brought in by a commit of
 * that repository (a pull request shows only the submodule's commit, none of its files), so the repository's policy
 * decides there too. A `.git` file that cannot be read, or says nothing this reading knows, is taken as a submodule's
 * (the walk goes on up: it can only refuse more).
 */
function checkoutTop(dir: string): boolean {
  const git = join(dir, '.git');
  let link: string;
  try {
    const stat = statSync(git);
    if (stat.isDirectory()) return true;
    if (!stat.isFile() || stat.size > MAX_GIT_LINK_BYTES) return false;
    link = readFileSync(git, 'utf8');
  } catch {
    return false; // none there (or none that can be read)
  }
  const named = /^gitdir:[ \t]*(.+?)[ \t]*$/m.exec(link)?.[1];
  if (named === undefined) return false;
  const parts = resolve(dir, named).split(sep);
  const dotGit = parts.indexOf('.git');
  // A submodule's git folder: `<superproject>/.git/…/modules/<name>` (also `.git/worktrees/<wt>/modules/<name>`).
  return dotGit < 0 || !parts.slice(dotGit + 1, -1).includes('modules');
}

/**
 * The portcullis.json paths above `dir` up to the checkout's top (the nearest folder with a `.git` that is no
 * submodule's, included: `checkoutTop`); none when no such folder is above.
 */
function policyPathsAbove(dir: string): string[] {
  if (checkoutTop(dir)) return []; // dir is the checkout's top
  const paths: string[] = [];
  for (let at = dirname(dir); ; at = dirname(at)) {
    paths.push(join(at, POLICY_FILE));
    if (checkoutTop(at)) return paths;
    if (dirname(at) === at) return []; // no checkout's top above: no checkout known
  }
}

/**
 * A portcullis.json above `file` inside the same checkout (the nearest folder with `.git` up from it): the repository's
 * policy, which a portcullis.json added in a sub-folder (a nested project's) must not replace. Null when there is none,
 * or no `.git` marks the checkout (then no folder above can be told to be the repository's).
 */
export function outerPolicy(file: string): string | null {
  for (const path of policyPathsAbove(dirname(file))) if (existsSync(path)) return path;
  return null;
}

/** Finds portcullis.json: `PORTCULLIS_POLICY` wins, else the nearest one walking up from `cwd`. */
export function findPolicyFile(cwd: string, env: Record<string, string | undefined> = process.env): string | null {
  const override = env.PORTCULLIS_POLICY;
  if (override) {
    const file = resolve(cwd, override);
    if (!existsSync(file)) {
      throw new PortcullisError('POLICY_NOT_FOUND', `PORTCULLIS_POLICY points at ${file}, which does not exist`, { file });
    }
    if (!statSync(file).isFile()) {
      throw new PortcullisError('POLICY_NOT_FOUND', `PORTCULLIS_POLICY points at ${file}, which is not a file: name the portcullis.json itself`, { file });
    }
    return file;
  }
  return policyFileLookups(cwd, env).find((path) => existsSync(path)) ?? null;
}

/**
 * Parses and validates one policy document (a repository's portcullis.json, or with `role: 'organisation'` the one an
 * organisation policy package ships); every problem is a POLICY_INVALID error naming file, line and column. Pure:
 * the one reader of policy text, for every surface and for the registry plugin.
 */
export function parsePolicy(text: string, file: string, options: PolicyReadOptions = {}): Policy {
  let root;
  try {
    root = parseJsonWithLocations(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      const { line, column } = error.location;
      throw new PortcullisError('POLICY_INVALID', `${file}:${line}:${column}: invalid JSON: ${error.message}`, { file, location: error.location });
    }
    throw error;
  }
  return policyFromJson(root, file, options);
}

/** Loads the policy that applies in `cwd`, or the defaults when there is no portcullis.json. */
export function loadPolicy(cwd: string, env: Record<string, string | undefined> = process.env): Policy {
  const file = findPolicyFile(cwd, env);
  if (file === null) return defaultPolicy();
  const size = statSync(file).size;
  if (size > MAX_POLICY_BYTES) {
    throw new PortcullisError('POLICY_INVALID', `${file}: ${size} bytes is larger than the ${MAX_POLICY_BYTES}-byte limit for a policy file`, { file });
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PortcullisError('POLICY_INVALID', `${file} could not be read: ${(error as Error).message}`, { file });
  }
  return parsePolicy(text, file);
}

/**
 * The policy of the project rooted at `root` (the folder of the lockfile the package manager installs) when a
 * command starts in `start`. A portcullis.json between `start` and the root is not the policy that install obeys:
 * it is refused (PROJECT_AMBIGUOUS), never used and never silently ignored. `start` outside the root (`--prefix`,
 * `--dir`) has nothing in between.
 */
export function loadProjectPolicy(start: string, root: string, env: Record<string, string | undefined> = process.env): Policy {
  const inside = relative(resolve(root), resolve(start));
  if (!env.PORTCULLIS_POLICY && inside !== '' && !inside.startsWith('..') && !isAbsolute(inside)) {
    const here = findPolicyFile(start, env);
    const there = findPolicyFile(root, env);
    if (here !== null && here !== there) {
      throw new PortcullisError(
        'PROJECT_AMBIGUOUS',
        `${here} is not the policy of this project: the package manager installs ${root} (its lockfile, every workspace package), whose policy is ${there ?? 'the default (there is no portcullis.json at or above the project root)'}. Move the rules into ${join(root, POLICY_FILE)} and delete ${here} (or set PORTCULLIS_POLICY).`,
        { file: here },
      );
    }
  }
  if (!env.PORTCULLIS_POLICY) {
    const there = findPolicyFile(root, env);
    const outer = there === null ? null : outerPolicy(there);
    if (there !== null && outer !== null) {
      throw new PortcullisError(
        'PROJECT_AMBIGUOUS',
        `${there} is not the policy of this repository: ${outer}, above it in the same checkout, is (one policy decides for a repository, and a portcullis.json in a sub-folder, a nested project's, would replace it there). Move the rules into ${outer} and delete ${there} (or set PORTCULLIS_POLICY).`,
        { file: there },
      );
    }
  }
  return loadPolicy(root, env);
}
