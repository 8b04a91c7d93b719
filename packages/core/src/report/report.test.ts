import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../finding.js';
import { formatJson } from './json.js';
import type { CheckResult } from './result.js';
import { formatSarif } from './sarif.js';
import { formatText } from './text.js';

const findings: Finding[] = [
  { package: 'evil', version: '1.0.0', rule: 'scripts', code: 'SCRIPT_NOT_ALLOWED', message: 'evil@1.0.0 wants to run postinstall', fix: 'portcullis approve evil@1.0.0', id: 'evil@1.0.0' },
  { package: 'lib', version: '2.0.0', rule: 'signatures', code: 'UNSIGNED', message: 'lib@2.0.0 has no registry signature', fix: 'add "lib@2.0.0" to signatures.allowUnsigned', id: 'lib@2.0.0', registry: 'https://r.example/' },
];
const result: CheckResult = {
  findings,
  exitCode: 1,
  packages: 12,
  lockfile: { kind: 'pnpm', path: '/repo/pnpm-lock.yaml' },
  policy: '/repo/portcullis.json',
  notices: [],
};

describe('reports', () => {
  it('JSON keeps the contract shape and adds counts', () => {
    const json = JSON.parse(formatJson(result));
    expect(json.findings).toEqual(findings.map(({ id: _id, ...f }) => f));
    expect(json.summary).toEqual({ packages: 12, findings: 2, blocked: 2, byCode: { SCRIPT_NOT_ALLOWED: 1, UNSIGNED: 1 }, byRule: { scripts: 1, signatures: 1 } });
    expect(json.exitCode).toBe(1);
  });

  it('text groups by code and prints each fix, with colour only when asked', () => {
    const plain = formatText(result);
    expect(plain).toContain('2 of 12 packages blocked');
    // The first line is the one that matters: the packages and their codes (with one finding: it whole, with its fix).
    expect(plain.split('\n')[0]).toBe('✗ portcullis: 2 of 12 packages blocked: evil@1.0.0 (SCRIPT_NOT_ALLOWED), lib@2.0.0 (UNSIGNED); the fix for each is below');
    expect(formatText({ ...result, findings: [findings[0]!] }).split('\n')[0]).toBe('✗ portcullis: 1 of 12 packages blocked: evil@1.0.0 wants to run postinstall [SCRIPT_NOT_ALLOWED] — fix: portcullis approve evil@1.0.0');
    expect(plain).toContain('[SCRIPT_NOT_ALLOWED, rule: scripts]');
    expect(plain).toContain('fix: portcullis approve evil@1.0.0');
    expect(plain).not.toContain('\u001b[');
    expect(formatText(result, { color: true })).toContain('\u001b[31m');
    expect(formatText({ ...result, findings: [], exitCode: 0 })).toContain('all 12 packages allowed');
  });

  it('text states a signature-stripping registry once and lists its packages on one line', () => {
    const unsigned = (name: string): Finding => ({ package: name, version: '1.0.0', rule: 'signatures', code: 'UNSIGNED', message: `${name}@1.0.0 has no registry signature`, fix: 'x', registry: 'https://mirror.example/' });
    const text = formatText({
      ...result,
      findings: [unsigned('a'), unsigned('b'), unsigned('c')],
      notices: ['https://mirror.example/ served no signatures for any of the 3 packages'],
      strippedRegistries: ['https://mirror.example/'],
    });
    expect(text.match(/served no signatures/g)).toHaveLength(1);
    expect(text).toContain('UNSIGNED (3): a@1.0.0, b@1.0.0, c@1.0.0');
    expect(text).not.toContain('has no registry signature');
  });

  it('SARIF is valid against the SARIF 2.1.0 schema and locates findings in the lockfile', () => {
    const require = createRequire(import.meta.url);
    const schemaPath = require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
    // The SARIF schema is draft-04: validate with the ajv 6 that ships beside it, which speaks draft-04.
    const requireBeside = createRequire(schemaPath);
    const Ajv6 = requireBeside('ajv');
    const ajv = new Ajv6({ schemaId: 'id', allErrors: true, unknownFormats: 'ignore' });
    ajv.addMetaSchema(requireBeside('ajv/lib/refs/json-schema-draft-04.json'));
    const validate = ajv.compile(schema);
    // The validator must be able to say no, or this test proves nothing.
    expect(validate({ version: '2.1.0', runs: [{ results: [] }] })).toBe(false);
    const sarif = JSON.parse(formatSarif(result, { rootDir: '/repo', toolVersion: '0.1.0', locations: new Map([['evil@1.0.0', { line: 40, column: 3 }]]) }));
    const ok = validate(sarif);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    const [first, second] = sarif.runs[0].results;
    expect(first.ruleId).toBe('SCRIPT_NOT_ALLOWED');
    expect(first.locations[0].physicalLocation.artifactLocation.uri).toBe('pnpm-lock.yaml');
    expect(first.locations[0].physicalLocation.region).toEqual({ startLine: 40, startColumn: 3 });
    expect(second.locations[0].physicalLocation.region).toEqual({ startLine: 1 });
    expect(sarif.runs[0].tool.driver.rules[first.ruleIndex].id).toBe('SCRIPT_NOT_ALLOWED');
  });

  it('SARIF for GitHub code scanning: $schema, rules with id, shortDescription and helpUri, a fingerprint stable across runs (code+name+version)', () => {
    const once = JSON.parse(formatSarif(result, { rootDir: '/repo', toolVersion: '0.1.0' }));
    const again = JSON.parse(formatSarif({ ...result, findings: [...findings].reverse(), packages: 99 }, { rootDir: '/repo', toolVersion: '0.2.0' }));
    expect(once.$schema).toMatch(/sarif-schema-2\.1\.0\.json$/);
    expect(once.version).toBe('2.1.0');
    for (const rule of once.runs[0].tool.driver.rules) {
      expect(rule.shortDescription.text.length).toBeGreaterThan(10);
      expect(rule.helpUri).toBe(`https://portcullis.example/docs/findings#${rule.id.toLowerCase()}`);
    }
    const print = (log: { runs: Array<{ results: Array<{ ruleId: string; partialFingerprints: Record<string, string>; properties: { package: string } }> }> }) =>
      Object.fromEntries(log.runs[0]!.results.map((r) => [`${r.ruleId} ${r.properties.package}`, r.partialFingerprints['portcullis/v1']]));
    expect(print(again)).toEqual(print(once));
    const bumped = JSON.parse(formatSarif({ ...result, findings: [{ ...findings[0]!, version: '1.0.1' }] }, { rootDir: '/repo', toolVersion: '0.1.0' }));
    expect(bumped.runs[0].results[0].partialFingerprints['portcullis/v1']).not.toBe(print(once)['SCRIPT_NOT_ALLOWED evil']);
    expect(once.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(['SCRIPT_NOT_ALLOWED', 'UNSIGNED']);
  });
});
