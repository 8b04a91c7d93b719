/**
 * `portcullis-npm` replays its two decisions when nothing changed (a verdict remembered for the same lockfile text
 * and gate; a verdict on the installed copies remembered while every file it read keeps its stat, or, for files too
 * fresh for their stat as right after `npm ci`, while they hold the same bytes) — and decides
 * again, and refuses, after the policy changed, an installed package.json was rewritten (manifest confusion), or
 * package-lock.json was edited. PORTCULLIS_TIMING says which decisions were replayed.
 */
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { demo, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, portcullisNpm, type Project } from '../src/project.js';
import { npm, type Tool } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: demo });
});
afterAll(async () => {
  await registry?.close();
});

const policy = (allow: string[], extra: object = {}) => ({ scripts: { allow }, registries: { [registry.url]: { keys: registry.keys.keys } }, ...extra });
const REPLAYED_LOCKFILE = 'judged lockfile (remembered)';
const REPLAYED_INSTALLED = 'judged installed (remembered)';
/** Core vouches only for installed files changed at least 3 s before it reads them (STAMP_SETTLED_MS). */
const SETTLE_MS = 3_500;

/** The markers written since the last call: which install-time code ran. */
function ranSince(project: Project): string[] {
  const names = readdirSync(project.markers).sort();
  for (const name of names) rmSync(join(project.markers, name));
  return names;
}

const versions: Array<[10 | 11 | 12, () => Tool]> = [
  [10, () => npm(10)],
  [11, () => npm(11)],
  [12, () => npm(12)],
];

describe.each(versions)('portcullis-npm with npm %i: remembered decisions', (_major, tool) => {
  const timed = { PORTCULLIS_TIMING: '1' };
  const install = (project: Project, args: string[] = ['install']) => portcullisNpm(tool(), project, args, timed);

  /** A project installed through the wrapper until both decisions are replayed (fast-compiler allowed, evil-postinstall skipped). */
  async function rememberedProject(afterFirstInstall: (project: Project) => void = () => {}): Promise<Project> {
    const project = createProject('npm', registry.url, { 'evil-postinstall': '1.0.0', 'fast-compiler': '3.2.0', 'left-pad-lite': '1.1.0' }, { policy: policy(['fast-compiler']) });
    writeFileSync(join(project.dir, '.npmrc'), `${readFileSync(join(project.dir, '.npmrc'), 'utf8')}ignore-scripts=true\n`);
    const first = await install(project);
    expect(first.code, first.stderr).toBe(0);
    afterFirstInstall(project);
    await sleep(SETTLE_MS);
    // The installed copies are now settled: decided once more, and remembered.
    const second = await install(project);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain(REPLAYED_INSTALLED);
    ranSince(project);
    const third = await install(project);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain(REPLAYED_LOCKFILE);
    expect(third.stderr).toContain(REPLAYED_INSTALLED);
    // The replayed build plan: fast-compiler runs, evil-postinstall is skipped and named.
    expect(ranSince(project)).toEqual(['fast-compiler@3.2.0.ran']);
    expect(third.stderr).toContain('portcullis approve evil-postinstall@1.0.0');
    return project;
  }

  it('after the policy changed: both decisions are made again (a script no longer allowed does not run; a malicious listing refuses)', async () => {
    const project = await rememberedProject();
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy([])));
    const narrowed = await install(project);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(narrowed.stderr).not.toContain(REPLAYED_LOCKFILE);
    expect(narrowed.stderr).not.toContain(REPLAYED_INSTALLED);
    expect(ranSince(project)).toEqual([]);
    expect(narrowed.stderr).toContain('fast-compiler@3.2.0');

    const folder = join(project.dir, 'osv', 'malicious', 'npm', 'left-pad-lite');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, 'MAL-2026-0101.json'),
      JSON.stringify({ schema_version: '1.5.0', id: 'MAL-2026-0101', modified: '2026-11-30T00:00:00Z', summary: 'Malicious code in left-pad-lite (npm)', affected: [{ package: { ecosystem: 'npm', name: 'left-pad-lite' }, versions: ['1.1.0'] }] }),
    );
    writeFileSync(join(project.dir, 'portcullis.json'), JSON.stringify(policy(['fast-compiler'], { advisories: { osv: ['./osv'] } })));
    const listed = await install(project);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('KNOWN_MALICIOUS');
    expect(listed.stderr).toContain('left-pad-lite@1.1.0');
    expect(ranSince(project)).toEqual([]);
  });

  it('after an installed package.json was rewritten (same size, same mtime): read again, and refused (INSTALLED_MISMATCH), nothing runs', async () => {
    const file = (project: Project) => join(project.dir, 'node_modules', 'fast-compiler', 'package.json');
    // A whole-second mtime, as a tarball's, that the rewrite below can set back exactly.
    const project = await rememberedProject((p) => utimesSync(file(p), 1_700_000_000, 1_700_000_000));
    const before = statSync(file(project), { bigint: true });
    const text = readFileSync(file(project), 'utf8');
    expect(text).toContain('"version": "3.2.0"');
    writeFileSync(file(project), text.replace('"version": "3.2.0"', '"version": "3.2.9"'));
    utimesSync(file(project), 1_700_000_000, 1_700_000_000);
    const after = statSync(file(project), { bigint: true });
    // Only ctime tells (and the bytes): same inode, size and mtime.
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    // Settled again, so that only the stat comparison can tell (a change just made is never vouched for anyway).
    await sleep(SETTLE_MS);
    const r = await install(project);
    expect(r.stderr).not.toContain(REPLAYED_INSTALLED);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('INSTALLED_MISMATCH');
    expect(r.stderr).toContain('fast-compiler@3.2.0: the copy installed at node_modules/fast-compiler is not the one checked');
    expect(ranSince(project)).toEqual([]);
  });

  it('`ci`: every installed file is new, too fresh for its stat, and the installed decision is replayed by the bytes read', async () => {
    const project = createProject('npm', registry.url, { 'evil-postinstall': '1.0.0', 'fast-compiler': '3.2.0', 'left-pad-lite': '1.1.0' }, { policy: policy(['fast-compiler']) });
    writeFileSync(join(project.dir, '.npmrc'), `${readFileSync(join(project.dir, '.npmrc'), 'utf8')}ignore-scripts=true\n`);
    const first = await install(project);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain(REPLAYED_INSTALLED);
    expect(ranSince(project)).toEqual(['fast-compiler@3.2.0.ran']);
    // npm ci writes the bytes the install wrote, and that decision remembered them, read up front: replayed at once
    // (no waiting for the files to settle), build plan and notice included.
    for (let round = 0; round < 2; round++) {
      const ci = await install(project, ['ci']);
      expect(ci.code, ci.stderr).toBe(0);
      expect(ci.stderr).toContain(REPLAYED_LOCKFILE);
      expect(ci.stderr).toContain(REPLAYED_INSTALLED);
      expect(ranSince(project)).toEqual(['fast-compiler@3.2.0.ran']);
      expect(ci.stderr).toContain('portcullis approve evil-postinstall@1.0.0');
    }
  });

  it('after package-lock.json was edited: `ci` decides the lockfile again and installs nothing', async () => {
    const project = await rememberedProject();
    const ci = await install(project, ['ci']);
    expect(ci.code, ci.stderr).toBe(0);
    expect(ci.stderr).toContain(REPLAYED_LOCKFILE);
    const file = join(project.dir, 'package-lock.json');
    const lock = JSON.parse(readFileSync(file, 'utf8')) as { packages: Record<string, { integrity?: string }> };
    const entry = lock.packages['node_modules/left-pad-lite']!;
    // Another tarball's integrity: what the registry signed no longer matches.
    entry.integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
    writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
    ranSince(project);
    const edited = await install(project, ['ci']);
    expect(edited.stderr).not.toContain(REPLAYED_LOCKFILE);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain('left-pad-lite@1.1.0');
    expect(edited.stderr).toContain('nothing was installed');
    expect(ranSince(project)).toEqual([]);
  });
});
