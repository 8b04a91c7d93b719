/**
 * Portcullis for Yarn Berry: `portcullis.json` decides, on every install (fresh, `--immutable`, `yarn add`,
 * `yarn up`), which packages are trusted (registry signatures) and which may run install-time code.
 */
import { Project, SettingsType, type Hooks, type Plugin } from '@yarnpkg/core';
import PortcullisApproveCommand from './commands/approve.js';
import PortcullisCheckCommand from './commands/check.js';
import { guardProjects, prefetchDependency, signedTarball, skipBlockedScripts } from './gate.js';
import { keepForGate } from './resolution-packuments.js';
import { resolutionDownloads } from './resolution-fetches.js';
import { tarballCheck } from './tarballs.js';

declare module '@yarnpkg/core' {
  interface ConfigurationValueMap {
    portcullisStrict: boolean;
  }
}

// Resolution → decide before fetch (signatures abort); link → `built` from the policy (scripts and node-gyp).
guardProjects(Project);
const checkTarball = tarballCheck(signedTarball);

const plugin: Plugin<Hooks> = {
  configuration: {
    portcullisStrict: {
      description: 'If true, an install fails (before fetching anything) when portcullis.json blocks a dependency\'s install scripts, instead of skipping them with a warning',
      type: SettingsType.BOOLEAN,
      default: false,
    },
  },
  commands: [PortcullisCheckCommand, PortcullisApproveCommand],
  hooks: {
    // Metadata for dependencies Yarn resolves anew is fetched while Yarn resolves, not after.
    reduceDependency: prefetchDependency,
    // Every tarball download of a verified registry package (by the exact URL Yarn fetches) must carry the signed integrity;
    // a tarball Yarn downloads while it resolves (no integrity known yet) is hashed, to be compared after the verdict;
    // a packument Yarn fetches while it resolves is handed to the gate, which would otherwise fetch it again.
    wrapNetworkRequest: async (executor, extra) => keepForGate(resolutionDownloads(extra.configuration).observe(String(extra.target), await checkTarball(executor, extra)), extra),
    // Dependencies' lifecycle scripts run only when the policy allows them.
    wrapScriptExecution: skipBlockedScripts,
  },
};

export default plugin;
