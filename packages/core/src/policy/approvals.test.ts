import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { approvalsFor } from './approvals.js';

function pkg(name: string, version: string, extra: Partial<PackageNode> = {}): PackageNode {
  return { id: `${name}@${version}`, name, version, source: 'registry', aliases: [], paths: [`node_modules/${name}`], dependents: ['.'], ...extra };
}

const lockfile = [pkg('esbuild', '0.25.0'), pkg('esbuild', '0.24.0'), pkg('@acme/native', '1.0.0'), pkg('@acme/gyp', '2.0.0'), pkg('@acmex/other', '1.0.0'), pkg('@acme/app', '1.0.0', { source: 'workspace' })];

describe('approvalsFor', () => {
  it('pins every installed version of a name or range', () => {
    expect(approvalsFor(lockfile, ['esbuild'])).toEqual(['esbuild@0.24.0', 'esbuild@0.25.0']);
    expect(approvalsFor(lockfile, ['esbuild@^0.25.0'])).toEqual(['esbuild@0.25.0']);
  });

  it('pins each installed package of a scope wildcard by its own name, never the wildcard or own code', () => {
    expect(approvalsFor(lockfile, ['@acme/*'])).toEqual(['@acme/gyp@2.0.0', '@acme/native@1.0.0']);
  });

  it('refuses a wildcard or name that matches nothing installed, and a malformed one', () => {
    expect(() => approvalsFor(lockfile, ['@nobody/*'])).toThrow(/no installed package matches/);
    expect(() => approvalsFor(lockfile, ['@acme/*@1'])).toThrow(/version range on a scope wildcard/);
  });
});
