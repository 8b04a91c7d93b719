import type { CheckResult } from './result.js';
import { summarize } from './result.js';

/** The JSON report: `{"findings": [...]}` as the product contract says, plus summary counts. */
export function formatJson(result: CheckResult): string {
  const findings = result.findings.map(({ package: name, version, rule, code, message, fix, registry }) => ({
    package: name,
    version,
    rule,
    code,
    message,
    fix,
    ...(registry !== undefined ? { registry } : {}),
  }));
  return `${JSON.stringify(
    {
      findings,
      summary: summarize(result),
      exitCode: result.exitCode,
      lockfile: result.lockfile,
      policy: result.policy,
      notices: result.notices,
    },
    null,
    2,
  )}\n`;
}
