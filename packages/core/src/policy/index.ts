export { findPolicyFile, loadPolicy, loadProjectPolicy, parsePolicy, POLICY_FILE } from './load.js';
export { createSpecMatcher, parsePackageSpec, specMatches } from './spec.js';
export { defaultPolicy, NPM_REGISTRY, policyFromJson } from './validate.js';
export { parseJsonWithLocations, JsonSyntaxError, type JsonNode } from './json.js';
export type { PackageSpec, Policy, RegistryKey, RegistryTrust } from './types.js';
export { addScriptApprovals, starterPolicyText } from './edit.js';
export { rangedScriptNames, scriptAllowlist, scriptDenylist, scriptsAllowed } from './allowlist.js';
