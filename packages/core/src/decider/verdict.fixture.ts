/**
 * A Verdict with every consequence already decided, for the surfaces' unit tests (they test translation and
 * refusal, not the gate). Defaults are consistent with what the gate produces: `findings` = blocking + skipped,
 * `blocked` from the blocking findings, exit 1 when anything blocks. Methods a test does not give throw.
 */
import type { Verdict } from './gate.js';

export function fakeVerdict(decided: Partial<Verdict> = {}): Verdict {
  const blocking = decided.blocking ?? [];
  const skipped = decided.skipped ?? [];
  const unused = (what: string) => () => {
    throw new Error(`fakeVerdict: ${what} was not given to this fake`);
  };
  return {
    packages: [],
    findings: [...blocking, ...skipped],
    blocked: new Set(blocking.map((f) => `${f.package}@${f.version}`)),
    exitCode: blocking.length > 0 ? 1 : 0,
    notices: [],
    strippedRegistries: [],
    skippedNotice: undefined,
    evidence: { scripts: new Map(), signatures: new Map(), unavailable: new Map() },
    mayBuild: unused('mayBuild'),
    signedIntegrity: unused('signedIntegrity'),
    buildPlan: unused('buildPlan'),
    report: unused('report'),
    ...decided,
    blocking,
    skipped,
  };
}
