/**
 * The packages Yarn is about to install, in the core's normalized model. Yarn's in-memory resolution is
 * serialized the way Yarn writes `yarn.lock` and read by the same reader `portcullis check` uses, so the
 * plugin and the CLI classify every locator (npm:, patch:, workspace:, git, file:, aliases) identically.
 */
import { join } from 'node:path';
import { readYarnLockfile, type PackageNode, type RegistryConfig } from '@portcullis/core';
import { npath, type PortablePath } from '@yarnpkg/fslib';
import type { Project } from '@yarnpkg/core';

/** The project's resolved packages (after resolution: `project.storedPackages`), as PackageNodes. */
export function resolvedPackages(project: Project, registries: RegistryConfig): PackageNode[] {
  const dir = projectDir(project.cwd);
  return readYarnLockfile(project.generateLockfile(), {
    path: join(dir, 'yarn.lock'),
    projectDir: dir,
    registryFor: (name) => registries.registryFor(name),
  }).packages;
}

/** A Yarn portable path as a native one. */
export function projectDir(cwd: PortablePath): string {
  return npath.fromPortablePath(cwd);
}
