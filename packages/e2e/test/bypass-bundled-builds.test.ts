/**
 * An allowed package that bundles another package with an install script (review round 43, N2): portcullis-npm built
 * the allowed copy with `npm rebuild ./node_modules/<bundler>`, and npm's rebuild (`rebuild-bundle`, on by default) also
 * built every copy bundled inside it — the bundled package's postinstall ran although `scripts.allow` does not name it,
 * while the wrapper said it was skipped (npm 10.9.9, 11.21.2, 12.2.3: exit 0, both scripts ran). Now each allowed copy
 * is built alone (`--rebuild-bundle=false`), and a bundled copy that is allowed (with its bundler) runs as its own step
 * of core's build plan, once. Real npm 10, 11 and 12.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, markerScript, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, portcullis, portcullisNpm, type RunResult } from '../src/project.js';
import { npm } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  const inner = { name: 'inner-evil', version: '1.0.0', scripts: { postinstall: markerScript('inner-evil', '1.0.0', 'postinstall') } };
  registry = await startRegistry({
    packages: [
      cleanPackage('outer-ok', '1.0.0', {
        dependencies: { 'inner-evil': '1.0.0' },
        bundleDependencies: ['inner-evil'],
        scripts: { postinstall: markerScript('outer-ok', '1.0.0', 'postinstall') },
        files: { 'node_modules/inner-evil/package.json': `${JSON.stringify(inner, null, 2)}\n`, 'node_modules/inner-evil/index.js': 'module.exports = 1;\n' },
      }),
      cleanPackage('inner-evil', '1.0.0'),
    ],
  });
});
afterAll(async () => {
  await registry?.close();
});

const out = (r: RunResult) => `${r.stdout}\n${r.stderr}`;
const ran = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
/** How many times a marker's script ran (each run appends its hook's name on a line). */
const runs = (dir: string, marker: string) => readFileSync(join(dir, marker), 'utf8').split(/\r?\n/).filter((l) => l !== '').length;

describe.each([10, 11, 12] as const)('npm %i: an allowed package bundling a package with a postinstall', (major) => {
  const setUp = async (allow: string[]) => {
    const policy = { scripts: { allow }, registries: { [registry.url]: { keys: registry.keys.keys } } };
    const project = createProject('npm', registry.url, { 'outer-ok': '1.0.0' }, { policy });
    const init = await portcullis(project, ['init', 'npm']);
    expect(init.code, out(init)).toBe(0);
    return project;
  };
  const extra = major === 12 ? ['--allow-remote=all'] : [];

  it('building the allowed bundler runs only its own script, not its bundled copy\'s', async () => {
    const project = await setUp(['outer-ok@1.0.0']);
    const result = await portcullisNpm(npm(major), project, ['install', ...extra]);
    expect(result.code, out(result)).toBe(0);
    expect(ran(project.markers), out(result)).toEqual(['outer-ok@1.0.0.ran']);
    expect(runs(project.markers, 'outer-ok@1.0.0.ran')).toBe(1);
    expect(result.stderr).toMatch(/inner-evil/);
    // A rebuild of what is installed builds the same: the bundler alone.
    const rebuild = await portcullisNpm(npm(major), project, ['rebuild']);
    expect(rebuild.code, out(rebuild)).toBe(0);
    expect(ran(project.markers), out(rebuild)).toEqual(['outer-ok@1.0.0.ran']);
  });

  it('a bundled copy allowed together with its bundler runs as its own step, once', async () => {
    const project = await setUp(['outer-ok@1.0.0', 'inner-evil@1.0.0']);
    const result = await portcullisNpm(npm(major), project, ['install', ...extra]);
    expect(result.code, out(result)).toBe(0);
    expect(ran(project.markers), out(result)).toEqual(['inner-evil@1.0.0.ran', 'outer-ok@1.0.0.ran']);
    expect(runs(project.markers, 'inner-evil@1.0.0.ran'), out(result)).toBe(1);
    expect(runs(project.markers, 'outer-ok@1.0.0.ran')).toBe(1);
    expect(result.stderr).toContain('ran postinstall of inner-evil@1.0.0 (node_modules/outer-ok/node_modules/inner-evil)');
  });

  it('PORTCULLIS_STRICT_SCRIPTS=1: the bundled copy\'s script blocks the install before anything runs', async () => {
    const project = await setUp(['outer-ok@1.0.0']);
    const result = await portcullisNpm(npm(major), project, ['install', ...extra], { PORTCULLIS_STRICT_SCRIPTS: '1' });
    expect(result.code, out(result)).toBe(1);
    expect(out(result)).toContain('SCRIPT_NOT_ALLOWED');
    expect(ran(project.markers), out(result)).toEqual([]);
  });
});
