/**
 * Bypass corpus, install-script cases (B1 B2 B3 B4 B8 B11 B12 B13) through every package manager version
 * with Portcullis in front: one install per version holds every case, each with its own marker, next to
 * two positive controls (the allowed `esbuild@1.0.0` and `twin@1.0.0` must run). Any other marker is a case
 * that got through. See docs/security.md, "Bypass corpus".
 */
import { startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDrivers, freshCheckout, output, projectFiles, ran } from '../src/corpus/drivers.js';
import { allowedMarkers, corpusPackages, expectedMarkers, markerCase, scriptsAllow, scriptsDependencies } from '../src/corpus/packages.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: corpusPackages });
});
afterAll(async () => {
  await registry?.close();
});

const policy = () => ({ scripts: { allow: scriptsAllow }, registries: { [registry.url]: { keys: registry.keys.keys } } });

/** The markers that are not positive controls, named by case: what got through. */
function gotThrough(markers: string[]): string[] {
  return markers.filter((m) => !allowedMarkers.includes(m)).map((m) => `${markerCase[m] ?? 'unknown'}: ${m}`);
}

describe.each(allDrivers().map((d) => [d.label, d] as const))('%s: install-script bypasses', (_label, driver) => {
  it('runs only the allowed copies: deep, binding.gyp, manifest confusion, alias, bundled, duplicate, lookalike and hijacked-update cases stay off (fresh and frozen)', async () => {
    const project = await driver.project(registry.url, scriptsDependencies, policy());
    // npm 12 refuses to read a bundling package's tarball while it resolves (EALLOWREMOTE) unless remote fetches are allowed
    const fresh = await driver.install(project, driver.label.startsWith('npm 12') ? ['--allow-remote=all'] : []);
    expect(fresh.code, output(fresh)).toBe(0);
    expect(gotThrough(ran(project)), output(fresh)).toEqual([]);
    expect(ran(project).filter((m) => expectedMarkers.includes(m))).toEqual(expectedMarkers);

    // the same from the lockfile, as CI installs it
    const files = projectFiles(project, driver.lockfile);
    freshCheckout(project);
    const frozen = await driver.frozen(project, driver.label.startsWith('npm 12') ? ['--allow-remote=all'] : []);
    expect(frozen.code, output(frozen)).toBe(0);
    expect(gotThrough(ran(project)), output(frozen)).toEqual([]);
    expect(projectFiles(project, driver.lockfile)).toEqual(files);
  });
});
