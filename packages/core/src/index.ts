/** @portcullis/core: the engine every Portcullis surface shares. */
export * from './model.js';
export * from './finding.js';
export { PortcullisError, type PortcullisErrorCode } from './errors.js';
export { writeFileAtomic } from './atomic-write.js';
export * from './policy/index.js';
export { approvalsFor } from './policy/approvals.js';
export * from './evaluation/index.js';
export * from './lockfile/index.js';
export * from './registry/index.js';
export * from './signatures/index.js';
export * from './report/index.js';
export * from './check/index.js';
export { isValidPackageName, registryPackageOf } from './package-name.js';
export { builtDependencies, registerYarnPlugin, type YarnPluginEntry } from './setup/yarn.js';
export { approvalsFromPnpmSettings, type ImportedApprovals } from './setup/pnpm.js';
