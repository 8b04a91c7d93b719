/** `portcullis init [npm|pnpm|yarn] [--dir DIR]`: set enforcement up for one package manager, or for every one detected. */
import { parseArgs } from 'node:util';
import { PortcullisError } from '@portcullis/core';
import { initDetected } from './init-detected.js';
import { initNpm } from './init-npm.js';
import { initPnpm } from './init-pnpm.js';
import { initYarn } from './init-yarn.js';
import { projectDir } from './options.js';

const SETUPS: Record<string, (dir: string) => Promise<number>> = { npm: initNpm, pnpm: initPnpm, yarn: initYarn };

export async function initCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: 'string' } }, allowPositionals: true, strict: true });
  const [pm] = positionals;
  if (pm === undefined) return initDetected(projectDir(values.dir));
  if (positionals.length > 1 || !Object.hasOwn(SETUPS, pm)) {
    throw new PortcullisError('USAGE', 'init takes at most one package manager: `portcullis init` (detect), `portcullis init npm`, `portcullis init pnpm` or `portcullis init yarn`');
  }
  return SETUPS[pm]!(projectDir(values.dir));
}
