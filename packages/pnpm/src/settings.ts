/**
 * pnpm build settings that `updateConfig` cannot override, because pnpm applies them after the hook.
 * Each is refused when it would let a package build that scripts.allow does not cover; a setting that only
 * allows what the policy allows anyway is harmless and stays. Measured (packages/e2e/test/bypass-pnpm-config.test.ts):
 *
 * | pnpm | where | setting | why the hook cannot override it |
 * |---|---|---|---|
 * | 10 | root package.json `pnpm` field | `onlyBuiltDependencies`, `allowBuilds`, `onlyBuiltDependenciesFile`, `neverBuiltDependencies` | merged into the install options after the hook |
 * | 10 | each workspace project's `.npmrc` and `package.json` | any, with `shared-workspace-lockfile=false` | each project is installed on its own with them, after the hook |
 * | 10, 11 | command line (`pnpm add`) | `--allow-build=<name>` | added to the allowlist by the command itself (12 ignores it) |
 * | 11, 12 | command line | `--dangerously-allow-all-builds`, `--config.allow-builds=<json>` (12 built with it) | pnpm restores command-line settings after the hook |
 *
 * Everything else (pnpm-workspace.yaml, .npmrc, the user's and the global config, `npm_config_*` /
 * `pnpm_config_*` environment variables, other command-line flags) reaches the hook and is overridden there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidPackageName, type BuildAllowance } from '@portcullis/core';
import { pnpmAncestor } from './ancestor.js';
import type { WideningSetting } from './refuse.js';
import { inPnpm12HookWorker } from './worker-kind.js';

export type { WideningSetting } from './refuse.js';

/** What the policy allows to build, as these checks ask it. */
type Covers = Pick<BuildAllowance, 'covers'>;

/** A pnpm build-allowance entry (`name`, `name@1.0.0 || 2.0.0`, a dependency path with peers) as name and exact versions. */
function parseAllowance(entry: string): { name: string; versions?: string[] } | undefined {
  const withoutPeers = entry.replace(/\(.*$/, '');
  const at = withoutPeers.indexOf('@', withoutPeers.startsWith('@') ? 1 : 0);
  const name = at === -1 ? withoutPeers : withoutPeers.slice(0, at);
  if (!isValidPackageName(name)) return undefined;
  if (at === -1) return { name };
  const versions = withoutPeers.slice(at + 1).split('||').map((v) => v.trim());
  // Only exact versions count; anything else (a URL, a range) is not something the policy can be said to cover.
  if (versions.some((v) => !/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/.test(v))) return undefined;
  return { name, versions };
}

/** The entries of a pnpm allowlist that scripts.allow does not cover (unparseable entries never are). */
export function uncoveredAllowances(builds: Covers, entries: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      out.push(String(JSON.stringify(entry)));
      continue;
    }
    const parsed = parseAllowance(entry);
    const covered = parsed !== undefined && (parsed.versions === undefined ? builds.covers(parsed.name) : parsed.versions.every((v) => builds.covers(parsed.name, v)));
    if (!covered) out.push(entry);
  }
  return out;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

const approveFix = (names: string[]) => `add ${names.map((n) => JSON.stringify(n)).join(', ')} to scripts.allow of portcullis.json if ${names.length === 1 ? 'it' : 'they'} may build`;

/** pnpm 10: the root package.json `pnpm` field, which pnpm merges into the install options after updateConfig. */
export function rootManifestWidening(builds: Covers, manifest: unknown, manifestDir: string): WideningSetting[] {
  const pnpm = record(record(manifest)?.pnpm);
  if (pnpm === undefined) return [];
  const out: WideningSetting[] = [];
  const file = `in ${join(manifestDir, 'package.json')}`;
  const widen = (key: string, allows: string[]) => {
    if (allows.length > 0) out.push({ place: file, setting: `pnpm.${key}`, allows, fix: `${approveFix(allows)}, then remove "pnpm.${key}" from package.json` });
  };
  if (pnpm.onlyBuiltDependencies !== undefined) {
    const list = pnpm.onlyBuiltDependencies;
    widen('onlyBuiltDependencies', Array.isArray(list) ? uncoveredAllowances(builds, list) : [String(JSON.stringify(list))]);
  }
  if (pnpm.allowBuilds !== undefined) {
    const allowed = record(pnpm.allowBuilds);
    widen('allowBuilds', allowed ? uncoveredAllowances(builds, Object.keys(allowed).filter((key) => allowed[key] === true)) : [String(JSON.stringify(pnpm.allowBuilds))]);
  }
  if (pnpm.onlyBuiltDependenciesFile !== undefined) {
    let list: unknown;
    try {
      list = typeof pnpm.onlyBuiltDependenciesFile === 'string' ? JSON.parse(readFileSync(join(manifestDir, pnpm.onlyBuiltDependenciesFile), 'utf8')) : undefined;
    } catch {
      list = undefined;
    }
    // Unreadable: pnpm would fail on it too; what it allows cannot be judged, so it is refused.
    widen('onlyBuiltDependenciesFile', Array.isArray(list) ? uncoveredAllowances(builds, list) : [`${String(pnpm.onlyBuiltDependenciesFile)} (not a readable JSON list)`]);
  }
  if (pnpm.neverBuiltDependencies !== undefined) {
    // A deny-list: everything not on it may build. Portcullis already denies what scripts.allow does not name.
    out.push({ place: file, setting: 'pnpm.neverBuiltDependencies', allows: ['every package not on the list (deny-list mode)'], fix: 'remove "pnpm.neverBuiltDependencies" from package.json: every package scripts.allow does not name is already denied' });
  }
  return out;
}

/**
 * pnpm 10 with `shared-workspace-lockfile=false` installs each workspace project on its own, applying that
 * project's `.npmrc` and `package.json` `pnpm` field after the hook (measured: `dangerously-allow-all-builds=true`
 * there ran a build). Which projects and files is pnpm's globbing; the whole mode is refused instead.
 */
export function perProjectWidening(config: Record<string, unknown>, major: number): WideningSetting[] {
  if (major > 10 || config.sharedWorkspaceLockfile !== false || typeof config.workspaceDir !== 'string') return [];
  return [
    {
      place: `for the workspace ${config.workspaceDir}`,
      setting: 'shared-workspace-lockfile=false',
      allows: ["whatever each project's own .npmrc and package.json \"pnpm\" field allow (pnpm 10 applies them after Portcullis' hook)"],
      fix: 'remove shared-workspace-lockfile=false (one lockfile for the whole workspace), or use pnpm 11 or later',
    },
  ];
}

/**
 * pnpm's command line as typed: pnpm 10 hands it over (`argv.original`), pnpm 11 runs the hooks in its own
 * process, pnpm 12 in a child Node process of the pnpm binary (its parent's `/proc/<pid>/cmdline`, Linux).
 * Undefined when it cannot be known.
 */
export function pnpmCommandLine(config: Record<string, unknown>): string[] | undefined {
  const original = record(config.argv)?.original;
  if (Array.isArray(original)) return original.filter((a): a is string => typeof a === 'string');
  if (!inPnpm12HookWorker()) return process.argv.slice(2);
  return pnpmAncestorCommandLine(process.ppid);
}

/** The command line of the nearest ancestor process that is pnpm (see pnpmAncestor). */
export function pnpmAncestorCommandLine(start: number, proc = '/proc'): string[] | undefined {
  return pnpmAncestor(start, proc)?.argv;
}

/** Command-line settings as `{key, value}`: `--config.allow-builds=…` → `allowBuilds` (camel case, `config.` dropped). */
function commandLineSettings(argv: readonly string[]): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  argv.forEach((arg, i) => {
    if (!arg.startsWith('--')) return;
    const eq = arg.indexOf('=');
    const raw = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)).replace(/^config\./, '');
    const next = argv[i + 1];
    const value = eq !== -1 ? arg.slice(eq + 1) : next !== undefined && !next.startsWith('-') ? next : '';
    out.push({ key: raw.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase()), value });
  });
  return out;
}

/**
 * Command-line settings that widen the builds after updateConfig: `--allow-build` (pnpm 10 and 11); and, since
 * pnpm 11 and 12 restore command-line settings after the hook, `--dangerously-allow-all-builds` and
 * `--config.allow-builds=<json>` / `--config.allow-builds.<name>=true` there.
 */
export function commandLineWidening(builds: Covers, argv: readonly string[] | undefined, major: number, incoming: Record<string, unknown>): WideningSetting[] {
  const out: WideningSetting[] = [];
  const place = 'on the command line';
  const settings = commandLineSettings(argv ?? []);
  // pnpm 12 ignores --allow-build (measured: nothing built).
  const allowBuild = major >= 12 ? [] : [...settings.filter((s) => s.key === 'allowBuild').map((s) => s.value), ...(Array.isArray(incoming.allowBuild) ? incoming.allowBuild : typeof incoming.allowBuild === 'string' ? [incoming.allowBuild] : [])];
  const uncovered = [...new Set(uncoveredAllowances(builds, allowBuild.filter((a) => a !== '')))];
  if (uncovered.length > 0) out.push({ place, setting: `--allow-build=${uncovered.join(',')}`, allows: uncovered, fix: `${approveFix(uncovered)}, and leave out --allow-build` });
  if (major < 11) return out;

  const allowAll = settings.some((s) => s.key === 'dangerouslyAllowAllBuilds' && s.value !== 'false');
  // Without the command line, a `true` that reached the hook cannot be told apart from one on it: fail closed.
  if (allowAll || (argv === undefined && incoming.dangerouslyAllowAllBuilds === true)) {
    out.push({ place: argv === undefined ? 'on the command line (or in a setting Portcullis cannot locate)' : place, setting: '--dangerously-allow-all-builds', allows: ['every package'], fix: 'leave out --dangerously-allow-all-builds; list the packages that may build in scripts.allow of portcullis.json' });
  }
  for (const { key, value } of settings) {
    let entries: string[];
    if (key === 'allowBuilds') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = undefined;
      }
      const allowed = record(parsed);
      // What pnpm makes of anything but a JSON object is not ours to guess: refused.
      entries = allowed ? uncoveredAllowances(builds, Object.keys(allowed).filter((name) => allowed[name] === true)) : [`${value} (not a JSON object)`];
    } else if (key.startsWith('allowBuilds.')) {
      entries = value === 'false' ? [] : uncoveredAllowances(builds, [key.slice('allowBuilds.'.length)]);
    } else continue;
    if (entries.length > 0) out.push({ place, setting: `--config.allow-builds`, allows: entries, fix: `${approveFix(entries)}, and leave out --config.allow-builds (pnpm applies command-line settings after Portcullis' hook)` });
  }
  return out;
}
