/**
 * The project's checkout: what a repository's own files can fill. One rule for every folder a package manager reads
 * from and Portcullis must not let the repository supply (its metadata cache, pnpm's store).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, sep } from 'node:path';

/**
 * Whether `path` is surely **outside the project's checkout**: the nearest folder up from `projectDir` with `.git`,
 * else `projectDir` itself, both by real path. A folder that does not exist yet (a cold install) is judged by its
 * nearest existing ancestor. A relative path, or anything that cannot be told, is not outside (fail closed).
 */
export function outsideCheckout(path: string, projectDir: string): boolean {
  if (!isAbsolute(path) || !isAbsolute(projectDir)) return false;
  try {
    let root = realpathSync(projectDir);
    for (let dir = root; ; dir = dirname(dir)) {
      if (existsSync(join(dir, '.git'))) {
        root = dir;
        break;
      }
      if (dirname(dir) === dir) break;
    }
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
