/**
 * Issue 13: every pnpm setting that could make a package build, in every place pnpm reads settings from,
 * each set to let `config-evil` (a postinstall the policy does not allow) build. pnpm 10, 11 and 12 read
 * different subsets; a case a version does not read is still run (it must then simply skip the build).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, withPostinstall, type FixtureSpec } from '@portcullis/test-registry';
import type { Project } from '../project.js';

/** Not in scripts.allow: every case tries to make it build. */
export const EVIL = 'config-evil';
/** In scripts.allow: the positive control that must build whenever the install goes through. */
export const GOOD = 'config-good';

/** Brings `config-deep` (a postinstall, not allowed) in as a transitive dependency. */
export const PARENT = 'config-parent';
export const DEEP = 'config-deep';

export const pnpmConfigPackages: FixtureSpec[] = [withPostinstall(EVIL, '1.0.0'), withPostinstall(GOOD, '1.0.0'), withPostinstall(DEEP, '1.0.0'), cleanPackage(PARENT, '1.0.0', { dependencies: { [DEEP]: '1.0.0' } })];
export const pnpmConfigDependencies: Record<string, string> = { [EVIL]: '1.0.0', [GOOD]: '1.0.0' };

/** Where a setting is written. */
export type Place = 'package.json' | 'pnpm-workspace.yaml' | '.npmrc' | 'user .npmrc' | 'global config' | 'environment' | 'command line';

export interface ConfigCase {
  place: Place;
  /** The setting as written there. */
  setting: string;
  /**
   * Writes the setting into the project; returns extra environment, extra command-line arguments and,
   * for a setting only another command takes, that command instead of `install`.
   */
  apply(project: Project): { env?: NodeJS.ProcessEnv; args?: string[]; command?: string[] };
}

function editPackageJson(project: Project, pnpm: Record<string, unknown>): void {
  const file = join(project.dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, `${JSON.stringify({ ...manifest, pnpm }, null, 2)}\n`);
}

function writeAllowFile(project: Project): string {
  writeFileSync(join(project.dir, 'allowed-builds.json'), JSON.stringify([EVIL]));
  return 'allowed-builds.json';
}

const appendText = (file: string, text: string): void => writeFileSync(file, `${safeRead(file)}${text}`);
function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** pnpm 11 and 12 read their global settings from `$XDG_CONFIG_HOME/pnpm/` (`rc`; 11+: `config.yaml`). */
function globalConfigDir(project: Project): string {
  const dir = join(project.home, '.config', 'pnpm');
  mkdirSync(dir, { recursive: true });
  return dir;
}
const xdg = (project: Project): NodeJS.ProcessEnv => ({ XDG_CONFIG_HOME: join(project.home, '.config') });

const yaml = (project: Project, text: string) => () => {
  appendText(join(project.dir, 'pnpm-workspace.yaml'), text);
  return {};
};

/** Every build-widening setting of pnpm 10, 11 and 12, from each place. */
export const pnpmConfigCases: ConfigCase[] = [
  // package.json `pnpm` field (pnpm 10 applies it to the install options after updateConfig)
  { place: 'package.json', setting: `pnpm.onlyBuiltDependencies: ["${EVIL}"]`, apply: (p) => (editPackageJson(p, { onlyBuiltDependencies: [EVIL] }), {}) },
  { place: 'package.json', setting: `pnpm.allowBuilds: {"${EVIL}": true}`, apply: (p) => (editPackageJson(p, { allowBuilds: { [EVIL]: true } }), {}) },
  { place: 'package.json', setting: 'pnpm.onlyBuiltDependenciesFile', apply: (p) => (editPackageJson(p, { onlyBuiltDependenciesFile: writeAllowFile(p) }), {}) },
  { place: 'package.json', setting: 'pnpm.neverBuiltDependencies: [] (deny-list mode)', apply: (p) => (editPackageJson(p, { neverBuiltDependencies: [] }), {}) },
  { place: 'package.json', setting: 'pnpm.neverBuiltDependencies: ["other"]', apply: (p) => (editPackageJson(p, { neverBuiltDependencies: ['other'] }), {}) },
  { place: 'package.json', setting: 'pnpm.dangerouslyAllowAllBuilds: true', apply: (p) => (editPackageJson(p, { dangerouslyAllowAllBuilds: true }), {}) },
  // pnpm-workspace.yaml
  { place: 'pnpm-workspace.yaml', setting: `onlyBuiltDependencies: [${EVIL}]`, apply: (p) => yaml(p, `onlyBuiltDependencies:\n  - ${EVIL}\n`)() },
  { place: 'pnpm-workspace.yaml', setting: `allowBuilds: {${EVIL}: true}`, apply: (p) => yaml(p, `allowBuilds:\n  ${EVIL}: true\n`)() },
  { place: 'pnpm-workspace.yaml', setting: 'onlyBuiltDependenciesFile', apply: (p) => yaml(p, `onlyBuiltDependenciesFile: ${writeAllowFile(p)}\n`)() },
  { place: 'pnpm-workspace.yaml', setting: 'neverBuiltDependencies: [] (deny-list mode)', apply: (p) => yaml(p, 'neverBuiltDependencies: []\n')() },
  { place: 'pnpm-workspace.yaml', setting: 'dangerouslyAllowAllBuilds: true', apply: (p) => yaml(p, 'dangerouslyAllowAllBuilds: true\n')() },
  // pnpm 12.11+: `permissions.<pkg>.build` works like allowBuilds and takes precedence over it
  { place: 'pnpm-workspace.yaml', setting: `permissions: {${EVIL}: {build: true}}`, apply: (p) => yaml(p, `permissions:\n  ${EVIL}:\n    build: true\n`)() },
  { place: 'global config', setting: `config.yaml: permissions: {${EVIL}: {build: true}}`, apply: (p) => (appendText(join(globalConfigDir(p), 'config.yaml'), `permissions:\n  ${EVIL}:\n    build: true\n`), { env: xdg(p) }) },
  { place: 'environment', setting: `pnpm_config_permissions={"${EVIL}":{"build":true}}`, apply: () => ({ env: { pnpm_config_permissions: JSON.stringify({ [EVIL]: { build: true } }) } }) },
  { place: 'command line', setting: `--config.permissions={"${EVIL}":{"build":true}}`, apply: () => ({ args: [`--config.permissions=${JSON.stringify({ [EVIL]: { build: true } })}`] }) },
  // the project's .npmrc (kebab-case)
  { place: '.npmrc', setting: `only-built-dependencies[]=${EVIL}`, apply: (p) => (appendText(join(p.dir, '.npmrc'), `only-built-dependencies[]=${EVIL}\n`), {}) },
  { place: '.npmrc', setting: 'only-built-dependencies-file', apply: (p) => (appendText(join(p.dir, '.npmrc'), `only-built-dependencies-file=${join(p.dir, writeAllowFile(p))}\n`), {}) },
  { place: '.npmrc', setting: 'never-built-dependencies[]=other', apply: (p) => (appendText(join(p.dir, '.npmrc'), 'never-built-dependencies[]=other\n'), {}) },
  { place: '.npmrc', setting: 'dangerously-allow-all-builds=true', apply: (p) => (appendText(join(p.dir, '.npmrc'), 'dangerously-allow-all-builds=true\n'), {}) },
  // the user's own settings
  { place: 'user .npmrc', setting: 'dangerously-allow-all-builds=true', apply: (p) => (appendText(join(p.home, '.npmrc'), 'dangerously-allow-all-builds=true\n'), {}) },
  { place: 'user .npmrc', setting: `only-built-dependencies[]=${EVIL}`, apply: (p) => (appendText(join(p.home, '.npmrc'), `only-built-dependencies[]=${EVIL}\n`), {}) },
  { place: 'global config', setting: 'rc: dangerously-allow-all-builds=true', apply: (p) => (appendText(join(globalConfigDir(p), 'rc'), 'dangerously-allow-all-builds=true\n'), { env: xdg(p) }) },
  { place: 'global config', setting: 'config.yaml: dangerouslyAllowAllBuilds: true', apply: (p) => (appendText(join(globalConfigDir(p), 'config.yaml'), 'dangerouslyAllowAllBuilds: true\n'), { env: xdg(p) }) },
  { place: 'global config', setting: `config.yaml: allowBuilds: {${EVIL}: true}`, apply: (p) => (appendText(join(globalConfigDir(p), 'config.yaml'), `allowBuilds:\n  ${EVIL}: true\n`), { env: xdg(p) }) },
  // environment
  { place: 'environment', setting: 'npm_config_dangerously_allow_all_builds=true', apply: () => ({ env: { npm_config_dangerously_allow_all_builds: 'true' } }) },
  { place: 'environment', setting: 'pnpm_config_dangerously_allow_all_builds=true', apply: () => ({ env: { pnpm_config_dangerously_allow_all_builds: 'true' } }) },
  { place: 'environment', setting: `npm_config_only_built_dependencies=${EVIL}`, apply: () => ({ env: { npm_config_only_built_dependencies: EVIL } }) },
  { place: 'environment', setting: `pnpm_config_only_built_dependencies=["${EVIL}"]`, apply: () => ({ env: { pnpm_config_only_built_dependencies: JSON.stringify([EVIL]) } }) },
  { place: 'environment', setting: `pnpm_config_allow_builds={"${EVIL}":true}`, apply: () => ({ env: { pnpm_config_allow_builds: JSON.stringify({ [EVIL]: true }) } }) },
  { place: 'environment', setting: 'pnpm_config_never_built_dependencies=[]', apply: () => ({ env: { pnpm_config_never_built_dependencies: '[]' } }) },
  // command line
  { place: 'command line', setting: '--dangerously-allow-all-builds', apply: () => ({ args: ['--dangerously-allow-all-builds'] }) },
  { place: 'command line', setting: '--config.dangerously-allow-all-builds=true', apply: () => ({ args: ['--config.dangerously-allow-all-builds=true'] }) },
  { place: 'command line', setting: `--config.allow-builds={"${EVIL}":true}`, apply: () => ({ args: [`--config.allow-builds=${JSON.stringify({ [EVIL]: true })}`] }) },
  { place: 'command line', setting: `--config.allow-builds.${EVIL}=true`, apply: () => ({ args: [`--config.allow-builds.${EVIL}=true`] }) },
  { place: 'command line', setting: `--config.only-built-dependencies=${EVIL}`, apply: () => ({ args: [`--config.only-built-dependencies=${EVIL}`] }) },
  { place: 'command line', setting: `pnpm add ${EVIL}@1.0.0 --allow-build=${EVIL}`, apply: () => ({ command: ['add', `${EVIL}@1.0.0`, `--allow-build=${EVIL}`] }) },
  { place: 'command line', setting: '--config.never-built-dependencies=other', apply: () => ({ args: ['--config.never-built-dependencies=other'] }) },
];
