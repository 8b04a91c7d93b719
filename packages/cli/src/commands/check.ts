/** `portcullis check`: evaluate the project's lockfile against portcullis.json and report. */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatGithubCommands, formatGithubSummary, formatJson, formatSarif, formatText, PortcullisError, checkReport } from '@portcullis/core';
import { progressLine } from '../progress.js';
import { projectDir } from './options.js';

declare const PORTCULLIS_VERSION: string;
/** The build's identity (a hash of every source file in the bundle): a remembered check report is used by this build only. */
declare const PORTCULLIS_ENGINE_ID: string;

const FORMATS = ['text', 'json', 'sarif', 'github'] as const;

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
  // Machine-read formats get no progress line (and without a terminal there is none anyway).
  const progress = progressLine(process.stderr, format === 'text');
  let run;
  try {
    const engine = typeof PORTCULLIS_ENGINE_ID === 'string' && PORTCULLIS_ENGINE_ID !== '' ? { engine: `cli:${PORTCULLIS_ENGINE_ID}` } : {};
    run = await checkReport(dir, { offline: values.offline, refreshKeys: values['refresh-keys'], onProgress: (done, total) => progress.update(done, total), ...engine });
  } finally {
    progress.clear();
  }
  const { dir: root, result, locations } = run;
  if (format === 'json') {
    process.stdout.write(formatJson(result));
  } else if (format === 'sarif') {
    process.stdout.write(formatSarif(result, { rootDir: root, toolVersion: typeof PORTCULLIS_VERSION === 'string' ? PORTCULLIS_VERSION : '0.0.0', locations }));
  } else if (format === 'github') {
    // Annotation paths are relative to the checked-out workspace (the working directory outside Actions).
    const options = { rootDir: process.env.GITHUB_WORKSPACE || process.cwd(), locations };
    process.stdout.write(formatGithubCommands(result, options));
    const summaryFile = process.env.GITHUB_STEP_SUMMARY;
    if (summaryFile) appendFileSync(summaryFile, formatGithubSummary(result, options));
  } else {
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    process.stdout.write(formatText(result, { color }));
  }
  return result.exitCode;
}
