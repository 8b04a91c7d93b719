/** `portcullis check`: evaluate the project's lockfile against portcullis.json and report. */
import { parseArgs } from 'node:util';
import { formatJson, formatSarif, formatText, PortcullisError, runCheck } from '@portcullis/core';
import { projectDir } from './options.js';

declare const PORTCULLIS_VERSION: string;

const FORMATS = ['text', 'json', 'sarif'] as const;

export async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string' },
      format: { type: 'string', default: 'text' },
      offline: { type: 'boolean', default: false },
      'refresh-keys': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) {
    throw new PortcullisError('USAGE', `--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`);
  }
  const dir = projectDir(values.dir);
  const { project, result, locations } = await runCheck(dir, { offline: values.offline, refreshKeys: values['refresh-keys'] });
  if (format === 'json') {
    process.stdout.write(formatJson(result));
  } else if (format === 'sarif') {
    process.stdout.write(formatSarif(result, { rootDir: project.dir, toolVersion: typeof PORTCULLIS_VERSION === 'string' ? PORTCULLIS_VERSION : '0.0.0', locations }));
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(formatText(result, { color }));
  }
  return result.exitCode;
}
