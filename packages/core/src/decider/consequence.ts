/**
 * What the findings mean for an install: which stop it, which only mean "installed, scripts skipped", and
 * the exit code. One rule for every surface; pure.
 */
import { exitCodeFor } from '../evaluation/evaluate.js';
import type { Evidence } from '../evaluation/evidence.js';
import type { Finding } from '../finding.js';
import type { PackageNode } from '../model.js';
/** What the verdict is for. */
export type Purpose = 'install' | 'check';

/** Findings split by consequence. */
export interface Consequence {
  /** Stop before anything is installed: signatures, undecidable packages (and scripts when strict). */
  blocking: Finding[];
  /** Install anyway, without running these packages' install scripts. */
  skipped: Finding[];
  /** 0 when nothing blocks; else 1, or 3 if anything could not be decided. */
  exitCode: 0 | 1 | 3;
}

export interface ConsequenceOptions {
  /** An install skips what it may; a check (`portcullis check`, `yarn portcullis check`) reports every finding as a failure. */
  purpose: Purpose;
  /** Strict mode: a script the policy does not allow fails the install. */
  strict: boolean;
  /** Packages whose install scripts the package manager runs even when told not to: a disallowed script there blocks. */
  scriptsUnskippable?: ReadonlySet<string>;
}

/**
 * Splits findings. A package whose scripts are not allowed is installed with its scripts skipped — unless strict
 * mode is on, the package manager cannot skip them, or the verdict is for a check (which reports every finding
 * as a failure).
 */
export function consequenceOf(findings: readonly Finding[], options: ConsequenceOptions): Consequence {
  const skippable = (f: Finding) => f.code === 'SCRIPT_NOT_ALLOWED' && options.purpose === 'install' && !options.strict && !(f.id !== undefined && options.scriptsUnskippable?.has(f.id));
  const blocking = findings.filter((f) => !skippable(f));
  const skipped = findings.filter(skippable);
  return { blocking, skipped, exitCode: exitCodeFor(blocking) };
}

/** Ids of `packages` for which `predicate` holds. */
export function idsWhere(packages: readonly PackageNode[], predicate: ((pkg: PackageNode) => boolean) | undefined): Set<string> {
  return new Set(predicate === undefined ? [] : packages.filter(predicate).map((p) => p.id));
}

/**
 * Ids of the patched packages (`PackageNode.patches`) a package manager that builds patched packages without asking its
 * build allowlist (pnpm 10: it asks only for packages whose own files have install-time code) would build unasked: a
 * patch may give them install-time code (evidence.patches), and their own files have none. A disallowed script there
 * cannot be skipped.
 */
export function patchedBuiltUnasked(packages: readonly PackageNode[], evidence: Pick<Evidence, 'scripts' | 'patches'>): Set<string> {
  const out = new Set<string>();
  for (const pkg of packages) {
    const patch = evidence.patches?.get(pkg.id);
    if ((patch === undefined && (pkg.patches === undefined || pkg.patches.length === 0)) || patch?.mayAddScripts === false) continue;
    const own = evidence.scripts.get(pkg.id);
    if (own !== undefined ? !(own.hasInstallScript || own.bindingGyp) : pkg.hasInstallScript !== true) out.add(pkg.id);
  }
  return out;
}
