/**
 * `portcullis init npm`: `ignore-scripts=true` in the project `.npmrc` (a plain `npm install` that
 * bypasses the wrapper runs nothing), a starter portcullis.json that keeps npm's own `allowScripts`
 * approvals, and the alias line that puts `portcullis-npm` in front of npm.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPolicyFile, importAllowScripts, POLICY_FILE, PortcullisError, starterPolicyText, writeFileAtomic } from '@portcullis/core';

/** Sets `ignore-scripts=true` in `.npmrc` text: replaces an existing setting, keeps every other line. */
export function withIgnoreScripts(text: string): string {
  const lines = text === '' ? [] : text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  let found = false;
  const out = lines.map((line) => {
    if (!/^\s*ignore-scripts\s*(=|$)/.test(line)) return line;
    found = true;
    return 'ignore-scripts=true';
  });
  if (!found) out.push('ignore-scripts=true');
  return `${out.join('\n')}\n`;
}

/** npm's part of the gate: `ignore-scripts=true` in the project .npmrc, so a plain npm install that bypasses the wrapper runs nothing. */
export function enforceNpm(dir: string): { changed: boolean; line: string } {
  const npmrc = join(dir, '.npmrc');
  const before = existsSync(npmrc) ? readFileSync(npmrc, 'utf8') : '';
  const after = withIgnoreScripts(before);
  if (after !== before) writeFileAtomic(npmrc, after);
  return { changed: after !== before, line: `${after !== before ? 'wrote' : 'kept'} ignore-scripts=true in ${npmrc}: a plain npm install runs no dependency scripts` };
}

/** The one step after setting npm up. */
export const NPM_NEXT_STEP = 'install through the gate: add `alias npm=portcullis-npm` to your shell profile';

export async function initNpm(dir: string): Promise<number> {
  if (!existsSync(join(dir, 'package.json'))) throw new PortcullisError('USAGE', `${dir} has no package.json; run portcullis init npm in the project root or pass --dir`);
  process.stdout.write(`${enforceNpm(dir).line}\n`);

  const existing = findPolicyFile(dir, process.env);
  if (existing !== null) {
    process.stdout.write(`kept ${existing}\n`);
  } else {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      throw new PortcullisError('USAGE', `${join(dir, 'package.json')} is not valid JSON`);
    }
    const { allow, skipped } = importAllowScripts(manifest);
    const file = join(dir, POLICY_FILE);
    writeFileAtomic(file, starterPolicyText(allow));
    process.stdout.write(`wrote ${file}${allow.length > 0 ? ` (scripts.allow from package.json allowScripts: ${allow.join(', ')})` : ''}\n`);
    if (skipped.length > 0) process.stdout.write(`not imported (not a package spec portcullis understands): ${skipped.join(', ')}\n`);
  }
  process.stdout.write(`\nInstall through the gate — add this line to your shell profile:\n  alias npm=portcullis-npm\n`);
  return 0;
}
