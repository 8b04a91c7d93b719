/**
 * Reading what is actually on disk: an installed package's own package.json and binding.gyp beat any
 * metadata claim (manifest confusion: the registry may say "no scripts" while the tarball has them).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Lockfile, PackageNode } from '../model.js';

/** The install-relevant parts of an installed package.json. */
export interface InstalledManifest {
  scripts: Record<string, string>;
  bindingGyp: boolean;
  /** `gypfile: false` turns the implicit node-gyp build off. */
  gypfile: boolean | undefined;
  /** `sha256:<hex>` of the binding.gyp, when there is one (and it is not too large to read). */
  bindingGypHash?: string;
}

/** Finds and reads an installed copy of a package; null when it is not installed (yet). */
export type InstalledManifestReader = (pkg: PackageNode) => InstalledManifest | null;

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** `sha256:<hex>` of a regular file up to the manifest size limit; undefined otherwise (then only its presence counts). */
function hashOf(file: string): string | undefined {
  try {
    const stat = statSync(file);
    if (!stat.isFile() || stat.size > MAX_MANIFEST_BYTES) return undefined;
    return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  } catch {
    return undefined;
  }
}

function readManifestAt(projectDir: string, dir: string, pkg: PackageNode): InstalledManifest | null {
  const absolute = resolve(projectDir, dir);
  // Lockfile paths are hostile input: never read outside the project.
  const rel = relative(projectDir, absolute);
  if (rel.startsWith('..') || rel.startsWith(sep)) return null;
  const file = join(absolute, 'package.json');
  try {
    if (statSync(file).size > MAX_MANIFEST_BYTES) return null;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (manifest.name !== pkg.name || manifest.version !== pkg.version) return null;
    const scripts: Record<string, string> = Object.create(null);
    const raw = manifest.scripts;
    if (typeof raw === 'object' && raw !== null) {
      for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') scripts[key] = value;
    }
    const gyp = join(absolute, 'binding.gyp');
    const bindingGyp = existsSync(gyp);
    const bindingGypHash = bindingGyp ? hashOf(gyp) : undefined;
    return {
      scripts,
      bindingGyp,
      gypfile: typeof manifest.gypfile === 'boolean' ? manifest.gypfile : undefined,
      ...(bindingGypHash !== undefined ? { bindingGypHash } : {}),
    };
  } catch {
    return null;
  }
}

/** Where each package manager puts a package: npm's paths come from the lockfile, pnpm's from its virtual store. */
function candidateDirs(kind: Lockfile['kind'], pkg: PackageNode): string[] {
  switch (kind) {
    case 'npm':
      return pkg.paths;
    case 'pnpm':
      return [join('node_modules', '.pnpm', `${pkg.name.replace('/', '+')}@${pkg.version}`, 'node_modules', pkg.name), join('node_modules', pkg.name)];
    case 'yarn':
      return [join('node_modules', pkg.name), ...pkg.aliases.map((alias) => join('node_modules', alias))];
  }
}

/** A reader for installed manifests of one lockfile's project. */
export function installedManifestReader(lockfile: Lockfile, projectDir: string): InstalledManifestReader {
  return (pkg) => {
    for (const dir of candidateDirs(lockfile.kind, pkg)) {
      const manifest = readManifestAt(projectDir, dir, pkg);
      if (manifest !== null) return manifest;
    }
    return null;
  };
}
