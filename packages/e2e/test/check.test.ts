/**
 * `portcullis check` on projects installed by the real npm, pnpm and Yarn from the test registry:
 * script findings, every signature finding code, and the exit codes 0/1/2/3.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { demo, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, install, portcullis, type PackageManagerName, type Project } from '../src/project.js';
import { npm, pnpm, yarn, type Tool } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: demo });
});
afterAll(async () => {
  await registry?.close();
});

const trustTestRegistry = () => ({ [registry.url]: { keys: registry.keys.keys } });

interface JsonReport {
  findings: Array<{ package: string; version: string; rule: string; code: string; message: string; fix: string }>;
  exitCode: number;
  notices: string[];
}

async function checkJson(project: Project, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; report: JsonReport; stderr: string }> {
  const r = await portcullis(project, ['check', '--format', 'json'], env);
  let report: JsonReport;
  try {
    report = JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`check did not print JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

const managers: Array<[PackageManagerName, () => Tool]> = [
  ['npm', () => npm(11)],
  ['pnpm', () => pnpm(10)],
  ['yarn', () => yarn()],
];

describe.each(managers)('check on a project installed by %s', (pm, tool) => {
  const scriptsDeps = { '@acme/logger': '^2.1.0', 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'fast-compiler': '^3.2.0' };

  it('reports the unapproved postinstall and binding.gyp packages, not the approved one (exit 1)', async () => {
    const project = createProject(pm, registry.url, scriptsDeps, { policy: { scripts: { allow: ['fast-compiler@^3'] }, registries: trustTestRegistry() } });
    const installed = await install(tool(), pm, project);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    const { code, report } = await checkJson(project);
    const blocked = report.findings.map((f) => `${f.code} ${f.package}@${f.version}`);
    expect(blocked).toEqual(['SCRIPT_NOT_ALLOWED evil-postinstall@1.0.0', 'SCRIPT_NOT_ALLOWED native-addon@1.0.0']);
    expect(report.findings[1]!.message).toContain('node-gyp');
    expect(report.findings[0]!.fix).toBe('portcullis approve evil-postinstall@1.0.0');
    expect(code).toBe(1);

    // approve writes pinned entries; afterwards nothing is blocked
    const approved = await portcullis(project, ['approve', 'evil-postinstall', 'native-addon']);
    expect(approved.code, approved.stderr).toBe(0);
    const after = await checkJson(project);
    expect(after.report.findings).toEqual([]);
    expect(after.code).toBe(0);
  });

  it('a repeated check of the unchanged tree replays its report (same output, the memo in checks-v1/); an installed file changed decides again', async () => {
    const project = createProject(pm, registry.url, scriptsDeps, { policy: { scripts: { allow: ['fast-compiler@^3'] }, registries: trustTestRegistry() } });
    const installed = await install(tool(), pm, project);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    const first = await portcullis(project, ['check', '--format', 'json']);
    expect(existsSync(join(project.home, 'portcullis-cache', 'checks-v1')), 'the CLI build remembers its report').toBe(true);
    const from = registry.requests.length;
    const again = await portcullis(project, ['check', '--format', 'json']);
    expect(again.stdout).toBe(first.stdout);
    expect(again.code).toBe(first.code);
    expect(registry.requests.length).toBe(from);
    // @acme/logger's installed copy gains a postinstall: found, not replayed away.
    const store = join(project.dir, 'node_modules', '.pnpm');
    const logger = ['node_modules/@acme/logger', ...(existsSync(store) ? readdirSync(store) : []).filter((d) => d.startsWith('@acme+logger@')).map((d) => `node_modules/.pnpm/${d}/node_modules/@acme/logger`)]
      .map((dir) => join(project.dir, dir, 'package.json'))
      .filter((file) => existsSync(file));
    expect(logger.length).toBeGreaterThan(0);
    for (const file of logger) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, string> };
      writeFileSync(file, JSON.stringify({ ...manifest, scripts: { ...manifest.scripts, postinstall: 'node steal.js' } }));
    }
    const changed = await checkJson(project);
    expect(changed.report.findings.map((f) => `${f.code} ${f.package}`)).toContain('SCRIPT_NOT_ALLOWED @acme/logger');
  });

  it('reports every signature problem with its own code', async () => {
    const deps = { 'unsigned-lib': '1.0.0', 'tampered-lib': '1.0.0', 'rogue-signed': '1.0.0', 'legacy-signed': '1.0.0', 'left-pad-lite': '1.1.0' };
    const project = createProject(pm, registry.url, deps, { policy: { registries: trustTestRegistry() } });
    const installed = await install(tool(), pm, project);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    const { code, report } = await checkJson(project);
    expect(report.findings.map((f) => `${f.code} ${f.package}@${f.version}`)).toEqual([
      'UNKNOWN_KEY rogue-signed@1.0.0',
      'BAD_SIGNATURE tampered-lib@1.0.0',
      'UNSIGNED unsigned-lib@1.0.0',
    ]);
    expect(code).toBe(1);
  });
});

describe('check: CI runners sharing a memo key (docs/ci.md)', () => {
  it('a new runner given the earlier runs\' key replays their report without asking the registry; one with its own key asks; a key written wrong is said in a notice', async () => {
    const project = createProject('npm', registry.url, { '@acme/logger': '^2.1.0', 'evil-postinstall': '1.0.0' }, { policy: { scripts: { allow: [] }, registries: trustTestRegistry() } });
    const installed = await install(npm(11), 'npm', project);
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);
    const shared = 'c4'.repeat(32);
    // Each runner: a new state directory, the key written as `echo` writes it (or none: a key of its own is made).
    const runner = (tag: string, written?: string) => {
      const state = join(project.home, `state-${tag}`);
      mkdirSync(state, { recursive: true, mode: 0o700 });
      if (written !== undefined) writeFileSync(join(state, 'memo-key'), written, { mode: 0o600 });
      return { PORTCULLIS_STATE_DIR: state };
    };
    // The restored cache lacks the registry documents, so what a runner takes from the registry shows.
    const cache = join(project.home, 'portcullis-cache');
    const checkOn = async (env: NodeJS.ProcessEnv) => {
      for (const entry of readdirSync(cache)) if (/^metadata-v\d+$/.test(entry)) rmSync(join(cache, entry), { recursive: true });
      const from = registry.requests.length;
      const r = await checkJson(project, env);
      return { ...r, requests: registry.requests.length - from };
    };
    const first = await checkJson(project, runner('first', `${shared}\n`));
    expect(first.report.findings.map((f) => `${f.code} ${f.package}`)).toEqual(['SCRIPT_NOT_ALLOWED evil-postinstall']);

    const keyed = await checkOn(runner('keyed', `${shared}\n`));
    expect(keyed.report).toEqual(first.report);
    expect(keyed.requests).toBe(0);

    const own = await checkOn(runner('own'));
    expect(own.report.findings).toEqual(first.report.findings);
    expect(own.requests).toBeGreaterThan(0);

    const wrong = await checkOn(runner('wrong', `${shared}\n\n`));
    expect(wrong.report.findings).toEqual(first.report.findings);
    expect(wrong.requests).toBeGreaterThan(0);
    const said = wrong.report.notices.filter((n) => n.includes('memo key'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(join(project.home, 'state-wrong', 'memo-key'));
    expect(said[0]).toContain('Fix: write the key again as docs/ci.md shows');
    expect(own.report.notices.filter((n) => n.includes('memo key'))).toEqual([]);
  });
});

describe('check: signature edge cases (npm)', () => {
  it('a key that expired before publication gives KEY_EXPIRED; before expiry the old key still counts', async () => {
    const project = createProject('npm', registry.url, { 'legacy-signed': '1.1.0' }, { policy: { registries: trustTestRegistry() } });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    const { code, report } = await checkJson(project);
    expect(report.findings.map((f) => `${f.code} ${f.package}@${f.version}`)).toEqual(['KEY_EXPIRED legacy-signed@1.1.0']);
    expect(code).toBe(1);
  });

  it('a registry with no trusted keys gives UNTRUSTED_REGISTRY with the fix', async () => {
    const project = createProject('npm', registry.url, { 'left-pad-lite': '1.1.0' }, { policy: {} });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    const { code, report } = await checkJson(project);
    expect(report.findings.map((f) => f.code)).toEqual(['UNTRUSTED_REGISTRY']);
    expect(report.findings[0]!.fix).toContain(`"${registry.url}"`);
    expect(code).toBe(1);
  });

  it('a remote tarball dependency gives UNSIGNED_SOURCE', async () => {
    // A plain file server, not a registry: the tarball URL has no registry shape.
    const bytes = Buffer.from(await (await fetch(`${registry.url}left-pad-lite/-/left-pad-lite-1.0.0.tgz`)).arrayBuffer());
    const server = createServer((_req, res) => res.end(bytes));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const tarball = `http://127.0.0.1:${(server.address() as AddressInfo).port}/downloads/left-pad.tgz`;
      const project = createProject('npm', registry.url, { 'left-pad-lite': tarball }, { policy: { registries: trustTestRegistry() } });
      expect((await install(npm(11), 'npm', project)).code).toBe(0);
      const { code, report } = await checkJson(project);
      expect(report.findings.map((f) => `${f.code} ${f.package}`)).toEqual(['UNSIGNED_SOURCE left-pad-lite']);
      expect(report.findings[0]!.message).toContain('remote tarball');
      expect(code).toBe(1);
    } finally {
      server.close();
    }
  });

  it('--refresh-keys adds keys the registry publishes, never needed for embedded ones', async () => {
    const expiredOnly = registry.keys.keys.filter((k) => k.expires !== null);
    expect(expiredOnly).toHaveLength(1);
    const project = createProject('npm', registry.url, { 'left-pad-lite': '1.1.0' }, { policy: { registries: { [registry.url]: { keys: expiredOnly } } } });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    const without = await checkJson(project);
    expect(without.report.findings.map((f) => f.code)).toEqual(['UNKNOWN_KEY']);
    const refreshed = await portcullis(project, ['check', '--format', 'json', '--refresh-keys']);
    const report = JSON.parse(refreshed.stdout) as JsonReport;
    expect(report.findings).toEqual([]);
    expect(report.notices.join('\n')).toContain('publishes keys not in portcullis.json');
    expect(refreshed.code).toBe(0);
  });

  it('a registry answering 500 exits 3 with METADATA_UNAVAILABLE, never allowed', async () => {
    const project = createProject('npm', registry.url, { 'left-pad-lite': '1.1.0' }, { policy: { registries: trustTestRegistry() } });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    registry.setFault(/left-pad-lite$/, { kind: 'status', status: 500 });
    try {
      const { code, report } = await checkJson(project);
      expect(report.findings.map((f) => f.code)).toEqual(['METADATA_UNAVAILABLE']);
      expect(report.findings[0]!.message).toContain('left-pad-lite@1.1.0');
      expect(code).toBe(3);
    } finally {
      registry.clearFaults();
    }
    // once it answers again, the same project passes
    expect((await checkJson(project)).code).toBe(0);
  });

  it('offline uses the cache after one online run, and fails closed without it', async () => {
    const project = createProject('npm', registry.url, { '@acme/logger': '^2.1.0' }, { policy: { registries: trustTestRegistry() } });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    const cold = await portcullis(project, ['check', '--offline']);
    expect(cold.code).toBe(3);
    expect(cold.stdout).toContain('run once online');
    expect((await portcullis(project, ['check'])).code).toBe(0);
    const warm = await portcullis(project, ['check', '--offline']);
    expect(warm.code, warm.stdout).toBe(0);
  });

  it('a malformed portcullis.json exits 2 naming the file, line and column', async () => {
    const project = createProject('npm', registry.url, { 'left-pad-lite': '1.1.0' });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    writeFileSync(join(project.dir, 'portcullis.json'), '{\n  "scripts": {\n    "allow": ["sharp@^^1"]\n  }\n}\n');
    const r = await portcullis(project, ['check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(project.dir, 'portcullis.json')}:3:15`);
    expect(r.stderr).toContain('not a valid semver range');
  });

  it('SARIF output locates findings in the lockfile', async () => {
    const project = createProject('npm', registry.url, { 'evil-postinstall': '1.0.0' }, { policy: { registries: trustTestRegistry() } });
    expect((await install(npm(11), 'npm', project)).code).toBe(0);
    const r = await portcullis(project, ['check', '--format', 'sarif']);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout);
    const result = sarif.runs[0].results[0];
    expect(result.ruleId).toBe('SCRIPT_NOT_ALLOWED');
    expect(result.locations[0].physicalLocation.artifactLocation.uri).toBe('package-lock.json');
    expect(result.locations[0].physicalLocation.region.startLine).toBeGreaterThan(1);
  });

  it('a usage error exits 2', async () => {
    const project = createProject('npm', registry.url, {});
    expect((await portcullis(project, ['check', '--format', 'xml'])).code).toBe(2);
    expect((await portcullis(project, ['frobnicate'])).code).toBe(2);
  });
});

describe('check: a registry that strips every signature', () => {
  it('is reported once, plainly, not as N mysteries', async () => {
    const mirror = await startRegistry({ packages: demo, stripSignatures: true });
    try {
      const project = createProject('npm', mirror.url, { '@acme/logger': '^2.1.0' }, { policy: { registries: { [mirror.url]: { keys: registry.keys.keys } } } });
      expect((await install(npm(11), 'npm', project)).code).toBe(0);
      const { code, report } = await checkJson(project);
      expect(report.findings.map((f) => f.code)).toEqual(['UNSIGNED', 'UNSIGNED', 'UNSIGNED']);
      expect(report.notices).toHaveLength(1);
      expect(report.notices[0]).toContain('served no signatures for any of the 3 packages');
      expect(code).toBe(1);
      const text = await portcullis(project, ['check']);
      expect(text.stdout.match(/served no signatures/g)).toHaveLength(1);
    } finally {
      await mirror.close();
    }
  });
});
