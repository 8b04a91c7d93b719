/**
 * What Yarn does that the plugin relies on, one row per fact: the Yarn versions it was measured on and the test that
 * pins it. The gate asks these functions; it never reads Yarn's internals for them itself.
 */
import type { PackageNode } from '@portcullis/core';
import type { Locator } from '@yarnpkg/core';
import { gitUtils } from '@yarnpkg/plugin-git';

/** One measured fact about Yarn. */
export interface YarnQuirk {
  fact: string;
  /** Yarn versions measured (the releases packages/e2e pins). */
  versions: string;
  /** The test that fails when the fact stops holding. */
  pinnedBy: string;
}

export const YARN_QUIRKS = {
  gitPackedWhileResolving: {
    fact:
      "Yarn's git resolver fetches a git dependency it resolves anew (GitResolver.resolve → the fetcher of the resolution, `configuration.makeFetcher()`): " +
      'it clones the repository and runs `yarn pack --install-if-needed` in the clone (prepack, postpack, the clone\'s own postinstall, and an install of ' +
      "the clone's dependencies with the clone's own .yarnrc.yml, without the plugin), whatever enableScripts says, before the resolution ends",
    versions: '4.0.2; 4.14.1 and 4.18.1 once approvedGitRepositories covers the repository (otherwise they refuse it themselves, YN0080)',
    pinnedBy: 'packages/e2e/test/bypass-yarn-resolution-fetches.test.ts (Y1)',
  },
  workspaceScriptsWrapped: {
    fact:
      "a workspace's own lifecycle scripts (postinstall, …) run through wrapScriptExecution with its workspace: locator whatever enableScripts says, " +
      'a workspace folder may be a symlink (into node_modules, out of the project: Yarn globs through it), and yarn.lock records a workspace at version 0.0.0-use.local, not its manifest\'s',
    versions: '4.0.2, 4.18.1',
    pinnedBy: 'packages/e2e/test/bypass-yarn-workspace-links.test.ts',
  },
  unpluggedReused: {
    fact:
      "the PnP linker unpacks a package it must build (or dependenciesMeta unplugs) into pnpUnpluggedFolder (.yarn/unplugged) and uses a folder there holding " +
      "its .ready file as it is; into one without, it copies the package's files without overwriting what is there: a committed folder's files are what is " +
      'installed and what an allowed build runs (no checksum covers them)',
    versions: '4.0.2, 4.18.1',
    pinnedBy: 'packages/e2e/test/bypass-yarn-unplugged.test.ts',
  },
  gitPackedInFetchStep: {
    fact: "a git dependency the lockfile already resolves is packed the same way in the fetch step (after the resolution, on a cache miss): its scripts run whatever enableScripts or dependenciesMeta say",
    versions: '4.18.1',
    pinnedBy: 'packages/e2e/test/bypass-yarn-resolution-fetches.test.ts (Y1, --immutable)',
  },
  tarballUrlDownloadedWhileResolving: {
    fact:
      "a dependency written as an http(s) tarball URL is downloaded while Yarn resolves it (its tarball resolver reads the manifest) and stored in Yarn's cache; " +
      'the fetch step then finds it there and downloads nothing',
    versions: '4.0.2, 4.18.1',
    pinnedBy: 'packages/e2e/test/bypass-yarn-resolution-fetches.test.ts (Y2)',
  },
  execGeneratedWhenFetched: {
    fact:
      "an `exec:` dependency's generator script runs when Yarn fetches it: while it resolves a fresh one (ExecResolver fetches it to read its manifest, " +
      'after fetching the package that declares it to read the script), in the fetch step otherwise. Yarn 4.0.2 accepts one declared by a registry ' +
      'package; 4.14.1 and 4.18.1 refuse that themselves (YN0057)',
    versions: '4.0.2 (runs), 4.14.1 and 4.18.1 (refuse a dependency\'s own exec:)',
    pinnedBy: 'packages/e2e/test/bypass-yarn-refetches.test.ts (R3)',
  },
  lockfileRefreshedRefetches: {
    fact:
      'a lockfile Yarn refreshes (`--refresh-lockfile`, `enableHardenedMode`, an older `__metadata.version`) is resolved again: the lockfile ' +
      "resolver supports none of its entries, so a tarball-URL dependency is downloaded again while resolving (or taken from Yarn's cache)",
    versions: '4.0.2, 4.18.1',
    pinnedBy: 'packages/e2e/test/bypass-yarn-refetches.test.ts (R1)',
  },
} satisfies Record<string, YarnQuirk>;

/**
 * Whether fetching this locator runs code (gitPackedWhileResolving, execGeneratedWhenFetched): Yarn's own test for a git
 * reference, or an `exec:` generator (a `patch:` of either fetches it in turn, through the same guarded fetcher).
 */
export function fetchRunsCode(locator: Pick<Locator, 'reference'>): boolean {
  return gitUtils.isGitUrl(locator.reference) || locator.reference.startsWith('exec:');
}

/**
 * Whether Yarn runs code of this package when it fetches it, whatever it is told (gitPackedInFetchStep,
 * execGeneratedWhenFetched): then a script the policy does not allow must block. Core's source, and the reference
 * itself by Yarn's own test, so that a spelling core would read otherwise still counts.
 */
export function scriptsRunWhenFetched(pkg: Pick<PackageNode, 'source' | 'resolved'>): boolean {
  return pkg.source === 'git' || (pkg.resolved !== undefined && fetchRunsCode({ reference: pkg.resolved }));
}

/** The version yarn.lock gives a workspace (YARN_QUIRKS.workspaceScriptsWrapped): what a finding about one names. */
export const WORKSPACE_LOCKFILE_VERSION = '0.0.0-use.local';
