/**
 * What the bundled-copy attack files share (bypass-pnpm-bundled-advisory, -headers): a policy that trusts the test
 * registry's keys and names an OSV folder, and the advisory there that lists `listed-lib@1.0.0` as malicious.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestRegistry } from '@portcullis/test-registry';
import type { Project } from './project.js';

/** The registry's keys and the project's OSV folder (`./security/osv`). */
export const advisoryPolicy = (registry: TestRegistry): object => ({ registries: { [registry.url]: { keys: registry.keys.keys } }, advisories: { osv: ['./security/osv'] } });

/** MAL-2026-0001: `listed-lib@1.0.0` is malicious, in the project's OSV folder. */
export function writeListedLibAdvisory(project: Project): void {
  const folder = join(project.dir, 'security', 'osv', 'malicious', 'npm', 'listed-lib');
  mkdirSync(folder, { recursive: true });
  const record = { schema_version: '1.5.0', id: 'MAL-2026-0001', modified: '2026-11-30T00:00:00Z', published: '2026-11-30T00:00:00Z', summary: 'Malicious code in listed-lib (npm)', affected: [{ package: { ecosystem: 'npm', name: 'listed-lib' }, versions: ['1.0.0'] }] };
  writeFileSync(join(folder, 'MAL-2026-0001.json'), JSON.stringify(record));
}
