/**
 * Every changeset can be released: it names only packages changesets versions (the published ones: not private, not
 * ignored in .changeset/config.json), each with a bump changesets knows. A changeset naming a private package beside
 * published ones makes `changeset version` and `changeset status` fail for every changeset ("mixed changesets");
 * core is private and ships inside the bundles, so its changes are named by the packages that carry them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const folder = join(root, '.changeset');

function workspacePackages(): Map<string, { private: boolean }> {
  const found = new Map<string, { private: boolean }>();
  for (const dir of readdirSync(join(root, 'packages'))) {
    let manifest: { name?: unknown; private?: unknown };
    try {
      manifest = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (typeof manifest.name === 'string') found.set(manifest.name, { private: manifest.private === true });
  }
  return found;
}

/** The packages and bumps a changeset's front matter names. */
function frontMatter(text: string): Array<[string, string]> {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  expect(match, 'front matter between --- lines').not.toBeNull();
  return match![1]!
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const entry = /^\s*(['"]?)(@?[\w./-]+)\1\s*:\s*(\S+)\s*$/.exec(line);
      expect(entry, `a "package": bump line: ${line}`).not.toBeNull();
      return [entry![2]!, entry![3]!] as [string, string];
    });
}

describe('changesets', () => {
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { ignore?: string[]; privatePackages?: { version?: boolean } };
  const packages = workspacePackages();
  const versioned = (name: string) => {
    const pkg = packages.get(name);
    return pkg !== undefined && !(config.ignore ?? []).includes(name) && !(pkg.private && config.privatePackages?.version === false);
  };
  const files = readdirSync(folder).filter((f) => f.endsWith('.md') && f !== 'README.md');

  it('the workspace has published packages and the private engine (what the rule below tells apart)', () => {
    expect(versioned('@portcullis/pnpm-plugin-portcullis')).toBe(true);
    expect(versioned('@portcullis/core')).toBe(false);
  });

  it.each(files)('%s names only published packages, each with a patch, minor or major bump', (file) => {
    const entries = frontMatter(readFileSync(join(folder, file), 'utf8'));
    expect(entries.length).toBeGreaterThan(0);
    for (const [name, bump] of entries) {
      expect(versioned(name), `${file}: ${name} is not a package changesets versions (private or ignored; name the published packages that carry the change)`).toBe(true);
      expect(['patch', 'minor', 'major']).toContain(bump);
    }
  });
});
