import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keptCacheTrusted } from './kept-metadata.js';

describe('which kept caches are read', () => {
  it("only a folder outside the project's checkout (by real path), existing or not yet", () => {
    const base = mkdtempSync(join(tmpdir(), 'portcullis-kept-'));
    const repo = join(base, 'repo');
    const project = join(repo, 'web');
    mkdirSync(join(repo, '.git'), { recursive: true });
    mkdirSync(join(project, '.pnpm-cache'), { recursive: true });
    const home = join(base, 'home', '.cache', 'pnpm');
    mkdirSync(home, { recursive: true });
    expect(keptCacheTrusted(home, project)).toBe(true);
    expect(keptCacheTrusted(join(base, 'home', 'not-yet', 'pnpm'), project)).toBe(true);
    // Inside the checkout: in the project, beside it in the same repository, the checkout itself, not yet created.
    expect(keptCacheTrusted(join(project, '.pnpm-cache'), project)).toBe(false);
    expect(keptCacheTrusted(join(repo, 'cache'), project)).toBe(false);
    expect(keptCacheTrusted(repo, project)).toBe(false);
    expect(keptCacheTrusted(join(project, 'later', 'cache'), project)).toBe(false);
    expect(keptCacheTrusted(join(project, '..', 'web', '.pnpm-cache'), project)).toBe(false);
    // A link from outside into the checkout is inside; a relative path is never read.
    symlinkSync(repo, join(base, 'link'));
    expect(keptCacheTrusted(join(base, 'link', 'web', '.pnpm-cache'), project)).toBe(false);
    expect(keptCacheTrusted('.pnpm-cache', project)).toBe(false);
    // Without a repository, the project folder is the boundary.
    const plain = join(base, 'plain');
    mkdirSync(plain);
    expect(keptCacheTrusted(join(plain, 'cache'), plain)).toBe(false);
    expect(keptCacheTrusted(home, plain)).toBe(true);
  });
});
