/**
 * Issue 13.5: `portcullis check` on a project that is not installed, against a registry that answers the
 * abbreviated-metadata request with the full document (`application/json`: versions carry `scripts`, no
 * `hasInstallScript` — what the npm registry mirror on the development machines does). Lockfiles written by
 * the real npm 11, pnpm 10 and Yarn 4 for the same project must flag exactly the same packages; before the fix
 * the pnpm and Yarn lockfiles (which record no script facts) exited 0.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPackage, fakeNodeGyp, startRegistry, withBindingGyp, withInstallScript, withPostinstall, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, run } from '../src/project.js';
import { npm, pnpm, yarn, type Tool } from '../src/toolbox.js';

const fixtures = [
  cleanPackage('plain', '1.0.0'),
  cleanPackage('@acme/quiet', '2.0.0', { scripts: { test: 'echo test', build: 'echo build' } }),
  withPostinstall('builds', '1.0.0'),
  withInstallScript('preinstall', '@acme/pre', '1.2.0'),
  withBindingGyp('native', '3.0.0'),
  cleanPackage('wraps-builds', '1.0.0', { dependencies: { builds: '1.0.0' } }),
  fakeNodeGyp(),
];
const dependencies = { plain: '1.0.0', '@acme/quiet': '2.0.0', '@acme/pre': '1.2.0', native: '3.0.0', 'wraps-builds': '1.0.0' };
const expected = ['@acme/pre@1.2.0', 'builds@1.0.0', 'native@3.0.0'];

let mirror: TestRegistry;
let scratch: string;
beforeAll(async () => {
  mirror = await startRegistry({ packages: fixtures, fullDocumentsOnly: true });
  scratch = mkdtempSync(join(tmpdir(), 'portcullis-full-docs-'));
});
afterAll(async () => {
  await mirror?.close();
});

function environment(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_update_notifier: 'false',
    COREPACK_ENABLE_STRICT: '0',
    YARN_ENABLE_TELEMETRY: '0',
    YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    YARN_ENABLE_GLOBAL_CACHE: 'false',
    PORTCULLIS_CACHE_DIR: join(home, 'portcullis-cache'),
    PORTCULLIS_STATE_DIR: join(home, 'portcullis-state'),
    NO_COLOR: '1',
  };
}

/** A project with only a lockfile written by `tool` (nothing installed), and signatures off. */
async function lockedProject(label: string, tool: Tool, args: string[]): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = join(scratch, label);
  const home = join(scratch, `${label}-home`);
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.npmrc'), `registry=${mirror.url}\n`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'full-docs-app', version: '1.0.0', private: true, dependencies }, null, 2));
  writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ signatures: { require: 'off' } }));
  if (tool.name === 'yarn') {
    writeFileSync(join(dir, '.yarnrc.yml'), `npmRegistryServer: "${mirror.url.replace(/\/$/, '')}"\nunsafeHttpWhitelist: ["127.0.0.1"]\nenableTelemetry: false\nenableGlobalCache: false\n`);
    writeFileSync(join(dir, 'yarn.lock'), '');
  } else {
    writeFileSync(join(dir, '.npmrc'), `registry=${mirror.url}\n`);
  }
  const env = environment(home);
  const written = await run(tool.command, [...tool.args, ...args], { cwd: dir, env });
  if (written.code !== 0) throw new Error(`${tool.name} ${args.join(' ')} failed:\n${written.stdout}\n${written.stderr}`);
  return { dir, env };
}

async function flagged(project: { dir: string; env: NodeJS.ProcessEnv }): Promise<{ code: number; packages: string[]; codes: string[] }> {
  const r = await run(process.execPath, [CLI, 'check', '--format', 'json'], { cwd: project.dir, env: project.env });
  if (r.stdout.trim() === '') throw new Error(`check printed nothing (exit ${r.code}):\n${r.stderr}`);
  const findings = (JSON.parse(r.stdout) as { findings: Array<{ package: string; version: string; code: string }> }).findings;
  return { code: r.code, packages: findings.map((f) => `${f.package}@${f.version}`).sort(), codes: [...new Set(findings.map((f) => f.code))] };
}

describe('check against a registry that serves full documents for abbreviated requests', () => {
  it('flags exactly the same packages from the npm, pnpm and Yarn lockfiles of one project', async () => {
    const projects = {
      npm: await lockedProject('npm', npm(11), ['install', '--package-lock-only', '--ignore-scripts']),
      pnpm: await lockedProject('pnpm', pnpm(10), ['install', '--lockfile-only', '--ignore-scripts', '--store-dir', join(scratch, 'pnpm-store')]),
      yarn: await lockedProject('yarn', yarn(), ['install', '--mode=update-lockfile']),
    };
    for (const [label, project] of Object.entries(projects)) {
      const result = await flagged(project);
      expect({ label, ...result }).toEqual({ label, code: 1, packages: expected, codes: ['SCRIPT_NOT_ALLOWED'] });
    }
  });
});
