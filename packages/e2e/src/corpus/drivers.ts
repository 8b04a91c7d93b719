/**
 * One way to drive every package manager version of the corpus through its Portcullis enforcement:
 * pnpm with the `.pnpmfile.cjs` of `portcullis init pnpm`, Yarn with the plugin of `portcullis init yarn`,
 * npm through `portcullis-npm` (after `portcullis init npm`).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createProject, enforceWithYarnPlugin, portcullis, portcullisNpm, run, type PackageManagerName, type Project, type RunResult } from '../project.js';
import { npm, pnpm, yarn, type Tool } from '../toolbox.js';

/** A package manager version with Portcullis in front of it. */
export interface Driver {
  /** `pnpm 10.34.8`, `yarn 4.18.1`, `npm 11.21.2`. */
  label: string;
  pm: PackageManagerName;
  tool: Tool;
  /** A project with enforcement set up; `policy` is written as portcullis.json. */
  project(registryUrl: string, dependencies: Record<string, string>, policy: object): Promise<Project>;
  /** An install that may resolve anew (and write the lockfile). */
  install(project: Project, extra?: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** An install of exactly the lockfile: `--frozen-lockfile`, `--immutable`, `ci`. */
  frozen(project: Project, extra?: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  /** The package manager without Portcullis (plain command line). */
  plain(project: Project, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult>;
  lockfile: string;
  /** Forgets the package manager's own caches (store, cache folder), so the next install downloads again. */
  coldCache(project: Project): void;
}

function pnpmDirs(project: Project): string[] {
  return [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
}

function pnpmDriver(major: 10 | 11 | 12): Driver {
  const tool = pnpm(major);
  const plain = (project: Project, args: string[], env: NodeJS.ProcessEnv = {}) => run(tool.command, [...tool.args, ...args, ...pnpmDirs(project)], { cwd: project.dir, env: { ...project.env, ...env } });
  return {
    label: `pnpm ${tool.version}`,
    pm: 'pnpm',
    tool,
    lockfile: 'pnpm-lock.yaml',
    async project(registryUrl, dependencies, policy) {
      const project = createProject('pnpm', registryUrl, dependencies, { policy });
      const init = await portcullis(project, ['init', 'pnpm']);
      if (init.code !== 0) throw new Error(`portcullis init pnpm failed: ${init.stderr}`);
      return project;
    },
    install: (project, extra = [], env = {}) => plain(project, ['install', ...extra], env),
    frozen: (project, extra = [], env = {}) => plain(project, ['install', '--frozen-lockfile', ...extra], env),
    plain,
    coldCache(project) {
      for (const dir of ['pnpm-store', 'pnpm-cache']) rmSync(join(project.home, dir), { recursive: true, force: true });
    },
  };
}

function yarnDriver(release: 'latest' | '4.0'): Driver {
  const tool = yarn(release);
  const plain = (project: Project, args: string[], env: NodeJS.ProcessEnv = {}) => run(tool.command, [...tool.args, ...args], { cwd: project.dir, env: { ...project.env, ...env } });
  return {
    label: `yarn ${tool.version}`,
    pm: 'yarn',
    tool,
    lockfile: 'yarn.lock',
    async project(registryUrl, dependencies, policy) {
      const project = createProject('yarn', registryUrl, dependencies, { policy });
      const init = await enforceWithYarnPlugin(project);
      if (init.code !== 0) throw new Error(`portcullis init yarn failed: ${init.stderr}`);
      return project;
    },
    install: (project, extra = [], env = {}) => plain(project, ['install', '--no-immutable', ...extra], env),
    frozen: (project, extra = [], env = {}) => plain(project, ['install', '--immutable', ...extra], env),
    plain,
    coldCache(project) {
      for (const dir of ['yarn-cache', 'yarn-global']) rmSync(join(project.home, dir), { recursive: true, force: true });
    },
  };
}

function npmDriver(major: 10 | 11 | 12): Driver {
  const tool = npm(major);
  return {
    label: `npm ${tool.version}`,
    pm: 'npm',
    tool,
    lockfile: 'package-lock.json',
    async project(registryUrl, dependencies, policy) {
      const project = createProject('npm', registryUrl, dependencies, { policy });
      const init = await portcullis(project, ['init', 'npm']);
      if (init.code !== 0) throw new Error(`portcullis init npm failed: ${init.stderr}`);
      return project;
    },
    install: (project, extra = [], env = {}) => portcullisNpm(tool, project, ['install', ...extra], env),
    frozen: (project, extra = [], env = {}) => portcullisNpm(tool, project, ['ci', ...extra], env),
    plain: (project, args, env = {}) => run(tool.command, [...tool.args, ...args], { cwd: project.dir, env: { ...project.env, ...env } }),
    coldCache(project) {
      rmSync(join(project.home, 'npm-cache'), { recursive: true, force: true });
    },
  };
}

export const pnpmDrivers = (): Driver[] => [pnpmDriver(10), pnpmDriver(11), pnpmDriver(12)];
export const yarnDrivers = (): Driver[] => [yarnDriver('latest'), yarnDriver('4.0')];
export const npmDrivers = (): Driver[] => [npmDriver(10), npmDriver(11), npmDriver(12)];
/** Every package manager version the corpus runs against. */
export const allDrivers = (): Driver[] => [...pnpmDrivers(), ...yarnDrivers(), ...npmDrivers()];

/** The markers written so far: which install-time code actually ran. */
export function ran(project: Project): string[] {
  return existsSync(project.markers) ? readdirSync(project.markers).sort() : [];
}

/** Starts over as a fresh clone would: no node_modules, no markers (caches stay unless `coldCache`). */
export function freshCheckout(project: Project): void {
  rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
  for (const marker of ran(project)) rmSync(join(project.markers, marker));
}

/** Output of a run, both streams. */
export const output = (r: RunResult): string => `${r.stdout}\n${r.stderr}`;

/** Bytes of the files an install must never change, for before/after comparisons. */
export function projectFiles(project: Project, lockfile: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of ['package.json', lockfile, 'portcullis.json']) {
    const file = join(project.dir, name);
    out[name] = existsSync(file) ? readFileSync(file, 'base64') : null;
  }
  return out;
}
