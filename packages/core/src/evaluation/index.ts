export { evaluate, exitCodeFor, isOwnCode } from './evaluate.js';
export { findingFor, type FindingDetail } from './messages.js';
export { INSTALL_SCRIPTS, type Evidence, type InstallScript, type ScriptEvidence, type SignatureEvidence } from './evidence.js';
export { approveCommand, gateOutcome, planBuilds, type BuildStep, type GateOutcome } from './build-plan.js';
