import { describe, expect, it } from 'vitest';
import type { PackageNode } from '../model.js';
import { parsePackument, type PackumentServed } from '../registry/packument.js';
import { scriptEvidence } from './gather.js';

const node: PackageNode = { id: 'esbuild@0.25.0', name: 'esbuild', version: '0.25.0', integrity: 'sha512-x', source: 'registry', registry: 'https://r.test/', aliases: [], paths: [], dependents: ['.'] };

function entry(fields: Record<string, unknown>, served: PackumentServed) {
  const text = JSON.stringify({ name: 'esbuild', versions: { '0.25.0': { name: 'esbuild', version: '0.25.0', dist: { integrity: 'sha512-x' }, ...fields } } });
  return parsePackument(text, { name: 'esbuild', kind: 'abbreviated', served }).versions.get('0.25.0')!;
}

describe('scriptEvidence (issue 13.5: scripts in a full document count; silence is not "none")', () => {
  it('counts the scripts of a full document served for the abbreviated request', () => {
    const found = scriptEvidence(node, entry({ _id: 'esbuild@0.25.0', scripts: { postinstall: 'node install.js', test: 'x' } }, 'full'), null);
    // The command line rides along (approve shows it); a script that does not run at install time (test) does not.
    expect(found).toEqual({ hasInstallScript: true, scripts: ['postinstall'], commands: { postinstall: 'node install.js' }, bindingGyp: false, source: 'metadata' });
  });

  it('metadata that neither lists scripts nor says "none" is no evidence; the lockfile\'s claim decides, or nothing does', () => {
    const silent = entry({}, 'full');
    expect(scriptEvidence(node, silent, null)).toBeUndefined();
    expect(scriptEvidence({ ...node, hasInstallScript: true }, silent, null)).toMatchObject({ hasInstallScript: true, source: 'lockfile' });
  });

  it('the abbreviated document\'s silence is its "none"', () => {
    expect(scriptEvidence(node, entry({}, 'abbreviated'), null)).toEqual({ hasInstallScript: false, scripts: [], bindingGyp: false, source: 'metadata' });
  });
});
