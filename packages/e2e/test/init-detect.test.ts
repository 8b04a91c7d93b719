/**
 * `portcullis init` with no argument on a pnpm repository that already allows builds its own way — pnpm 10's
 * `onlyBuiltDependencies`, pnpm 12's `allowBuilds` — detects pnpm, carries the allowlist into portcullis.json pinned to
 * the lockfile's versions, and those builds keep working through the gate (and only those). A second run changes no byte.
 */
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, withInstallScript, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, markersOf, portcullis, run, type Project, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: [withPostinstall('alpha-build', '1.0.0'), withInstallScript('preinstall', 'beta-build', '1.0.0')] });
});
afterAll(async () => {
  await registry?.close();
});

const output = (r: RunResult) => `${r.stdout}${r.stderr}`;
const ran = markersOf;
/** Every file at the project root, byte for byte (node_modules aside). */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile()).map((n) => [n, readFileSync(join(dir, n), 'base64')]));

const cases: Array<[10 | 12, string, string]> = [
  [10, 'onlyBuiltDependencies', 'onlyBuiltDependencies:\n  - alpha-build\n'],
  [12, 'allowBuilds', 'allowBuilds:\n  alpha-build: true\n  beta-build: false\n'],
];

describe.each(cases)('pnpm %i with its own %s', (major, _setting, workspaceYaml) => {
  it('init detects pnpm, imports the allowlist pinned, twice is a no-op, and the imported build (only it) runs through the gate', async () => {
    const project = createProject('pnpm', registry.url, { 'alpha-build': '1.0.0', 'beta-build': '1.0.0' });
    writeFileSync(join(project.dir, 'pnpm-workspace.yaml'), workspaceYaml);
    // The repository as it was before Portcullis: a lockfile pnpm wrote, and a policy that only trusts the test registry's keys.
    const tool = pnpm(major);
    const pnpmIn = (args: string[]) => run(tool.command, [...tool.args, ...args, `--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'], { cwd: project.dir, env: project.env });
    const locked = await pnpmIn(['install', '--lockfile-only']);
    expect(locked.code, output(locked)).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), `${JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } } }, null, 2)}\n`);

    const init = await portcullis(project, ['init']);
    expect(init.code, output(init)).toBe(0);
    expect(init.stdout).toMatch(/^detected pnpm \(pnpm-lock\.yaml, pnpm-workspace\.yaml\)$/m);
    expect(init.stdout).toContain('+ scripts.allow: "alpha-build@1.0.0" (from pnpm-workspace.yaml)');
    expect(init.stdout).toContain('Next: run `pnpm install` once');
    expect((JSON.parse(readFileSync(join(project.dir, 'portcullis.json'), 'utf8')) as { scripts: { allow: string[] } }).scripts.allow).toEqual(['alpha-build@1.0.0']);

    const before = snapshot(project.dir);
    const again = await portcullis(project, ['init']);
    expect(again.code, output(again)).toBe(0);
    expect(snapshot(project.dir)).toEqual(before);
    expect(again.stdout).toContain('Nothing changed: Portcullis is already set up for pnpm here.');

    // The one next step init names (CI=true here, where pnpm defaults to a frozen lockfile).
    const installed = await pnpmIn(['install', '--no-frozen-lockfile']);
    expect(installed.code, output(installed)).toBe(0);
    expect(ran(project)).toEqual(['alpha-build@1.0.0.ran']);
    expect(output(installed)).toContain('portcullis approve beta-build@1.0.0');

    rmSync(join(project.dir, 'node_modules'), { recursive: true, force: true });
    for (const marker of readdirSync(project.markers)) rmSync(join(project.markers, marker));
    const frozen = await pnpmIn(['install', '--frozen-lockfile', '--config.side-effects-cache=false']);
    expect(frozen.code, output(frozen)).toBe(0);
    expect(ran(project)).toEqual(['alpha-build@1.0.0.ran']);
  });
});
