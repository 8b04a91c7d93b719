/** `portcullis explain <name>`: why each installed copy of a package is allowed or blocked. */
import { parseArgs } from 'node:util';
import { explainPackage, PortcullisError, runCheck } from '@portcullis/core';
import { projectDir } from './options.js';

export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: 'string' }, offline: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  const [name] = positionals;
  if (name === undefined || positionals.length > 1) throw new PortcullisError('USAGE', 'explain takes one package name, e.g. `portcullis explain sharp`');
  const run = await runCheck(projectDir(values.dir), { offline: values.offline });
  const { text, exitCode } = explainPackage(run, name);
  process.stdout.write(text);
  return exitCode;
}
