/**
 * Throwaway projects for end-to-end tests and the demo: a folder with package.json, the package
 * manager's registry settings pointing at the test registry, isolated caches, and portcullis.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tool } from './toolbox.js';

/** The built CLI bundle. */
export const CLI = fileURLToPath(new URL('../../cli/dist/portcullis.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the test registry may live in this process). */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export type PackageManagerName = 'npm' | 'pnpm' | 'yarn';

export interface Project {
  dir: string;
  /** Isolated caches, user config and marker folder for this project. */
  home: string;
  markers: string;
  env: NodeJS.ProcessEnv;
}

/** Creates a project that installs `dependencies` from `registryUrl` with the given package manager. */
export function createProject(pm: PackageManagerName, registryUrl: string, dependencies: Record<string, string>, options: { policy?: unknown; name?: string } = {}): Project {
  const root = mkdtempSync(join(tmpdir(), `portcullis-${pm}-`));
  const dir = join(root, 'project');
  const home = join(root, 'home');
  const markers = join(root, 'markers');
  for (const d of [dir, home, markers]) mkdirSync(d, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: options.name ?? 'demo-app', version: '1.0.0', private: true, dependencies }, null, 2)}\n`);
  if (pm === 'yarn') {
    writeFileSync(
      join(dir, '.yarnrc.yml'),
      [
        `npmRegistryServer: "${registryUrl}"`,
        'unsafeHttpWhitelist: ["127.0.0.1"]',
        'enableGlobalCache: false',
        `globalFolder: "${join(home, 'yarn-global')}"`,
        `cacheFolder: "${join(home, 'yarn-cache')}"`,
        'nodeLinker: node-modules',
        'enableTelemetry: false',
        'enableScripts: false',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'yarn.lock'), '');
  } else {
    writeFileSync(join(dir, '.npmrc'), `registry=${registryUrl}\n`);
  }
  if (options.policy !== undefined) writeFileSync(join(dir, 'portcullis.json'), `${JSON.stringify(options.policy, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    TMPDIR: tmpdir(),
    PORTCULLIS_MARKER_DIR: markers,
    PORTCULLIS_CACHE_DIR: join(home, 'portcullis-cache'),
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_nodedir: '/usr',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    COREPACK_ENABLE_STRICT: '0',
    YARN_ENABLE_TELEMETRY: '0',
    NO_COLOR: '1',
    CI: 'true',
  };
  writeFileSync(join(home, '.npmrc'), '');
  return { dir, home, markers, env };
}

/** Arguments that install the project without running any dependency script (no enforcement in place). */
export function installArgs(pm: PackageManagerName, home: string): string[] {
  switch (pm) {
    case 'npm':
      return ['install', '--ignore-scripts', '--no-audit', '--no-fund'];
    case 'pnpm':
      return ['install', '--ignore-scripts', `--store-dir=${join(home, 'pnpm-store')}`, `--cache-dir=${join(home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
    case 'yarn':
      // CI=true makes Yarn default to --immutable; these installs create the lockfile.
      return ['install', '--mode=skip-build', '--no-immutable'];
  }
}

/** Installs with a real package manager; resolves with its output (never throws on a failed install). */
export function install(tool: Tool, pm: PackageManagerName, project: Project, extra: string[] = []): Promise<RunResult> {
  return run(tool.command, [...tool.args, ...installArgs(pm, project.home), ...extra], { cwd: project.dir, env: project.env });
}

/** Runs the built `portcullis` CLI in a project. */
/**
 * A real pnpm (`tool`, toolbox.ts `pnpm(major)`) in the project, with the test suite's cache folder and (unless
 * `store: false`, for a test that sets its own store) its store folder, both in the project's home, outside the checkout.
 */
export function pnpmInProject(tool: Tool, project: Project, args: string[], options: { store?: boolean } = {}): Promise<RunResult> {
  const store = options.store === false ? [] : [`--store-dir=${join(project.home, 'pnpm-store')}`];
  return run(tool.command, [...tool.args, ...args, ...store, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'], { cwd: project.dir, env: project.env });
}

export function portcullis(project: Project, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], { cwd: project.dir, env: { ...project.env, ...env } });
}

/** The built `portcullis-npm` bundle. */
export const NPM_WRAPPER = fileURLToPath(new URL('../../npm/dist/portcullis-npm.js', import.meta.url));

/** Runs `portcullis-npm` with npm's arguments, driving the given pinned npm with the same Node that runs that npm. */
export function portcullisNpm(tool: Tool, project: Project, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const npmCli = tool.args[0];
  if (tool.name !== 'npm' || npmCli === undefined) throw new Error(`portcullisNpm needs an npm tool, got ${tool.name}`);
  return run(tool.command, [NPM_WRAPPER, ...args], { cwd: project.dir, env: { ...project.env, PORTCULLIS_NPM: npmCli, ...env } });
}

/**
 * Sets Portcullis up in a Yarn project the way a user does (`portcullis init yarn`: the plugin in
 * `.yarn/plugins`, registered in `.yarnrc.yml`), and leaves `enableScripts` at the Yarn version's own default.
 */
export async function enforceWithYarnPlugin(project: Project): Promise<RunResult> {
  const yarnrc = join(project.dir, '.yarnrc.yml');
  writeFileSync(yarnrc, readFileSync(yarnrc, 'utf8').replace(/^enableScripts: false\n/m, ''));
  return portcullis(project, ['init', 'yarn']);
}

/** The marker files install scripts left in `project.markers` (each names what ran), sorted; none when there is no folder. */
export function markersOf(project: Project): string[] {
  return existsSync(project.markers) ? readdirSync(project.markers).sort() : [];
}

/** Removes every marker, so that the next run shows only what it ran. */
export function clearMarkers(project: Project): void {
  for (const marker of readdirSync(project.markers)) rmSync(join(project.markers, marker));
}
