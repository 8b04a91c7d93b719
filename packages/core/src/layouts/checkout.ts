/**
 * The project's checkout: what a repository's own files can fill. One rule for every folder a package manager reads
 * from and Portcullis must not let the repository supply (its metadata cache, pnpm's store and virtual store).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';

/** How a folder was set, where that changes the answer. */
export interface CheckoutQuestion {
  /**
   * The folder was written as a relative path (`../store`) in the repository's own files (pnpm-workspace.yaml, the
   * project's .npmrc). Where no `.git` marks the checkout's top (a Docker build context, a source archive), the
   * repository may reach beyond the project's folder with it: such a folder is taken as inside (fail closed).
   */
  relativeFromRepository?: boolean;
}

/**
 * Whether `path` is surely **outside the project's checkout**: the nearest folder up from `projectDir` with `.git`,
 * else `projectDir` itself, both by real path. A folder that does not exist yet (a cold install) is judged by its
 * nearest existing ancestor. A relative path, or anything that cannot be told, is not outside (fail closed); without
 * a `.git`, neither is a folder the repository's own files name by a relative path (CheckoutQuestion).
 */
export function outsideCheckout(path: string, projectDir: string, question: CheckoutQuestion = {}): boolean {
  if (!isAbsolute(path) || !isAbsolute(projectDir)) return false;
  try {
    let root = realpathSync(projectDir);
    let marked = false;
    for (let dir = root; ; dir = dirname(dir)) {
      if (existsSync(join(dir, '.git'))) {
        root = dir;
        marked = true;
        break;
      }
      if (dirname(dir) === dir) break;
    }
    if (!marked && question.relativeFromRepository === true) return false;
    let real: string | undefined;
    for (let dir = path; real === undefined; dir = dirname(dir)) {
      try {
        real = join(realpathSync(dir), path.slice(dir.length));
      } catch {
        if (dirname(dir) === dir) return false;
      }
    }
    return real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep);
  } catch {
    return false;
  }
}
