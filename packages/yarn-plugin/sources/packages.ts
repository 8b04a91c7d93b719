/**
 * The packages Yarn is about to install, in the core's normalized model. Yarn's in-memory resolution is
 * serialized the way Yarn writes `yarn.lock`, parsed back with Yarn's own syml parser, and read by the same
 * reader `portcullis check` uses, so the plugin and the CLI classify every locator (npm:, patch:, workspace:,
 * git, file:, aliases) identically. (A general YAML parser with positions took ~220 ms of a 1,000-package
 * warm install here; Yarn's parser reads its own output in a fraction of that.)
 */
import { join } from 'node:path';
import { readYarnLockfileData, type PackageNode, type RegistryConfig } from '@portcullis/core';
import { parseSyml } from '@yarnpkg/parsers';
import { npath, type PortablePath } from '@yarnpkg/fslib';
import type { Project } from '@yarnpkg/core';

/**
 * The project's resolved packages (after resolution: `project.storedPackages`), as PackageNodes; `lockfile` is
 * `project.generateLockfile()` when the caller already has it.
 */
export function resolvedPackages(project: Project, registries: RegistryConfig, lockfile: string = project.generateLockfile()): PackageNode[] {
  const dir = projectDir(project.cwd);
  return readYarnLockfileData(parseSyml(lockfile), {
    path: join(dir, 'yarn.lock'),
    projectDir: dir,
    registryFor: (name) => registries.registryFor(name),
  }).packages;
}

/** A Yarn portable path as a native one. */
export function projectDir(cwd: PortablePath): string {
  return npath.fromPortablePath(cwd);
}
