/** SARIF 2.1.0, for code-scanning dashboards: one rule per finding code, results located in the lockfile. */
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { FINDING_CODES, type FindingCode } from '../finding.js';
import type { SourceLocation } from '../model.js';
import type { CheckResult } from './result.js';

const DESCRIPTIONS: Record<FindingCode, string> = {
  SCRIPT_NOT_ALLOWED: 'A dependency wants to run install scripts (or node-gyp) and the policy does not allow it.',
  SCRIPT_CHANGED: 'A dependency a range or name approval lets build runs different install-time code than the version approved with its fingerprint (scripts.fingerprints).',
  UNSIGNED: 'A registry package carries no registry signature.',
  BAD_SIGNATURE: 'A registry signature does not verify over the integrity being installed.',
  UNKNOWN_KEY: 'A package is signed only by keys the policy does not trust.',
  KEY_EXPIRED: 'A package is signed by a key that expired before it was published.',
  UNTRUSTED_REGISTRY: 'A package comes from a registry with no trusted signing keys configured.',
  UNSIGNED_SOURCE: 'A package comes from git, a remote tarball or a directory outside the project: unsigned by nature.',
  METADATA_UNAVAILABLE: 'Registry metadata needed to decide could not be obtained; the package is blocked (fail closed).',
  INTEGRITY_MISSING: 'A registry package has no integrity in the lockfile, so nothing pins the bytes being installed.',
  PROVENANCE_MISSING: 'The policy requires SLSA provenance for a package and the registry serves none for this version.',
  PROVENANCE_INVALID: 'A provenance attestation was served but does not verify, or does not match the package, version or integrity installed.',
  PUBLISHER_MISMATCH: 'Verified provenance names another source repository, workflow or repository id than the policy pins.',
  PROVENANCE_DOWNGRADE: 'An earlier version of the same release line had verified provenance, and this version has none, or has it from another repository.',
  RELEASE_TOO_NEW: 'A registry version was published more recently than the cooldown (cooldown.minimumReleaseAge) allows.',
  KNOWN_MALICIOUS: 'An OSV advisory the policy reads lists this version as malicious; nothing waives it.',
  TRUST_ROOT_STALE: "A provenance bundle's transparency log or certificate authority is not in the trusted root: the root needs updating (not a forgery).",
};

/**
 * Where each finding code is documented (docs/findings.md, published with the product). A rule's `helpUri` is this
 * plus `#` and the code in lower case; `help` carries the same guidance inline for viewers that do not follow links.
 */
export const FINDINGS_HELP_BASE = 'https://portcullis.example/docs/findings';

export interface SarifOptions {
  /** Overrides FINDINGS_HELP_BASE (a company's own copy of the docs). */
  helpBase?: string;
  /** Directory the lockfile path is made relative to (the repository root). */
  rootDir: string;
  toolVersion: string;
  /** Where each package id's entry stands in the lockfile. */
  locations?: ReadonlyMap<string, SourceLocation>;
}

/** Builds a SARIF 2.1.0 log for a check result. */
export function formatSarif(result: CheckResult, options: SarifOptions): string {
  const uri = relative(options.rootDir, result.lockfile.path).split('\\').join('/') || result.lockfile.path;
  const log = {
    $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'portcullis',
            semanticVersion: options.toolVersion,
            rules: FINDING_CODES.map((code) => ({
              id: code,
              name: code
                .toLowerCase()
                .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
                .replace(/^./, (c) => c.toUpperCase()),
              shortDescription: { text: DESCRIPTIONS[code] },
              fullDescription: { text: DESCRIPTIONS[code] },
              helpUri: `${options.helpBase ?? FINDINGS_HELP_BASE}#${code.toLowerCase()}`,
              help: { text: `${DESCRIPTIONS[code]} Each result's message ends with the exact fix.`, markdown: `**${code}**: ${DESCRIPTIONS[code]} Each result's message ends with the exact fix.` },
              defaultConfiguration: { level: 'error' },
              properties: { tags: ['security', 'supply-chain'] },
            })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: `file://${options.rootDir.endsWith('/') ? options.rootDir : `${options.rootDir}/`}` } },
        results: result.findings.map((f) => {
          const location = f.id !== undefined ? options.locations?.get(f.id) : undefined;
          return {
            ruleId: f.code,
            ruleIndex: FINDING_CODES.indexOf(f.code),
            level: 'error',
            message: { text: `${f.message}. Fix: ${f.fix}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri, uriBaseId: '%SRCROOT%' },
                  region: location ? { startLine: location.line, startColumn: location.column } : { startLine: 1 },
                },
                logicalLocations: [{ name: `${f.package}@${f.version}`, kind: 'package' }],
              },
            ],
            partialFingerprints: {
              'portcullis/v1': createHash('sha256').update(`${f.code}\0${f.package}\0${f.version}`).digest('hex'),
            },
            properties: { package: f.package, version: f.version, rule: f.rule, fix: f.fix },
          };
        }),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
