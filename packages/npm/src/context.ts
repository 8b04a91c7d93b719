/** What one portcullis-npm run works with: the npm to run, where, and the gate of the project npm installs. */
import type { Gate, RegistryConfig } from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import type { HeldNpm, NpmBinary } from './npm-process.js';

export interface GateContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  npm: NpmBinary;
  /** The file an npm started early loads to be held until the gate lets it go (hold.ts); none: npm starts when it may run. */
  holdWith?: string;
  /** The npm the loader started, held, for this command (early-npm.ts): the gate lets it go, or it is stopped. */
  early?: HeldNpm;
}

/** One install through the gate: the command, its context, the project root npm installs, and that project's gate. */
export interface NpmInstall {
  cmd: NpmCommand;
  ctx: GateContext;
  /** The project npm installs (a workspace root from a member): its lockfile, node_modules and .npmrc. */
  dir: string;
  /** The registries npm installs it from (its .npmrc and the command line's settings). */
  registryConfig: RegistryConfig;
  /** npm's cacache folder (the `cache` setting): where the lock-only resolution left the packuments it fetched. A place to look only. */
  npmCacache: string;
  gate: Gate;
  /** The same gate reading only the metadata cache (judging what was just installed). */
  offlineGate: () => Promise<Gate>;
}
