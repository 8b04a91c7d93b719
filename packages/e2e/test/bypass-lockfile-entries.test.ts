/**
 * A pnpm-lock.yaml that names a package twice, once with the integrity the registry signed and once with the integrity
 * of a tarball a mirror altered (attack round of issue 17): in a first YAML document (where pnpm 11+ keeps its config
 * dependencies), or under a `packages` key with a peer suffix, which pnpm never reads. pnpm 12 installs the altered
 * entry; Portcullis must judge that one — in pnpm 12's updateConfig, which judges the file before pnpm installs, and in
 * `check` — and never the decoy. Real pnpm 12, a registry serving altered tarballs under untouched signed metadata.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPackage, startRegistry, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, portcullis, run, type Project, type RunResult } from '../src/project.js';
import { pnpm } from '../src/toolbox.js';

let registry: TestRegistry;
/** The integrity of each altered tarball, as the mirror serves it. */
const altered = new Map<string, string>();
/** Projects installed from the genuine tarballs before the mirror alters them, one per test. */
let projects: Array<{ project: Project; signed: Map<string, string> }>;
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), withPostinstall('allowed-build', '1.0.0')] });
  projects = [await installedProject(), await installedProject(), await installedProject(), await installedProject()];
  await alterTarballs();
}, 120_000);
afterAll(async () => {
  await registry?.close();
});

function pnpm12(project: Project, args: string[]): Promise<RunResult> {
  const tool = pnpm(12);
  const own = [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false', '--config.fetch-retries=0'];
  return run(tool.command, [...tool.args, ...args, ...own], { cwd: project.dir, env: project.env });
}

/** Swaps both tarballs for altered ones (metadata and signatures untouched) and notes their integrities. */
async function alterTarballs(): Promise<void> {
  registry.swapTarball('good', '1.0.0', { 'index.js': 'module.exports = "altered by a mirror";\n' });
  const marker = "require('fs').writeFileSync(require('path').join(process.env.PORTCULLIS_MARKER_DIR, 'altered-postinstall.ran'), '')";
  registry.swapTarball('allowed-build', '1.0.0', { 'package.json': JSON.stringify({ name: 'allowed-build', version: '1.0.0', scripts: { postinstall: `node -e "${marker}"` } }) });
  for (const name of ['good', 'allowed-build']) {
    const tarball = Buffer.from(await (await fetch(`${registry.url}${name}/-/${name}-1.0.0.tgz`)).arrayBuffer());
    altered.set(name, `sha512-${createHash('sha512').update(tarball).digest('base64')}`);
  }
}

/** A project installed by pnpm 12 under Portcullis from the genuine tarballs: its lockfile names the signed integrities. */
async function installedProject(): Promise<{ project: Project; signed: Map<string, string> }> {
  const project = createProject('pnpm', registry.url, { good: '1.0.0', 'allowed-build': '1.0.0' }, { policy: { scripts: { allow: ['allowed-build'] }, registries: { [registry.url]: { keys: registry.keys.keys } } } });
  expect((await portcullis(project, ['init', 'pnpm'])).code).toBe(0);
  const first = await pnpm12(project, ['install']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return { project, signed: new Map(['good', 'allowed-build'].map((name) => [name, registry.integrity(name, '1.0.0')])) };
}

/** A fresh checkout of the edited lockfile on a machine whose store never held the genuine tarballs. */
async function frozenInstall(project: Project): Promise<RunResult> {
  for (const path of ['node_modules', join('..', 'home', 'pnpm-store')]) rmSync(join(project.dir, path), { recursive: true, force: true });
  for (const marker of readdirSync(project.markers)) rmSync(join(project.markers, marker));
  return pnpm12(project, ['install', '--frozen-lockfile']);
}

async function expectRefused(project: Project): Promise<void> {
  const r = await frozenInstall(project);
  const out = r.stdout + r.stderr;
  expect(r.code, out).not.toBe(0);
  expect(out).toContain('BAD_SIGNATURE');
  expect(readdirSync(project.markers)).toEqual([]);
  const good = join(project.dir, 'node_modules', 'good', 'index.js');
  expect(existsSync(good) ? readFileSync(good, 'utf8') : '').not.toContain('altered');
  const check = await portcullis(project, ['check', '--format', 'json']);
  const findings = (JSON.parse(check.stdout) as { findings: Array<{ code: string; package: string }> }).findings.map((f) => `${f.code} ${f.package}`);
  expect(check.code).toBe(1);
  expect(findings).toEqual(expect.arrayContaining(['BAD_SIGNATURE good', 'BAD_SIGNATURE allowed-build']));
}

describe('pnpm 12: an entry pnpm installs is judged, not a decoy that names the same package', () => {
  it('a first YAML document naming the signed integrities, the project document the altered ones', async () => {
    const { project, signed } = projects[0]!;
    const file = join(project.dir, 'pnpm-lock.yaml');
    let text = readFileSync(file, 'utf8');
    for (const [name, integrity] of signed) text = text.replace(integrity, altered.get(name)!);
    const decoy = ['---', "lockfileVersion: '9.0'", 'packages:', ...[...signed].flatMap(([name, integrity]) => [`  ${name}@1.0.0:`, `    resolution: {integrity: ${integrity}}`]), '---', ''].join('\n');
    writeFileSync(file, decoy + text);
    await expectRefused(project);
  });

  it('a `packages` key with a peer suffix naming the signed integrities, the key pnpm reads the altered ones', async () => {
    const { project, signed } = projects[1]!;
    const file = join(project.dir, 'pnpm-lock.yaml');
    let text = readFileSync(file, 'utf8');
    for (const [name, integrity] of signed) {
      text = text.replace(integrity, altered.get(name)!);
      // The importer's version and the snapshot's key gain a peer suffix; a packages entry under the suffixed key holds the signed integrity.
      text = text.replace(new RegExp(`(\\n      ${name}:\\n        specifier: 1\\.0\\.0\\n        version: 1\\.0\\.0)`), '$1(x@1.0.0)');
      text = text.replace(new RegExp(`\\n  ${name}@1\\.0\\.0:(\\s*\\{\\})?\\n(?=[\\s\\S]*$)`, 'g'), (match, empty: string | undefined) => (empty !== undefined ? `\n  ${name}@1.0.0(x@1.0.0):${empty}\n` : match));
      text = text.replace('\npackages:\n', `\npackages:\n\n  ${name}@1.0.0(x@1.0.0):\n    resolution: {integrity: ${integrity}}\n`);
    }
    writeFileSync(file, text);
    expect(text).toContain('version: 1.0.0(x@1.0.0)');
    expect(text).toMatch(/snapshots:[\s\S]*good@1\.0\.0\(x@1\.0\.0\)/);
    await expectRefused(project);
  });

  it('a YAML merge key, which pnpm merges in and Portcullis\'s reader of the file does not: the lockfile pnpm parsed is judged instead, and check refuses the file', async () => {
    const { project, signed } = projects[2]!;
    const file = join(project.dir, 'pnpm-lock.yaml');
    const integrity = signed.get('good')!;
    // Beside it, the altered allowed-build: whatever reads this lockfile must refuse that one.
    const text = readFileSync(file, 'utf8')
      .replace(signed.get('allowed-build')!, altered.get('allowed-build')!)
      .replace(`    resolution: {integrity: ${integrity}}`, `    resolution:\n      <<: {tarball: '${registry.url}good/-/good-1.0.0.tgz'}\n      integrity: ${integrity}`);
    expect(text).toContain('<<:');
    writeFileSync(file, text);
    // updateConfig cannot read the file as pnpm does, so it leaves it to preResolution, which judges the lockfile pnpm
    // parsed (its merges made): the altered package is refused there, before anything is linked.
    const r = await frozenInstall(project);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('BAD_SIGNATURE');
    expect(readdirSync(project.markers)).toEqual([]);
    expect(existsSync(join(project.dir, 'node_modules', 'good'))).toBe(false);
    const check = await portcullis(project, ['check']);
    expect(check.code).toBe(2);
    expect(check.stdout + check.stderr).toContain('merge key');
  });

  it('a `link:` to an absolute path outside the project (package.json and lockfile both edited) is not the project\'s own code', async () => {
    const { project } = projects[3]!;
    // A folder outside the project, under the name of a dependency.
    const outside = join(project.home, 'outside', 'good');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'package.json'), JSON.stringify({ name: 'good', version: '1.0.0' }));
    writeFileSync(join(outside, 'index.js'), 'module.exports = "linked from outside";\n');
    const manifest = JSON.parse(readFileSync(join(project.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies.good = `link:${outside}`;
    writeFileSync(join(project.dir, 'package.json'), JSON.stringify(manifest, null, 2));
    const file = join(project.dir, 'pnpm-lock.yaml');
    const text = readFileSync(file, 'utf8').replace(/(\n {6}good:\n {8}specifier: )1\.0\.0(\n {8}version: )1\.0\.0/, `$1link:${outside}$2link:${outside}`);
    expect(text).toContain(`version: link:${outside}`);
    writeFileSync(file, text);
    const r = await frozenInstall(project);
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('UNSIGNED_SOURCE');
    const good = join(project.dir, 'node_modules', 'good');
    expect(existsSync(good) && lstatSync(good).isSymbolicLink() ? readFileSync(join(good, 'index.js'), 'utf8') : '').not.toContain('outside');
    const check = await portcullis(project, ['check']);
    expect(check.code, check.stdout + check.stderr).toBe(1);
    expect(check.stdout + check.stderr).toContain('UNSIGNED_SOURCE');
  });
});
