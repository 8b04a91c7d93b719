/**
 * What CI and a person at a terminal see from `portcullis check` and `explain` on a real install from the test
 * registry: `--format github` (parsed back against the workflow-command syntax, the job summary file), SARIF
 * located at the package's line in each lockfile format, explain's evidence, and the progress line only on a TTY.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { demo, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createProject, install, portcullis, run, type PackageManagerName, type Project } from '../src/project.js';
import { npm, pnpm, yarn, type Tool } from '../src/toolbox.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry({ packages: demo });
});
afterAll(async () => {
  await registry?.close();
});

/** GitHub's workflow-command syntax, read back the way the runner does: `::name key=value,…::message`, unescaped. */
function parseWorkflowCommand(line: string): { command: string; properties: Record<string, string>; message: string } | null {
  const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
  if (match === null) return null;
  const data = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    properties[pair.slice(0, eq)] = data(pair.slice(eq + 1).replace(/%3A/g, ':').replace(/%2C/g, ','));
  }
  return { command: match[1]!, properties, message: data(match[3]!) };
}

/** The 1-based line of the first lockfile line that starts with `prefix` (after indentation). */
function lineOf(file: string, prefix: string): number {
  const index = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.trimStart().startsWith(prefix));
  if (index === -1) throw new Error(`${prefix} is not in ${file}`);
  return index + 1;
}

const LOCKFILE: Record<PackageManagerName, string> = { npm: 'package-lock.json', pnpm: 'pnpm-lock.yaml', yarn: 'yarn.lock' };
/** Where each format declares evil-postinstall@1.0.0. */
const DECLARED: Record<PackageManagerName, string> = { npm: '"node_modules/evil-postinstall":', pnpm: 'evil-postinstall@1.0.0:', yarn: '"evil-postinstall@npm:1.0.0":' };
const managers: Array<[PackageManagerName, () => Tool]> = [
  ['npm', () => npm(11)],
  ['pnpm', () => pnpm(10)],
  ['yarn', () => yarn()],
];

async function blockedProject(pm: PackageManagerName, tool: Tool): Promise<Project> {
  const project = createProject(pm, registry.url, { 'evil-postinstall': '1.0.0', 'left-pad-lite': '1.1.0' }, { policy: { registries: { [registry.url]: { keys: registry.keys.keys } } } });
  const installed = await install(tool, pm, project);
  expect(installed.code, installed.stderr + installed.stdout).toBe(0);
  return project;
}

describe.each(managers)('CI output on a project installed by %s', (pm, tool) => {
  it('check --format github: one ::error per finding at the line the lockfile declares it, and a job summary', async () => {
    const project = await blockedProject(pm, tool());
    const summary = join(project.home, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = await portcullis(project, ['check', '--format', 'github'], { GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: project.dir });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    const commands = lines.map(parseWorkflowCommand).filter((c) => c !== null);
    expect(commands).toEqual([
      {
        command: 'error',
        properties: { file: LOCKFILE[pm], line: String(lineOf(join(project.dir, LOCKFILE[pm]), DECLARED[pm])), col: expect.any(String), title: 'SCRIPT_NOT_ALLOWED' },
        message: expect.stringMatching(/^evil-postinstall@1\.0\.0 .*\nfix: portcullis approve evil-postinstall@1\.0\.0$/s),
      },
    ]);
    expect(lines.at(-1)).toMatch(new RegExp(`^portcullis: 1 of \\d+ packages blocked \\(${LOCKFILE[pm].replace('.', '\\.')}\\); exit code 1$`));
    // Appended, never overwritten: the job summary belongs to every step.
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n')).toBe(true);
    expect(md).toContain('| evil-postinstall@1.0.0 (line ');
    expect(md).toContain('| SCRIPT_NOT_ALLOWED |');
    // The same check in SARIF locates the result at the same line.
    const sarif = JSON.parse((await portcullis(project, ['check', '--format', 'sarif'])).stdout);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.region.startLine).toBe(Number(commands[0]!.properties.line));
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(LOCKFILE[pm]);
  });
});

describe('explain and the progress line (npm)', () => {
  it('explain names the signing key and registry, the deciding policy line, and what would change the verdict', async () => {
    const project = await blockedProject('npm', npm(11));
    const blocked = await portcullis(project, ['explain', 'evil-postinstall']);
    expect(blocked.code, blocked.stderr).toBe(1);
    expect(blocked.stdout).toContain('evil-postinstall@1.0.0 — BLOCKED');
    expect(blocked.stdout).toContain('decided by: scripts.allow: (no entry covers it: denied by default) (default)');
    expect(blocked.stdout).toContain('fix: portcullis approve evil-postinstall@1.0.0');

    const keyid = registry.keys.keys[0]!.keyid;
    const json = JSON.parse((await portcullis(project, ['explain', 'left-pad-lite', '--format', 'json'])).stdout);
    const rules = Object.fromEntries(json.copies[0].rules.map((r: { rule: string }) => [r.rule, r]));
    expect(json.copies[0]).toMatchObject({ package: 'left-pad-lite', version: '1.1.0', verdict: 'allowed', paths: ['node_modules/left-pad-lite'] });
    expect(rules.signatures).toMatchObject({ outcome: 'allowed', facts: { status: 'verified', keyid, registry: registry.url } });
    expect(rules.registry.decidedBy[0]).toMatchObject({ key: `registries["${registry.url}"].keys`, source: join(project.dir, 'portcullis.json') });

    // After approving, the pinned entry is the line that decided, and removing it is what would change the verdict.
    expect((await portcullis(project, ['approve', 'evil-postinstall'])).code).toBe(0);
    const allowed = await portcullis(project, ['explain', 'evil-postinstall']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/decided by: scripts\.allow: evil-postinstall@1\.0\.0 \(.*portcullis\.json:\d+:\d+\)/);
    expect(allowed.stdout).toContain('would change: remove "evil-postinstall@1.0.0" from scripts.allow');
  });

  it('a cold check draws "checking n/N packages…" on a terminal and erases it; none without one, none in JSON', async () => {
    const project = await blockedProject('npm', npm(11));
    // `script` gives the command a pseudo-terminal; its output is what the terminal would show.
    const command = (format: string) => [process.execPath, CLI, 'check', '--format', format].map((a) => `'${a}'`).join(' ');
    const tty = await run('script', ['-qfec', command('text'), '/dev/null'], { cwd: project.dir, env: { ...project.env, PORTCULLIS_CACHE_DIR: join(project.home, 'cold-1') } });
    expect(tty.stdout).toMatch(/checking \d+\/\d+ packages…/);
    expect(tty.stdout).toContain('\r\u001b[2K');
    expect(tty.stdout).toContain('evil-postinstall@1.0.0');
    const json = await run('script', ['-qfec', command('json'), '/dev/null'], { cwd: project.dir, env: { ...project.env, PORTCULLIS_CACHE_DIR: join(project.home, 'cold-2') } });
    expect(json.stdout).toContain('"findings"');
    expect(json.stdout).not.toContain('checking ');
    const plain = await run(process.execPath, [CLI, 'check'], { cwd: project.dir, env: { ...project.env, PORTCULLIS_CACHE_DIR: join(project.home, 'cold-3') } });
    expect(plain.code).toBe(1);
    expect(plain.stderr).not.toContain('checking ');
    expect(plain.stdout).not.toContain('checking ');
  });
});
