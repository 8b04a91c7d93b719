/** `portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow. */
import { parseArgs } from 'node:util';
import { approveScripts, describeApproval, PortcullisError } from '@portcullis/core';
import { projectDir } from './options.js';

export async function approveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) {
    throw new PortcullisError('USAGE', 'approve needs package names, e.g. `portcullis approve esbuild sharp@0.34.5`');
  }
  process.stdout.write(describeApproval(await approveScripts(projectDir(values.dir), positionals)));
  return 0;
}
