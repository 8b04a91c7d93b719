import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { asksBeforeInstalling, gitCloneInstalledDuringInstall, gitPrepareRunsDuringInstall, NPM_QUIRKS, readsShrinkwrap, rebuildSelectsBundledCopy, rootPreinstallFirst, scriptsRunDespiteIgnoreScripts, type NpmQuirk } from './quirks.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Versions an npm wrapper could not read, or read as something that is not `major.minor.patch`. */
const UNKNOWN = [undefined, '', 'unknown', 'latest'];

describe('rootPreinstallFirst', () => {
  it('npm 12 runs the root preinstall first; npm 10 and 11 after the dependencies', () => {
    expect(rootPreinstallFirst('12.2.1')).toBe(true);
    expect(rootPreinstallFirst('12.0.0')).toBe(true);
    expect(rootPreinstallFirst('13.0.0')).toBe(true);
    expect(rootPreinstallFirst('11.21.2')).toBe(false);
    expect(rootPreinstallFirst('11.99.99')).toBe(false);
    expect(rootPreinstallFirst('10.9.9')).toBe(false);
  });

  it("an unknown npm runs it after the dependencies (npm 10/11's order): the wrapper still runs it exactly once", () => {
    for (const version of UNKNOWN) expect(rootPreinstallFirst(version), String(version)).toBe(false);
  });
});

describe('asksBeforeInstalling', () => {
  it('npm 10, 11 and 12 (their Arborist measured); never an earlier, later or unknown npm', () => {
    for (const version of ['10.0.0', '10.9.9', '11.21.2', '12.2.3', '12.99.0']) expect(asksBeforeInstalling(version), version).toBe(true);
    for (const version of ['9.9.4', '13.0.0', ...UNKNOWN]) expect(asksBeforeInstalling(version), String(version)).toBe(false);
  });
});

describe('readsShrinkwrap', () => {
  it('npm 10 and 11 install from npm-shrinkwrap.json; npm 12 and later read package-lock.json only', () => {
    for (const version of ['10.9.9', '10.0.0', '11.21.2', '11.99.99']) expect(readsShrinkwrap(version), version).toBe(true);
    for (const version of ['12.0.0', '12.2.3', '13.1.0']) expect(readsShrinkwrap(version), version).toBe(false);
  });

  it('an unknown npm: undefined (the wrapper cannot tell which file it installs)', () => {
    for (const version of UNKNOWN) expect(readsShrinkwrap(version), String(version)).toBeUndefined();
  });
});

describe('gitPrepareRunsDuringInstall', () => {
  it("npm 10 runs a git dependency's prepare during the install; npm 11 and 12 do not", () => {
    expect(gitPrepareRunsDuringInstall('10.9.9')).toBe(true);
    expect(gitPrepareRunsDuringInstall('10.0.0')).toBe(true);
    expect(gitPrepareRunsDuringInstall('9.9.4')).toBe(true);
    expect(gitPrepareRunsDuringInstall('11.0.0')).toBe(false);
    expect(gitPrepareRunsDuringInstall('11.21.2')).toBe(false);
    expect(gitPrepareRunsDuringInstall('12.2.1')).toBe(false);
  });

  it('an unknown npm is assumed to run it (fail safe: the npm that runs scripts)', () => {
    for (const version of UNKNOWN) expect(gitPrepareRunsDuringInstall(version), String(version)).toBe(true);
  });
});

describe('gitCloneInstalledDuringInstall', () => {
  it("npm 10 and 11 install a git dependency's clone with a nested npm whatever --ignore-scripts says; npm 12 does not", () => {
    expect(gitCloneInstalledDuringInstall('10.9.9')).toBe(true);
    expect(gitCloneInstalledDuringInstall('11.21.2')).toBe(true);
    expect(gitCloneInstalledDuringInstall('12.0.0')).toBe(false);
    expect(gitCloneInstalledDuringInstall('12.2.3')).toBe(false);
  });
});

describe('scriptsRunDespiteIgnoreScripts', () => {
  it("a git dependency on npm 10 and 11 (or an unknown npm): their nested npm installs the clone under the clone's own .npmrc", () => {
    expect(scriptsRunDespiteIgnoreScripts('10.9.9', { source: 'git' })).toBe(true);
    for (const version of UNKNOWN) expect(scriptsRunDespiteIgnoreScripts(version, { source: 'git' }), String(version)).toBe(true);
    expect(scriptsRunDespiteIgnoreScripts('11.0.0', { source: 'git' })).toBe(true);
    expect(scriptsRunDespiteIgnoreScripts('11.21.2', { source: 'git' })).toBe(true);
    expect(scriptsRunDespiteIgnoreScripts('12.2.1', { source: 'git' })).toBe(false);
    expect(scriptsRunDespiteIgnoreScripts('12.2.3', { source: 'git' })).toBe(false);
  });

  it('a folder npm copies rather than links (install-links) on npm 10 (or an unknown npm) only; a linked folder never', () => {
    expect(scriptsRunDespiteIgnoreScripts('10.9.9', { source: 'directory', packedOnInstall: true })).toBe(true);
    for (const version of UNKNOWN) expect(scriptsRunDespiteIgnoreScripts(version, { source: 'directory', packedOnInstall: true }), String(version)).toBe(true);
    expect(scriptsRunDespiteIgnoreScripts('11.21.2', { source: 'directory', packedOnInstall: true })).toBe(false);
    expect(scriptsRunDespiteIgnoreScripts('12.2.3', { source: 'directory', packedOnInstall: true })).toBe(false);
    expect(scriptsRunDespiteIgnoreScripts('10.9.9', { source: 'directory' })).toBe(false);
  });

  it('a registry package (or any other source) never, on any npm', () => {
    for (const version of ['10.9.9', '11.21.2', '12.2.1', ...UNKNOWN]) {
      for (const source of ['registry', 'tarball', 'directory', 'workspace'] as const) {
        expect(scriptsRunDespiteIgnoreScripts(version, { source }), `${source} on ${String(version)}`).toBe(false);
      }
    }
  });
});

describe('rebuildSelectsBundledCopy', () => {
  it("npm 10's rebuild selects a bundled copy's folder; npm 11, 12, a later or an unknown npm never (npm run instead)", () => {
    for (const version of ['10.0.0', '10.9.9']) expect(rebuildSelectsBundledCopy(version), version).toBe(true);
    for (const version of ['9.9.4', '11.0.0', '11.21.2', '12.2.3', '13.0.0', ...UNKNOWN]) expect(rebuildSelectsBundledCopy(version), String(version)).toBe(false);
  });
});

/** Facts measured by hand, with the document that records them: every other fact must name a test file. */
const MEASURED_BY_HAND = ['workspacesConfigNotCli', 'memberNpmrcIgnored'];

describe('NPM_QUIRKS', () => {
  const quirks = Object.entries(NPM_QUIRKS) as Array<[string, NpmQuirk]>;

  it('every fact names the npm versions it was measured on', () => {
    for (const [name, quirk] of quirks) {
      expect(quirk.fact.trim(), name).not.toBe('');
      expect(quirk.versions, name).toMatch(/\b\d+\.\d+\.\d+\b/);
    }
  });

  it('every fact is pinned by a test file that exists in the repository (its path before any space or parenthesis)', () => {
    for (const [name, quirk] of quirks) {
      if (MEASURED_BY_HAND.includes(name)) continue;
      const path = quirk.pinnedBy.split(/[\s(]/)[0]!;
      expect(path, name).toMatch(/\.test\.ts$/);
      expect(existsSync(join(REPO, path)) && statSync(join(REPO, path)).isFile(), `${name}: ${path}`).toBe(true);
    }
  });

  it('only the listed facts are measured by hand, each naming the document that records it', () => {
    const byHand = quirks.filter(([, quirk]) => quirk.pinnedBy.startsWith('measured by hand')).map(([name]) => name);
    expect(byHand.sort()).toEqual([...MEASURED_BY_HAND].sort());
    for (const name of MEASURED_BY_HAND) {
      const doc = /^measured by hand \(([^)\s]+)\)/.exec(NPM_QUIRKS[name as keyof typeof NPM_QUIRKS].pinnedBy)?.[1];
      expect(doc, name).toBeDefined();
      expect(existsSync(join(REPO, doc!)), `${name}: ${doc}`).toBe(true);
    }
  });
});
