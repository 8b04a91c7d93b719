import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { updateConfig } from './config.js';
import { registryConfigFromPnpm } from './project.js';

function projectWith(policy: object, workspaceYaml?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-unit-'));
  writeFileSync(join(dir, 'portcullis.json'), JSON.stringify(policy));
  if (workspaceYaml !== undefined) writeFileSync(join(dir, 'pnpm-workspace.yaml'), workspaceYaml);
  return dir;
}

describe('updateConfig', () => {
  it('replaces allowBuilds with the policy, keeps a user false, drops dangerouslyAllowAllBuilds (pnpm 11/12)', async () => {
    const dir = projectWith({ scripts: { allow: ['esbuild'] } });
    const config = await updateConfig({ lockfileDir: dir, userAgent: 'pnpm/12.21.0 npm/? node/? linux x64', authConfig: { registry: 'http://127.0.0.1:9/' }, allowBuilds: { evil: true, esbuild: true, fsevents: false }, dangerouslyAllowAllBuilds: true });
    expect(config.allowBuilds).toEqual({ esbuild: true, fsevents: false });
    expect(config.dangerouslyAllowAllBuilds).toBe(false);
    expect(config.strictDepBuilds).toBe(false);
    expect(config).not.toHaveProperty('onlyBuiltDependencies');
  });
  it('on pnpm 10 empties onlyBuiltDependencies and removes neverBuiltDependencies; strictDepBuilds from pnpm-workspace.yaml', async () => {
    const dir = projectWith({}, 'strictDepBuilds: true\n');
    const config = await updateConfig({ lockfileDir: dir, userAgent: 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64', rawConfig: { registry: 'http://127.0.0.1:9/' }, onlyBuiltDependencies: ['evil'], neverBuiltDependencies: [] });
    expect(config.allowBuilds).toEqual({});
    expect(config.onlyBuiltDependencies).toEqual([]);
    expect(config).not.toHaveProperty('neverBuiltDependencies');
    expect(config.strictDepBuilds).toBe(true);
  });
});

describe('registryConfigFromPnpm', () => {
  it("reads pnpm's resolved registry, scopes and tokens", () => {
    const config = registryConfigFromPnpm({ authConfig: { registry: 'http://reg.test/', '@acme:registry': 'http://acme.test/', '//acme.test/:_authToken': 'tok-1234', unrelated: 3 } })!;
    expect(config.registryFor('left-pad')).toBe('http://reg.test/');
    expect(config.registryFor('@acme/logger')).toBe('http://acme.test/');
    expect(config.authFor('http://acme.test/@acme%2flogger')?.authorization()).toBe('Bearer tok-1234');
    expect(registryConfigFromPnpm({})).toBeUndefined();
  });
});
