import { describe, expect, it } from 'vitest';
import { approvalsFromPnpmSettings, pnpmWorkspaceSettings } from './pnpm.js';

describe('approvalsFromPnpmSettings', () => {
  it('imports allowBuilds true entries and onlyBuiltDependencies from both places, once each', () => {
    const workspaceYaml = 'allowBuilds:\n  esbuild: true\n  sharp@0.34.5: true\n  fsevents: false\nonlyBuiltDependencies:\n  - esbuild\n';
    const packageJson = JSON.stringify({ pnpm: { onlyBuiltDependencies: ['@parcel/watcher@2.5.1 || 2.5.2'] } });
    expect(approvalsFromPnpmSettings({ workspaceYaml, packageJson })).toEqual({ allow: ['esbuild', 'sharp@0.34.5', '@parcel/watcher@2.5.1 || 2.5.2'], skipped: [] });
  });
  it('never carries over dangerouslyAllowAllBuilds, and says why an entry is skipped', () => {
    const out = approvalsFromPnpmSettings({ workspaceYaml: 'dangerouslyAllowAllBuilds: true\nallowBuilds:\n  "bad@^^1": true\n' });
    expect(out.allow).toEqual([]);
    expect(out.skipped).toHaveLength(2);
    expect(out.skipped.join('\n')).toMatch(/dangerouslyAllowAllBuilds[\s\S]*bad@\^\^1/);
  });
  it('does not carry over a scope wildcard (pnpm\'s build allowlist matches names literally): says so instead', () => {
    const out = approvalsFromPnpmSettings({ workspaceYaml: 'onlyBuiltDependencies:\n  - "@acme/*"\n  - esbuild\n' });
    expect(out.allow).toEqual(['esbuild']);
    expect(out.skipped).toEqual([expect.stringContaining('@acme/* (a scope wildcard')]);
  });
  it('reads nothing from absent or empty sources', () => {
    expect(approvalsFromPnpmSettings({})).toEqual({ allow: [], skipped: [] });
    expect(approvalsFromPnpmSettings({ workspaceYaml: '', packageJson: '{}' })).toEqual({ allow: [], skipped: [] });
  });
});

describe('pnpmWorkspaceSettings', () => {
  it('reads the settings as YAML (not line patterns), and nothing from a malformed or hostile file', () => {
    expect(pnpmWorkspaceSettings('packages:\n  - a\nstrictDepBuilds: true # on\n').strictDepBuilds).toBe(true);
    expect(pnpmWorkspaceSettings('strictDepBuilds:   false\n').strictDepBuilds).toBe(false);
    expect(pnpmWorkspaceSettings('"strictDepBuilds": "true"\n').strictDepBuilds).toBe('true');
    expect(pnpmWorkspaceSettings('other:\n  strictDepBuilds: true\n').strictDepBuilds).toBeUndefined();
    expect(pnpmWorkspaceSettings('strictDepBuilds: [true\n')).toEqual({});
    expect(pnpmWorkspaceSettings('- a\n- b\n')).toEqual({});
    expect(Object.getPrototypeOf(pnpmWorkspaceSettings('__proto__: {polluted: true}\n'))).toBeNull();
  });
});
