/**
 * What pnpm does that the pnpmfile relies on, one row per fact: the versions measured and the test that pins
 * it. The hooks ask these functions; they never compare versions themselves. (Build settings pnpm applies after
 * updateConfig have their own table in settings.ts.)
 */

export interface PnpmQuirk {
  fact: string;
  versions: string;
  pinnedBy: string;
}

export const PNPM_QUIRKS = {
  onlyBuiltDependenciesMerged: {
    fact: 'pnpm 10 merges allowBuilds into onlyBuiltDependencies after updateConfig, and turns dangerouslyAllowAllBuilds into an empty neverBuiltDependencies',
    versions: '10.34.8; 11 and 12 read allowBuilds only',
    pinnedBy: 'packages/e2e/test/bypass-pnpm-config.test.ts',
  },
  manifestsCarrySignatures: {
    fact: "readPackage receives a dependency's registry manifest with dist.signatures on pnpm 10 and 11; pnpm 12 drops them (learnt from the first manifest at run time)",
    versions: '10.34.8, 11.x: carried; 12.21, 12.23, 12.24: dropped',
    pinnedBy: 'packages/e2e/test/pnpm.test.ts (fresh installs on every version)',
  },
  hooksInFreshWorker: {
    fact: 'pnpm 12 may run preResolution, readPackage and afterAllResolved in a worker process that never ran updateConfig: every hook can rebuild the project from disk',
    versions: '12.21, 12.23, 12.24',
    pinnedBy: 'packages/e2e/test/pnpm.test.ts, bypass-pnpm-config.test.ts',
  },
  commandLineAfterHook: {
    fact: 'pnpm 11 and 12 restore command-line settings after updateConfig; pnpm 12 hands the hook no argv (read from the nearest pnpm ancestor process)',
    versions: '11.x, 12.21, 12.23, 12.24',
    pinnedBy: 'packages/e2e/test/bypass-pnpm-config.test.ts',
  },
  afterAllResolvedBeforeLinking: {
    fact: 'pnpm 10 and 11 run afterAllResolved, with the whole resolved graph, before anything is linked; pnpm 12 has linked by then. pnpm 10 writes its metadata cache behind the resolution (a third of it there at readPackage, all but the last few files at afterAllResolved)',
    versions: '10.34.8, 11.28.10: before linking; 12.21, 12.23, 12.24: after',
    pinnedBy: 'packages/e2e/test/provenance.test.ts (fresh resolution and `add` of a downgrade, nothing installed or run, on every version)',
  },
  hooksAfterUpdateConfig: {
    fact: "pnpm 10 calls preResolution (and readPackage with the project's own manifest) on every install from a lockfile, installed already or not; pnpm 11 only when there is something to install. An install with nothing to do on pnpm 11, and a command that installs nothing (`run`, `exec`) on either, calls updateConfig alone",
    versions: '10.34.8; 11.28.10',
    pinnedBy: "packages/e2e/test/pnpm.test.ts (updateConfig replayed in pnpm's own process)",
  },
  patchedBuiltUnasked: {
    fact: "pnpm 10 builds every patched package (patchedDependencies) and asks its allowBuilds list only for a package whose own files have install-time code (requiresBuild): one whose patch adds a postinstall to its package.json runs it, whatever allowBuilds says. pnpm 11 and 12 ask allowBuilds for patched packages too (denied: applied, not built)",
    versions: '10.34.8: built unasked; 11.28.10, 12.24.0: asked',
    pinnedBy: 'packages/e2e/test/bypass-pnpm-patches.test.ts',
  },
  storeDirTildeLiteral: {
    fact: "pnpm 12 hands updateConfig `storeDir: ~/.pnpm-store` as written and uses <project>/~/.pnpm-store (no home expansion); pnpm 10 and 11 expand `~/` to the home folder before the hook sees it. Core's pnpmStoreRefusal judges both readings whatever the version (check cannot know it)",
    versions: '12.24.0: literal; 10.34.8, 11.28.10: expanded',
    pinnedBy: 'packages/e2e/test/bypass-pnpm-store.test.ts (storeDir: ~/.pnpm-store), packages/pnpm/src/config.test.ts',
  },
  virtualStoreReused: {
    fact: "pnpm links the package folders it finds in a virtual store folder without importing them from its store again: with enableGlobalVirtualStore (11, 12: 'Already up to date', planted files linked) and, on pnpm 12, for any virtualStoreDir — node_modules/.pnpm included (an allowed package's planted postinstall ran). pnpm 10 imported again. updateConfig is handed virtualStoreDir and enableGlobalVirtualStore as written (12 always hands enableGlobalVirtualStore)",
    versions: '11.28.10, 12.24.0 (global virtual store); 12.24.0 (any virtualStoreDir); 10.34.8: imported again',
    pinnedBy: 'packages/e2e/test/bypass-pnpm-virtual-store.test.ts',
  },
  fetchSeenByUpdateConfigAlone: {
    fact: "pnpm 12 runs updateConfig for `pnpm fetch` and no hook after it that sees the lockfile (no preResolution, readPackage or afterAllResolved), then links every package of the lockfile into its virtual store and builds those allowBuilds allows; pnpm 10 and 11 hand the lockfile to preResolution",
    versions: '12.24.0: updateConfig alone; 10.34.8, 11.28.10: preResolution',
    pinnedBy: 'packages/e2e/test/bypass-pnpm-fetch.test.ts',
  },
} satisfies Record<string, PnpmQuirk>;

/** pnpm's major version, from the user agent it sends (`pnpm/10.34.8 npm/? node/…`); 0 when unknown. */
export function pnpmMajor(config: Record<string, unknown>): number {
  const match = typeof config.userAgent === 'string' ? /^pnpm\/(\d+)\./.exec(config.userAgent) : null;
  return match ? Number(match[1]) : 0;
}

/** pnpm 10 merges allowBuilds into onlyBuiltDependencies after the hook (so the user's list must be emptied). */
export function mergesOnlyBuiltDependencies(major: number): boolean {
  return major <= 10;
}

/** pnpm 10 builds a patched package without asking allowBuilds when its own files run nothing (core: `patchedBuildsUnasked`). */
export function buildsPatchedUnasked(major: number): boolean {
  return major === 10;
}

/**
 * Whether afterAllResolved judges the whole graph before pnpm links anything (pnpm 10 and 11): then readPackage may leave
 * it what pnpm has not cached yet. Only for the versions measured: an unknown version (0) never defers.
 */
export function wholeGraphJudgedBeforeLinking(major: number): boolean {
  return major === 10 || major === 11;
}

/** Whether, for `pnpm fetch`, updateConfig is the only hook that can judge the lockfile pnpm links and builds (pnpm 12). */
export function fetchSeenByUpdateConfigAlone(major: number): boolean {
  return major >= 12;
}

/** Commands that install from the lockfile (pnpm with no command installs too). */
const INSTALLING_COMMANDS = new Set(['install', 'i', 'ci', 'add', 'update', 'up', 'upgrade', 'dedupe', 'remove', 'rm', 'uninstall', 'un', 'prune', 'rebuild', 'rb', 'link', 'ln', 'unlink', 'import', 'fetch']);

/**
 * Whether pnpm, running in its own process (10, 11), calls another hook after updateConfig for the command line `argv`
 * (its arguments after the script) whatever the project's state: pnpm 10 for every install. A cost rule only (the
 * loader then loads the engine at once instead of answering updateConfig from a record first): a hook called after a
 * replayed answer loads the engine all the same.
 */
export function hooksFollowUpdateConfig(major: number, argv: readonly string[]): boolean {
  if (major !== 10) return false;
  const command = argv.find((arg) => !arg.startsWith('-'));
  return command === undefined || INSTALLING_COMMANDS.has(command);
}
