export { gatherEvidence, scriptEvidence, type GatherOptions, type Gathered } from './gather.js';
export { installedManifestReader, type InstalledManifest, type InstalledManifestReader } from './installed.js';
export { createDecider, decide, loadProject, loadRegistryConfig, runCheck, type CheckOptions, type CheckRun, type Decider, type Decision, type DecideOptions, type DecisionInputs, type Project } from './run.js';
export { approveScripts, describeApproval, type Approval } from './approve.js';
