/**
 * What a surface says about a verdict, rendered for that surface: the same findings and the same approve command
 * everywhere, spelled as the user types it there (`yarn portcullis approve …` inside Yarn).
 */
import type { Finding } from '../finding.js';

/** Where a verdict is shown: the CLI, or an install through one package manager. */
export type Surface = 'cli' | 'npm' | 'pnpm' | 'yarn';

/** How the user runs Portcullis' own commands on each surface. */
const COMMAND: Record<Surface, string> = { cli: 'portcullis', npm: 'portcullis', pnpm: 'portcullis', yarn: 'yarn portcullis' };

/** A finding with its fix spelled for `surface` (a fix is either a Portcullis command or plain advice). */
export function forSurface(finding: Finding, surface: Surface): Finding {
  return finding.fix.startsWith('portcullis ') && COMMAND[surface] !== 'portcullis' ? { ...finding, fix: `${COMMAND[surface]} ${finding.fix.slice('portcullis '.length)}` } : finding;
}

/** `name@version` of every package the findings name, sorted, each once. */
export function packagesOf(findings: readonly Finding[]): string[] {
  return [...new Set(findings.map((f) => `${f.package}@${f.version}`))].sort();
}

/** The one command that approves every skipped package, pinned (`portcullis approve a@1.0.0 b@2.1.0`). */
export function approveCommand(skipped: readonly Finding[], surface: Surface = 'cli'): string {
  return `${COMMAND[surface]} approve ${packagesOf(skipped).join(' ')}`;
}

/** At most this many packages are named in a headline; the rest are counted. */
const HEADLINE_PACKAGES = 5;

/**
 * The one line that matters, for the first line of a refusal: with one blocked package, its finding whole (what
 * happened to which package, the code, the exact fix); with several, each package and its codes (fixes follow).
 */
export function findingsHeadline(findings: readonly Finding[]): string {
  const byPackage = new Map<string, string[]>();
  for (const f of findings) {
    const key = `${f.package}@${f.version}`;
    const codes = byPackage.get(key) ?? [];
    if (!codes.includes(f.code)) codes.push(f.code);
    byPackage.set(key, codes);
  }
  if (byPackage.size === 1 && findings.length === 1) {
    const [f] = findings as [Finding];
    return `${f.message} [${f.code}] — fix: ${f.fix}`;
  }
  const named = [...byPackage].slice(0, HEADLINE_PACKAGES).map(([who, codes]) => `${who} (${codes.join(', ')})`);
  const more = byPackage.size - named.length;
  return `${named.join(', ')}${more > 0 ? `, and ${more} more` : ''}; the fix for each is below`;
}

/** One line per finding, then its fix: the body of an install-abort message. */
export function formatFindingLines(findings: readonly Finding[]): string {
  return findings.map((f) => `  ${f.code}  ${f.message}\n    fix: ${f.fix}`).join('\n');
}

/**
 * The one notice for packages installed with their install scripts skipped, and the command that approves them
 * all; undefined when nothing was skipped. Worded as each surface's users know it (npm's lists each package).
 */
export function skippedNotice(skipped: readonly Finding[], surface: Surface): string | undefined {
  if (skipped.length === 0) return undefined;
  const who = packagesOf(skipped);
  const approve = approveCommand(skipped, surface);
  switch (surface) {
    case 'yarn':
      return `portcullis SCRIPT_NOT_ALLOWED: ${who.join(', ')} will not run install scripts (or node-gyp): scripts.allow in portcullis.json does not cover ${who.length === 1 ? 'it' : 'them'}. To allow: ${approve}`;
    case 'npm':
      return [
        `portcullis-npm: installed without running the install scripts of ${who.length} package(s) that portcullis.json does not allow:`,
        ...skipped.map((f) => `  - ${f.message}`),
        `To let them run: ${approve} && portcullis-npm rebuild`,
      ].join('\n');
    case 'pnpm':
    case 'cli':
      return `portcullis: skipped the install scripts of ${who.join(', ')} (not in scripts.allow of portcullis.json). To allow: ${approve}`;
  }
}
