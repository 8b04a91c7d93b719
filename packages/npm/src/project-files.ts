/** The files an aborted install must leave exactly as they were: package.json and the lockfiles. */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const GUARDED = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'] as const;

/** A byte-exact copy of the guarded files (null: the file did not exist). */
export class ProjectSnapshot {
  private constructor(
    readonly dir: string,
    private readonly files: Map<string, Buffer | null>,
  ) {}

  static take(dir: string): ProjectSnapshot {
    const files = new Map<string, Buffer | null>();
    for (const name of GUARDED) {
      const file = join(dir, name);
      files.set(name, existsSync(file) ? readFileSync(file) : null);
    }
    return new ProjectSnapshot(dir, files);
  }

  /** Puts every guarded file back byte for byte, and removes those that did not exist. */
  restore(): void {
    for (const [name, bytes] of this.files) {
      const file = join(this.dir, name);
      if (bytes === null) {
        rmSync(file, { force: true });
      } else if (!existsSync(file) || !readFileSync(file).equals(bytes)) {
        writeFileSync(file, bytes);
      }
    }
  }
}

/** The lockfile npm uses in `dir`: npm-shrinkwrap.json wins over package-lock.json. */
export function lockfileIn(dir: string): string | undefined {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    const file = join(dir, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** npm's project root: `--prefix`, else the nearest folder with a package.json (or node_modules), else `cwd`. */
export function projectRoot(cwd: string, prefix: string | undefined): string {
  if (prefix !== undefined) return resolve(cwd, prefix);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) || isDirectory(join(dir, 'node_modules'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
