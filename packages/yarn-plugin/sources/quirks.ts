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
} satisfies Record<string, YarnQuirk>;

/** Whether fetching this locator runs the package's own code (gitPackedWhileResolving): Yarn's own test for a git reference. */
export function fetchRunsCode(locator: Pick<Locator, 'reference'>): boolean {
  return gitUtils.isGitUrl(locator.reference);
}

/** Whether Yarn runs this package's scripts when it fetches it, whatever it is told (gitPackedInFetchStep): then a script the policy does not allow must block. */
export function scriptsRunWhenFetched(pkg: Pick<PackageNode, 'source'>): boolean {
  return pkg.source === 'git';
}
