/**
 * @portcullis/core — the public face: what the surfaces (CLI, pnpmfile, Yarn plugin, npm wrapper) use. Everything
 * else is internal; tests and benchmarks reach it through `@portcullis/core/internal`. Adapters translate their
 * package manager's structures into PackageNodes, judge them through a Gate, and translate the Verdict into
 * their package manager's native refusal.
 */

// The gate: one verdict for every surface.
export { openCachedGate, openGate, type BeforeFetchVerdict, type BuildAllowance, type BuildCandidate, type Gate, type GateOptions, type InstalledCopies, type InstalledVerdict, type JudgeInputs, type LocalInputs, type LockfileInputs, type LockfileVerdict, type Verdict } from './decider/gate.js';
export type { SignatureVerification } from './decider/gather.js';
export { digestOf, type SignedPackage } from './decider/remembered.js';
export { OpenedCacheFiles, pnpmCached, pnpmCachedMetadata } from './layouts/pnpm-metadata-cache.js';
export { npmCached } from './layouts/npm-metadata-cache.js';
export { keptCacheTrusted } from './layouts/kept-metadata.js';
export { pnpmStoreRefusal, type PnpmStoreKey, type PnpmStoreOptions, type PnpmStoreRefusal, type PnpmStoreSetting } from './layouts/pnpm-store.js';
export { unpackedCopies, type UnpackedCopies } from './layouts/unpacked-copies.js';
export { YARN_UNPLUGGED_ENTRY } from './registry/yarnrc.js';
export { strictScripts } from './decider/strictness.js';
export type { BuildStep } from './evaluation/build-plan.js';

// The package model and findings.
export { INSTALL_SCRIPTS, isOwnCode, preparedWhenInstalled, type Lockfile, type LockfileKind, type PackageNode, type SourceLocation } from './model.js';
export type { Finding, FindingCode, Rule } from './finding.js';
export { PortcullisError, type PortcullisErrorCode } from './errors.js';

// Translating package-manager input: lockfiles, installed files, package names.
export { readNpmLockfile } from './lockfile/npm.js';
export { MAX_LOCKFILE_BYTES } from './limits.js';
export { pnpmLockfilePackageKeys, readPnpmLockfile } from './lockfile/pnpm.js';
export { readYarnLocator, readYarnLockfileData } from './lockfile/yarn.js';
export { installedManifestReader, type InstalledFiles, type InstalledManifestReader } from './layouts/installed.js';
export { isValidPackageName, registryPackageOf } from './package-name.js';
export { packumentVersionFromJson, type PackumentVersion } from './registry/packument.js';
export { checkTarballDigests, checkTarballIntegrity, tarballDigests, type TarballDigests } from './signatures/tarball.js';

// A registry that vets and signs (the Verdaccio plugin): its signing key and the keys it publishes.
export { createRegistrySigner, SigningKeyError, type RegistrySignature, type RegistrySigner } from './signatures/signer.js';
export { keyIdOf, parseP256PublicKey } from './signatures/keyid.js';
export type { RegistryKey } from './model.js';

// Registry settings, the way each package manager reads them.
export { createRegistryConfig, type RegistryConfig } from './registry/config.js';
export type { RegistryFetch, RegistryResponse } from './registry/client.js';
export { loadNpmConfig, loadNpmSettings, npmCacache, registryConfigFromNpmrc } from './registry/npmrc.js';
export { normalizeRegistryUrl, NPM_REGISTRY_URL, packumentUrl } from './registry-url.js';

// Rendering a verdict on a surface.
export { approveCommand, findingsHeadline, formatFindingLines, skippedNotice, type Surface } from './report/notices.js';
export { formatText } from './report/text.js';
export { formatJson } from './report/json.js';
export { formatSarif } from './report/sarif.js';
export { formatGithubCommands, formatGithubSummary } from './report/github.js';
export type { CheckResult } from './report/result.js';

// Commands: check, explain, approve.
export { checkReport, runCheck, type CheckOptions, type CheckReport, type CheckRun } from './decider/check.js';
export { keptInputs, pnpmKeptInputs, pnpmKeptReleaseLine } from './decider/kept-inputs.js';
export { explainPackage, formatExplanationJson, formatExplanationText, type Explanation, type PolicyLine } from './decider/explain.js';
export { approveCooldown, approvePublishers, approveScripts, describeApproval, describeCooldownApproval, describePublisherApproval, type Approval, type CooldownApproval, type PublisherApproval } from './decider/approve.js';
export { approveReviewed, describeReviewed, formatReview, reviewBlocked, reviewCommands, APPROVE_FORMS, type ApprovalReview, type ApproveForm, type ReviewedApproval, type ReviewEntry } from './decider/review.js';

// Setting a project up (`portcullis init`).
export { findPolicyFile, policyFileLookups, POLICY_FILE } from './policy/load.js';

// Reading a policy document (a repository's portcullis.json, or an organisation policy package's; the registry plugin too).
export { parsePolicy as parsePolicyDocument } from './policy/load.js';
export type { PolicyReadOptions, PolicyRole } from './policy/validate.js';
export type { Policy, PolicyExtends, DelegableKey, Delegation } from './policy/types.js';
export { inheritPolicy } from './policy/inherit.js';
export { parsePackageSpec } from './policy/spec.js';
export { starterPolicyText } from './policy/edit.js';
export { approvalsFromPnpmSettings, pnpmGlobalVirtualStore, pnpmStoreSettings, pnpmWorkspaceSettings, type ImportedApprovals } from './setup/pnpm.js';
export { builtDependencies, registerYarnPlugin, type YarnPluginEntry } from './setup/yarn.js';
export { detectPackageManagers, projectFiles, type DetectedManager, type Detection, type ManagerName, type ProjectFiles } from './setup/detect.js';
export { findAllowlists, importAllowScripts, lockfilePackages, pinImported, writeImportedApprovals, type FoundAllowlists, type ImportedEntry, type ImportWrite } from './setup/allowlists.js';
export { writeFileAtomic } from './atomic-write.js';
export { defaultCacheDir } from './cache/dirs.js';
