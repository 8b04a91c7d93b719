import type { Finding } from '../finding.js';
import type { LockfileKind } from '../model.js';

/** What a check produced, ready for any report format. */
export interface CheckResult {
  findings: Finding[];
  exitCode: 0 | 1 | 3;
  /** Number of packages evaluated (own code included). */
  packages: number;
  lockfile: { kind: LockfileKind; path: string };
  /** The policy file that applied, or null for the defaults. */
  policy: string | null;
  /** Plain-language summaries that stand above single findings (e.g. a mirror that strips signatures). */
  notices: string[];
  /** Registries that served no signatures at all; their UNSIGNED findings are summarized under one notice. */
  strippedRegistries?: string[];
}

/** Counts for reports: blocked packages, by code and by rule. */
export function summarize(result: CheckResult): { packages: number; findings: number; blocked: number; byCode: Record<string, number>; byRule: Record<string, number> } {
  const byCode: Record<string, number> = {};
  const byRule: Record<string, number> = {};
  const blocked = new Set<string>();
  for (const f of result.findings) {
    byCode[f.code] = (byCode[f.code] ?? 0) + 1;
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    blocked.add(`${f.package}@${f.version}`);
  }
  return { packages: result.packages, findings: result.findings.length, blocked: blocked.size, byCode, byRule };
}
