import { describe, expect, it } from 'vitest';
import type { Finding } from '../finding.js';
import { escapeCommandData, escapeCommandProperty, formatGithubCommands, formatGithubSummary } from './github.js';
import type { CheckResult } from './result.js';

/**
 * A reader of GitHub's workflow-command syntax (`::name key=value,key=value::message`), as the runner parses it:
 * one command per line, properties split at `,` and the first `=`, then unescaped.
 */
export function parseWorkflowCommand(line: string): { command: string; properties: Record<string, string>; message: string } | null {
  const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (match === null) return null;
  const unescapeData = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  const unescapeProperty = (s: string) => unescapeData(s.replace(/%3A/g, ':').replace(/%2C/g, ','));
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
  }
  return { command: match[1]!, properties, message: unescapeData(match[3]!) };
}

const hostile = 'a 100% bad\r\nreason: with, commas :: and ::error::injected';
const findings: Finding[] = [
  { package: 'evil', version: '1.0.0', rule: 'scripts', code: 'SCRIPT_NOT_ALLOWED', message: 'evil@1.0.0 wants to run postinstall', fix: 'portcullis approve evil@1.0.0', id: 'evil@1.0.0' },
  { package: 'lib', version: '2.0.0', rule: 'signatures', code: 'METADATA_UNAVAILABLE', message: `lib@2.0.0: ${hostile}`, fix: 'make the registry | reachable <b>', id: 'lib@2.0.0' },
];
const result: CheckResult = { findings, exitCode: 3, packages: 12, lockfile: { kind: 'npm', path: '/ws/app, one:two/package-lock.json' }, policy: '/ws/app, one:two/portcullis.json', notices: ['a mirror strips\nsignatures'] };
const locations = new Map([['evil@1.0.0', { line: 40, column: 5 }]]);

describe('check --format github', () => {
  it('escapes data (%, CR, LF) and properties (also : and ,) as the workflow-command syntax says', () => {
    expect(escapeCommandData('100%\r\n:,')).toBe('100%25%0D%0A:,');
    expect(escapeCommandProperty('100%\r\n:,')).toBe('100%25%0D%0A%3A%2C');
  });

  it('one ::error per finding at its lockfile line, titled with the code; every line parses back to what was meant', () => {
    const lines = formatGithubCommands(result, { rootDir: '/ws', locations }).trimEnd().split('\n');
    const commands = lines.map(parseWorkflowCommand);
    // Hostile text never breaks out of its command: every line but the plain summary is one whole command.
    expect(commands.slice(0, -1).every((c) => c !== null)).toBe(true);
    expect(commands.at(-1)).toBeNull();
    expect(lines.at(-1)).toBe('portcullis: 2 of 12 packages blocked (app, one:two/package-lock.json); exit code 3');
    expect(commands[0]).toEqual({ command: 'warning', properties: { file: 'app, one:two/package-lock.json', title: 'portcullis' }, message: 'a mirror strips\nsignatures' });
    expect(commands[1]).toEqual({ command: 'error', properties: { file: 'app, one:two/package-lock.json', line: '40', col: '5', title: 'SCRIPT_NOT_ALLOWED' }, message: 'evil@1.0.0 wants to run postinstall\nfix: portcullis approve evil@1.0.0' });
    expect(commands[2]).toEqual({ command: 'error', properties: { file: 'app, one:two/package-lock.json', line: '1', title: 'METADATA_UNAVAILABLE' }, message: `lib@2.0.0: ${hostile}\nfix: make the registry | reachable <b>` });
  });

  it('nothing blocked: no annotation, one plain line', () => {
    expect(formatGithubCommands({ ...result, findings: [], notices: [], exitCode: 0 }, { rootDir: '/ws' })).toBe('portcullis: all 12 packages allowed (app, one:two/package-lock.json)\n');
  });

  it('the job summary is a Markdown table whose cells hostile text cannot break', () => {
    const md = formatGithubSummary(result, { rootDir: '/ws', locations });
    expect(md).toContain('### ❌ Portcullis: 2 of 12 packages blocked');
    expect(md).toContain('| evil@1.0.0 (line 40) | SCRIPT_NOT_ALLOWED | evil@1.0.0 wants to run postinstall | portcullis approve evil@1.0.0 |');
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    // Header plus one row per finding, each with exactly 4 cells (5 pipes): no cell leaks a `|` or a line break.
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.split('|')).toHaveLength(6);
    expect(md).toContain('make the registry &#124; reachable &lt;b&gt;');
    expect(formatGithubSummary({ ...result, findings: [], exitCode: 0 }, { rootDir: '/ws' })).toContain('✅ Portcullis: all 12 packages allowed');
  });
});
