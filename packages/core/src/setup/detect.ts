/**
 * Which package managers a repository uses (`portcullis init` with no argument): lockfiles, the `packageManager`
 * field (and `devEngines.packageManager`), pnpm-workspace.yaml, .yarnrc.yml, workspaces. Pure over the project's files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type ManagerName = 'npm' | 'pnpm' | 'yarn';

/** The few files at the project root that setting up reads, by name (never a path from the files themselves). */
export interface ProjectFiles {
  exists(name: string): boolean;
  /** The text, or undefined when absent, not a file, or larger than the limit. */
  read(name: string): string | undefined;
}

/** The largest settings file read (package.json, .npmrc, pnpm-workspace.yaml are kilobytes). */
const MAX_SETTINGS_BYTES = 4 * 1024 * 1024;

/** The project root's files on disk. */
export function projectFiles(dir: string): ProjectFiles {
  return {
    exists: (name) => existsSync(join(dir, name)),
    read(name) {
      const file = join(dir, name);
      try {
        const stat = statSync(file);
        if (!stat.isFile() || stat.size > MAX_SETTINGS_BYTES) return undefined;
        return readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
      } catch {
        return undefined;
      }
    },
  };
}

/** One package manager found, and what showed it. */
export interface DetectedManager {
  name: ManagerName;
  because: string[];
}

export interface Detection {
  managers: DetectedManager[];
  /** Signals that were not followed, and why (shown to the user). */
  notes: string[];
}

function manifestOf(files: ProjectFiles): Record<string, unknown> | undefined {
  const text = files.read('package.json');
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `pnpm@10.1.0+sha512…` → pnpm, major 10. */
function declaredManager(spec: unknown): { name: string; major: number | undefined } | undefined {
  if (typeof spec !== 'string') return undefined;
  const m = /^(@?[a-z0-9-]+)(?:@(\d+))?/i.exec(spec.trim());
  return m ? { name: m[1]!.toLowerCase(), major: m[2] !== undefined ? Number(m[2]) : undefined } : undefined;
}

/** The package manager package.json declares (`packageManager`, else `devEngines.packageManager`), with its major version when given. */
export function declaredPackageManager(files: ProjectFiles): { name: string; major: number | undefined; field: string } | undefined {
  const manifest = manifestOf(files);
  const declared = declaredManager(manifest?.packageManager) ?? declaredManager((manifest?.devEngines as { packageManager?: { name?: unknown } } | undefined)?.packageManager?.name);
  return declared === undefined ? undefined : { ...declared, field: manifest?.packageManager !== undefined ? 'packageManager' : 'devEngines.packageManager' };
}

/**
 * The package managers to set up. A `packageManager` field decides alone (other lockfiles beside it are noted, not
 * followed); otherwise every package manager with a lockfile or its own settings file. Yarn 1 is not supported.
 */
export function detectPackageManagers(files: ProjectFiles): Detection {
  const manifest = manifestOf(files);
  const notes: string[] = [];
  const found = new Map<ManagerName, string[]>();
  const add = (name: ManagerName, why: string) => found.set(name, [...(found.get(name) ?? []), why]);

  if (files.exists('package-lock.json')) add('npm', 'package-lock.json');
  if (files.exists('npm-shrinkwrap.json')) add('npm', 'npm-shrinkwrap.json');
  if (files.exists('pnpm-lock.yaml')) add('pnpm', 'pnpm-lock.yaml');
  if (files.exists('pnpm-workspace.yaml')) add('pnpm', 'pnpm-workspace.yaml');
  if (files.exists('yarn.lock')) {
    const lock = files.read('yarn.lock') ?? '';
    // Yarn Berry writes `__metadata:`; Yarn 1 writes `# yarn lockfile v1`. An empty yarn.lock is Berry's first install.
    if (/^# yarn lockfile v1/m.test(lock) && !/^__metadata:/m.test(lock)) notes.push('yarn.lock is a Yarn 1 lockfile: Portcullis supports Yarn Berry (2+) only');
    else add('yarn', 'yarn.lock');
  }
  if (files.exists('.yarnrc.yml')) add('yarn', '.yarnrc.yml');

  const declared = declaredPackageManager(files);
  const field = declared?.field;
  if (declared !== undefined) {
    if (declared.name === 'yarn' && declared.major !== undefined && declared.major < 2) {
      notes.push(`package.json ${field} names Yarn ${declared.major}: Portcullis supports Yarn Berry (2+) only`);
    } else if (declared.name === 'npm' || declared.name === 'pnpm' || declared.name === 'yarn') {
      const name = declared.name;
      for (const [other, why] of found) if (other !== name) notes.push(`not setting up ${other} (${why.join(', ')}): package.json ${field} says ${name}; run \`portcullis init ${other}\` if ${other} is used here too`);
      return { managers: [{ name, because: [`package.json ${field}`, ...(found.get(name) ?? [])] }], notes };
    } else notes.push(`package.json ${field} names ${declared.name}, which Portcullis does not set up`);
  }

  if (found.size === 0 && manifest?.workspaces !== undefined) {
    notes.push('package.json declares workspaces, but no lockfile or packageManager field says whether npm or Yarn installs them: run `portcullis init npm` or `portcullis init yarn`');
  }
  const managers = (['pnpm', 'yarn', 'npm'] as const).filter((name) => found.has(name)).map((name) => ({ name, because: found.get(name)! }));
  return { managers, notes };
}
