/**
 * `check --format github`: GitHub Actions workflow commands (one `::error` annotation per finding, located at the
 * package's entry in the lockfile) and a Markdown job summary for `$GITHUB_STEP_SUMMARY`. Every message is hostile
 * text (a registry's reason, a package name): it is escaped so it can never end the command or start another.
 */
import { relative } from 'node:path';
import type { SourceLocation } from '../model.js';
import type { CheckResult } from './result.js';
import { summarize } from './result.js';

export interface GithubOptions {
  /** Directory annotation paths are relative to (the workspace GitHub checked out). */
  rootDir: string;
  /** Where each package id's entry stands in the lockfile. */
  locations?: ReadonlyMap<string, SourceLocation>;
}

/** Escapes a workflow command's message: `%`, CR and LF. */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command property value: as data, plus `:` and `,` (which would end the value). */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(kind: 'error' | 'warning' | 'notice', properties: Record<string, string | number | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${escapeCommandProperty(String(value))}`)
    .join(',');
  return `::${kind}${props ? ` ${props}` : ''}::${escapeCommandData(message)}`;
}

/** The lockfile path as GitHub wants it: relative to the workspace, with forward slashes. */
function workspacePath(rootDir: string, file: string): string {
  const rel = relative(rootDir, file).split('\\').join('/');
  return rel === '' || rel.startsWith('..') ? file : rel;
}

/** The workflow commands for a check result: one annotation per finding and per notice, then a plain summary line. */
export function formatGithubCommands(result: CheckResult, options: GithubOptions): string {
  const file = workspacePath(options.rootDir, result.lockfile.path);
  const lines: string[] = [];
  for (const notice of result.notices) lines.push(command('warning', { file, title: 'portcullis' }, notice));
  for (const f of result.findings) {
    const location = f.id !== undefined ? options.locations?.get(f.id) : undefined;
    lines.push(command('error', { file, line: location?.line ?? 1, col: location?.column, title: f.code }, `${f.message}\nfix: ${f.fix}`));
  }
  const summary = summarize(result);
  lines.push(
    result.findings.length === 0
      ? `portcullis: all ${result.packages} packages allowed (${file})`
      : `portcullis: ${summary.blocked} of ${result.packages} packages blocked (${file}); exit code ${result.exitCode}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Markdown table cell text: no line breaks, no table or HTML syntax from hostile input. */
function cell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '&#124;').replace(/`/g, '&#96;').replace(/\r?\n|\r/g, '<br>');
}

/** At most this many findings in the job summary (GitHub caps a step summary at 1 MiB). */
const SUMMARY_ROWS = 500;

/** The Markdown job summary for `$GITHUB_STEP_SUMMARY`. */
export function formatGithubSummary(result: CheckResult, options: GithubOptions): string {
  const file = workspacePath(options.rootDir, result.lockfile.path);
  const policy = result.policy === null ? 'defaults (no portcullis.json)' : workspacePath(options.rootDir, result.policy);
  const summary = summarize(result);
  const lines: string[] = [];
  if (result.findings.length === 0) {
    lines.push(`### ✅ Portcullis: all ${result.packages} packages allowed`, '', `Lockfile \`${cell(file)}\`, policy ${cell(policy)}.`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`### ❌ Portcullis: ${summary.blocked} of ${result.packages} packages blocked`, '', `Lockfile ${cell(file)}, policy ${cell(policy)}; exit code ${result.exitCode}.`, '');
  for (const notice of result.notices) lines.push(`> ⚠️ ${cell(notice)}`, '');
  lines.push('| Package | Code | What happened | Fix |', '|---|---|---|---|');
  for (const f of result.findings.slice(0, SUMMARY_ROWS)) {
    const location = f.id !== undefined ? options.locations?.get(f.id) : undefined;
    lines.push(`| ${cell(`${f.package}@${f.version}`)}${location ? ` (line ${location.line})` : ''} | ${f.code} | ${cell(f.message)} | ${cell(f.fix)} |`);
  }
  if (result.findings.length > SUMMARY_ROWS) lines.push('', `…and ${result.findings.length - SUMMARY_ROWS} more: run \`portcullis check\` locally for the full list.`);
  return `${lines.join('\n')}\n`;
}
