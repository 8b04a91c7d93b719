/** `portcullis explain <name>`: why each installed copy of a package is allowed or blocked, and what would change it. */
import { parseArgs } from 'node:util';
import { explainPackage, formatExplanationJson, formatExplanationText, PortcullisError, runCheck } from '@portcullis/core';
import { progressLine } from '../progress.js';
import { projectDir } from './options.js';

const FORMATS = ['text', 'json'] as const;

export async function explainCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { dir: { type: 'string' }, offline: { type: 'boolean', default: false }, format: { type: 'string', default: 'text' } },
    allowPositionals: true,
    strict: true,
  });
  const [name] = positionals;
  if (name === undefined || positionals.length > 1) throw new PortcullisError('USAGE', 'explain takes one package name, e.g. `portcullis explain sharp`');
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new PortcullisError('USAGE', `--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`);
  const progress = progressLine(process.stderr, format === 'text');
  let run;
  try {
    run = await runCheck(projectDir(values.dir), { offline: values.offline, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.clear();
  }
  const explanation = explainPackage(run, name);
  process.stdout.write(format === 'json' ? formatExplanationJson(explanation) : formatExplanationText(explanation));
  return explanation.exitCode;
}
