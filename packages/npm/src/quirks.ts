/**
 * What npm does that the wrapper relies on, one row per fact: the npm versions it was measured on and the
 * test that pins it. Orchestration asks these functions; it never compares versions itself.
 */
import { preparedWhenInstalled, type PackageNode } from '@portcullis/core';
import { versionAtLeast } from './npm-process.js';

/** One measured fact about npm. */
export interface NpmQuirk {
  fact: string;
  /** npm versions measured (the releases packages/e2e pins). */
  versions: string;
  /** The test that fails when the fact stops holding. */
  pinnedBy: string;
}

export const NPM_QUIRKS = {
  rootPreinstallFirst: {
    fact: 'npm 12 runs the root `preinstall` before it installs anything (ci and install); npm 10 and 11 after the dependencies are installed',
    versions: '10.9.9, 11.21.2: after; 12.2.1: before',
    pinnedBy: 'packages/e2e/test/npm.test.ts (root preinstall/postinstall/prepare)',
  },
  gitPrepareIgnoresIgnoreScripts: {
    fact: "npm 10 runs a git dependency's `prepare` while it installs it, even with --ignore-scripts (its pacote ignores the setting there)",
    versions: '10.9.9: runs it; 11.21.2, 12.2.1: does not',
    pinnedBy: 'packages/e2e/test/bypass-sources.test.ts',
  },
  gitCloneInstalledDespiteIgnoreScripts: {
    fact:
      "npm 10 and 11 install the clone of a git dependency that has a prepare, build, prepack or install script (or workspaces) with a nested `npm install` in the clone, " +
      "whatever --ignore-scripts says, and that npm reads the clone's own .npmrc: its `node-options` becomes NODE_OPTIONS of every Node process it starts, so the repository's code runs without a script. " +
      "npm 12's pacote skips that preparation under --ignore-scripts",
    versions: '10.9.9, 11.21.2: the clone\'s code ran (node-options, a git devDependency fetched by one more nested npm); 12.2.3: nothing ran',
    pinnedBy: 'packages/e2e/test/bypass-npm-git-clone-config.test.ts',
  },
  dirPrepareIgnoresIgnoreScripts: {
    fact: "npm 10 runs the `prepare` of a `file:` folder it copies rather than links (`install-links=true`: pacote's DirFetcher packs it), even with --ignore-scripts",
    versions: '10.9.9: runs it; 11.21.2, 12.2.3: does not',
    pinnedBy: 'packages/e2e/test/bypass-npm-install-links.test.ts',
  },
  localPrefix: {
    fact:
      "npm's project root (@npmcli/config loadLocalPrefix): `--prefix`/`-C` on the command line (resolved against the working directory; npm_config_prefix in the " +
      'environment does not count, it moves only the global prefix); else the nearest folder upwards with a package.json file or a node_modules folder (the working ' +
      'directory when none); then, unless `--workspaces=false`/`--no-workspaces`/`--workspaces false` is on the command line or the command is global, the first ' +
      "folder further up whose package.json `workspaces` globs (@npmcli/map-workspaces) match that folder becomes the root, and the folder becomes npm's `workspace` filter",
    versions: '10.9.9, 11.21.2, 12.2.1: identical code and behaviour',
    pinnedBy: 'packages/e2e/test/bypass-npm-workspaces.test.ts',
  },
  workspacesConfigNotCli: {
    fact: '`workspaces=false` from the environment or an .npmrc does not stop the workspace-root search (it reads the command line only); npm then fails with "Cannot use --no-workspaces and --workspace at the same time"',
    versions: '10.9.9, 11.21.2, 12.2.1',
    pinnedBy: 'measured by hand (docs/npm.md); the wrapper asks npm itself whenever a workspace root is possible',
  },
  memberNpmrcIgnored: {
    fact: "from a member npm reads the workspace root's .npmrc as the project config and ignores the member's (it warns `ignoring workspace config at <member>/.npmrc`)",
    versions: '10.9.9, 11.21.2, 12.2.1',
    pinnedBy: 'measured by hand (docs/npm.md); the wrapper reads the registry settings from the root it found',
  },
  memberInstallsRootLockfile: {
    fact: '`npm ci`/`npm install` in a member install the root lockfile into the root node_modules, filtered to that member; `install <pkg>` writes the member package.json and the root lockfile',
    versions: '10.9.9, 11.21.2, 12.2.1',
    pinnedBy: 'packages/e2e/test/bypass-npm-workspaces.test.ts',
  },
  lockOnlyWritesHiddenLockfile: {
    fact: '`npm install <pkg> --package-lock-only` also rewrites node_modules/.package-lock.json (npm\'s hidden lockfile) to list the new package, which is not installed',
    versions: '10.9.9, 11.21.2, 12.2.1',
    pinnedBy: 'packages/e2e/test/bypass-npm-workspaces.test.ts (install <pkg> in a member: hidden lockfile byte-identical)',
  },
  booleanTakesTrueFalse: {
    fact: "npm's option parser (nopt) gives a boolean option a following `true` or `false` word as its value (`--workspaces false ci` is `ci` with workspaces off)",
    versions: '10.9.9, 11.21.2, 12.2.1',
    pinnedBy: 'packages/e2e/test/bypass-npm-workspaces.test.ts (--workspaces false install)',
  },
  shrinkwrapIgnoredFrom12: {
    fact: 'npm 10 and 11 install from npm-shrinkwrap.json when there is one (package-lock.json beside it is ignored); npm 12 reads and writes package-lock.json only and ignores npm-shrinkwrap.json',
    versions: '10.9.9, 11.21.2: npm-shrinkwrap.json; 12.2.3: package-lock.json',
    pinnedBy: 'packages/e2e/test/npm.test.ts (npm-shrinkwrap.json beside package-lock.json)',
  },
  arboristResolvesThenInstalls: {
    fact:
      "`npm install` loads @npmcli/arborist from npm's own node_modules (after lib/cli.js turned the compile cache on) and installs with `new Arborist(…).reify()`, which resolves " +
      "with `this.buildIdealTree()` and starts installing with `this[Symbol.for('diffTrees')]()`; the lockfile it writes at the end is `idealTree.meta.toString({ format })`, " +
      "format from `formatPackageLock` and the root package.json's indent (reify's saveIdealTree). ask.ts wraps those two methods; an Arborist without them makes the wrapper run npm twice",
    versions: '10.9.9, 11.21.2, 12.2.3',
    pinnedBy: 'packages/e2e/test/npm.test.ts (a fresh `install` is one npm run); packages/npm/src/ask.test.ts (the protocol)',
  },
  commandWords: {
    fact:
      "npm reads its command word with lib/utils/cmd-list.js `deref`: camelCase to kebab-case, an exact command, an alias, else any unique prefix of the commands and alias " +
      'names, followed through the aliases; the lists differ by major (commands.ts holds each as data)',
    versions: '10.9.9, 11.21.2, 12.2.3',
    pinnedBy: 'packages/e2e/test/npm-command-words.test.ts',
  },
  rebuildBuildsBundledCopies: {
    fact:
      "`npm rebuild <folder>` also builds every copy bundled inside the selected package (`rebuild-bundle`, on by default: arborist's rebuild #buildQueues walks the inBundle children); " +
      '`--rebuild-bundle=false` builds the selected copy alone',
    versions: '10.9.9, 11.21.2, 12.2.3',
    pinnedBy: 'packages/e2e/test/bypass-bundled-builds.test.ts',
  },
  rebuildSelectsBundledCopy: {
    fact: '`npm rebuild <folder>` selects a bundled copy\'s own folder on npm 10; from npm 11 its isNode never selects a bundled copy (the command builds nothing and exits 0)',
    versions: '10.9.9: selects it; 11.21.2, 12.2.3: never',
    pinnedBy: 'packages/e2e/test/bypass-bundled-builds.test.ts (an allowed bundled copy runs as its own step)',
  },
} satisfies Record<string, NpmQuirk>;

/**
 * Whether `npm rebuild <folder>` builds a bundled copy's folder (rebuildSelectsBundledCopy): npm 10 only. Any other npm
 * runs the copy's scripts with `npm run` in its folder instead.
 */
export function rebuildSelectsBundledCopy(version: string | undefined): boolean {
  return versionAtLeast(version, 10) && !versionAtLeast(version, 11);
}

/** npm 12 runs the root `preinstall` before it installs anything; older npm after. */
export function rootPreinstallFirst(version: string | undefined): boolean {
  return versionAtLeast(version, 12);
}

/**
 * Whether this npm installs from npm-shrinkwrap.json when there is one: npm 10 and 11 do, npm 12 reads package-lock.json
 * only. Undefined for an npm whose version could not be read: the wrapper cannot tell which file it installs.
 */
export function readsShrinkwrap(version: string | undefined): boolean | undefined {
  if (version === undefined || !/^\d+\.\d+/.test(version)) return undefined;
  return !versionAtLeast(version, 12);
}

/**
 * Whether this npm's Arborist is the one ask.ts wraps (`arboristResolvesThenInstalls`): npm 10, 11 and 12, as measured.
 * Any other npm (an unknown version, a later major) resolves lock-only first: an npm that installed without asking
 * would have fetched what was never decided.
 */
export function asksBeforeInstalling(version: string | undefined): boolean {
  return versionAtLeast(version, 10) && !versionAtLeast(version, 13);
}

/** npm 10 runs the `prepare` of a package it packs to install it (a git dependency, a folder it copies) whatever --ignore-scripts says. */
export function gitPrepareRunsDuringInstall(version: string | undefined): boolean {
  return !versionAtLeast(version, 11);
}

/** npm 10 and 11 install a git dependency's clone with a nested npm under the clone's own .npmrc whatever --ignore-scripts says. */
export function gitCloneInstalledDuringInstall(version: string | undefined): boolean {
  return !versionAtLeast(version, 12);
}

/** Whether this npm runs `pkg`'s install-time code even with --ignore-scripts: then a script the policy does not allow must block. */
export function scriptsRunDespiteIgnoreScripts(version: string | undefined, pkg: Pick<PackageNode, 'source' | 'packedOnInstall'>): boolean {
  if (pkg.source === 'git') return gitPrepareRunsDuringInstall(version) || gitCloneInstalledDuringInstall(version);
  return preparedWhenInstalled(pkg) && gitPrepareRunsDuringInstall(version);
}
