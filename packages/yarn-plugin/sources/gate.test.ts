import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, openCachedGate, openGate, type Gate, type GateOptions, type PackageNode, type Verdict } from '@portcullis/core';
import { fakeVerdict } from '@portcullis/core/internal';
import { Configuration, ReportError, SettingsType, structUtils, type Descriptor, type Ident, type Locator, type MessageName, type Plugin, type Project, type Report } from '@yarnpkg/core';
import { npath } from '@yarnpkg/fslib';
import npmPlugin from '@yarnpkg/plugin-npm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { guardProjects, judgeResolution, mayBuild, permittedMeta, prefetchDependency, signedTarball, signedTarballs, skipBlockedScripts } from './gate.js';
import { yarnRegistryConfig } from './registry.js';
import { tarballKey } from './tarballs.js';

// openGate (and openCachedGate, for a build question before any install) is the real one unless a test hands the
// next project a fake gate; yarnRegistryConfig is counted.
vi.mock('@portcullis/core', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@portcullis/core')>();
  return { ...actual, openGate: vi.fn(actual.openGate), openCachedGate: vi.fn(actual.openCachedGate) };
});
// A fake handed to openCachedGate that no build question took does not leak into the next test.
afterEach(async () => {
  const actual = await vi.importActual<typeof import('@portcullis/core')>('@portcullis/core');
  vi.mocked(openCachedGate).mockReset().mockImplementation(actual.openCachedGate);
});
vi.mock('./registry.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./registry.js')>();
  return { ...actual, yarnRegistryConfig: vi.fn(actual.yarnRegistryConfig) };
});

/** The plugin's own setting, as index.ts declares it (importing index.ts would wrap Yarn's real Project). */
const portcullisSettings: Plugin = { configuration: { portcullisStrict: { description: '', type: SettingsType.BOOLEAN, default: false } } as never };

const dirs: string[] = [];
const ENV_KEYS = ['PORTCULLIS_POLICY', 'PORTCULLIS_STRICT_SCRIPTS', 'PORTCULLIS_STRICT_BUILDS', 'PORTCULLIS_CACHE_DIR', 'PORTCULLIS_STATE_DIR'];
const saved = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
let scratch: string;

beforeAll(() => {
  // The policy is the project's portcullis.json and strict mode Yarn's setting, never the environment running the tests.
  for (const key of ENV_KEYS) delete process.env[key];
  scratch = mkdtempSync(join(tmpdir(), 'portcullis-yarn-gate-'));
  process.env.PORTCULLIS_CACHE_DIR = join(scratch, 'cache');
  process.env.PORTCULLIS_STATE_DIR = join(scratch, 'state');
});
afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * A fake Project: what gate.ts reads of one (its folder, Yarn's configuration, its workspaces), for a project whose
 * portcullis.json is `policy` (raw text; undefined for none). Each call is a new project with its own install state.
 */
async function project(policy: string | undefined, workspaces: string[] = [], extra: { settings?: Record<string, unknown>; lockfile?: string; workspaceDirs?: Record<string, string>; stored?: Locator[] } = {}): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-yarn-project-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'packages', 'app'), { recursive: true });
  if (policy !== undefined) writeFileSync(join(dir, 'portcullis.json'), policy);
  const cwd = npath.toPortablePath(dir);
  const configuration = await Configuration.create(
    cwd,
    null,
    new Map<string, Plugin>([
      ['@yarnpkg/plugin-npm', npmPlugin],
      ['portcullis', portcullisSettings],
    ]),
  );
  configuration.useWithSource('<test>', { npmRegistryServer: 'http://127.0.0.1:9', enableNetwork: false, ...extra.settings }, cwd, { overwrite: true });
  return {
    cwd,
    configuration,
    tryWorkspaceByIdent: (ident: Ident) => {
      const name = structUtils.stringifyIdent(ident);
      return workspaces.includes(name) ? ({ cwd, anchoredLocator: structUtils.makeLocator(ident, `workspace:${extra.workspaceDirs?.[name] ?? 'packages/app'}`) } as never) : null;
    },
    generateLockfile: () => extra.lockfile ?? LOCKFILE_HEADER,
    storedResolutions: new Map<string, string>(),
    storedPackages: new Map((extra.stored ?? []).map((l) => [l.locatorHash, { ...l, version: l.reference.replace(/^npm:/, '') }])),
    storedDescriptors: new Map(),
    originalPackages: new Map(),
    storedChecksums: new Map<string, string>(),
  } as unknown as Project;
}

const ident = (name: string): Ident => structUtils.parseIdent(name);
const npmLocator = (name: string, version: string): Locator => structUtils.makeLocator(ident(name), `npm:${version}`);
const workspaceLocator = (name: string): Locator => structUtils.makeLocator(ident(name), 'workspace:packages/app');

const POLICY = JSON.stringify({ scripts: { allow: ['esbuild', 'sharp@^0.34.0'] } });
const MALFORMED = '{ "scripts": { "allow": ';

describe('mayBuild (before any verdict: the policy answers)', () => {
  it('lets exactly what scripts.allow covers build: a bare name at every version, a ranged entry inside its range', async () => {
    const p = await project(POLICY);
    expect(mayBuild(p, npmLocator('esbuild', '0.25.0'), '0.25.0')).toBe(true);
    expect(mayBuild(p, ident('esbuild'), '0.19.2')).toBe(true);
    expect(mayBuild(p, npmLocator('sharp', '0.34.5'), '0.34.5')).toBe(true);
    expect(mayBuild(p, npmLocator('sharp', '0.33.0'), '0.33.0')).toBe(false);
    expect(mayBuild(p, npmLocator('left-pad', '1.3.0'), '1.3.0')).toBe(false);
  });

  it('a workspace always builds (its own code), by locator or by ident, whatever the policy', async () => {
    const p = await project(JSON.stringify({ scripts: { allow: [] } }), ['@acme/app']);
    expect(mayBuild(p, workspaceLocator('@acme/app'), '1.0.0')).toBe(true);
    expect(mayBuild(p, ident('@acme/app'), null)).toBe(true);
    expect(mayBuild(p, ident('@acme/other'), null)).toBe(false);
  });

  it('a workspace folder that is a symlink into node_modules or out of the project is not the project\'s own: the policy decides', async () => {
    const p = await project(JSON.stringify({ scripts: { allow: ['allowed-one'] }, signatures: { allowUnsigned: ['child', 'evil'] } }), ['child', 'evil', 'allowed-one'], {
      workspaceDirs: { child: 'vendored/child', evil: 'vendored/evil', 'allowed-one': 'vendored/allowed-one' },
    });
    const dir = npath.fromPortablePath(p.cwd);
    const outside = mkdtempSync(join(tmpdir(), 'portcullis-yarn-outside-'));
    dirs.push(outside);
    mkdirSync(join(dir, 'node_modules', 'evil'), { recursive: true });
    mkdirSync(join(dir, 'vendored'));
    symlinkSync(outside, join(dir, 'vendored', 'child'));
    symlinkSync('../node_modules/evil', join(dir, 'vendored', 'evil'));
    symlinkSync(outside, join(dir, 'vendored', 'allowed-one'));
    const at = (name: string) => structUtils.makeLocator(ident(name), `workspace:vendored/${name}`);
    expect(mayBuild(p, at('child'), '1.0.0')).toBe(false);
    expect(mayBuild(p, ident('child'), '1.0.0')).toBe(false);
    expect(mayBuild(p, at('evil'), '1.0.0')).toBe(false);
    expect(permittedMeta(p, ident('evil'), '1.0.0', { built: true }).built).toBe(false);
    // scripts.allow still lets one build, as it would a folder outside the project.
    expect(mayBuild(p, at('allowed-one'), '1.0.0')).toBe(true);
    // The project's own folder is still its own.
    expect(mayBuild(p, workspaceLocator('@acme/app'), '1.0.0')).toBe(true);
  });

  it('a registry package that shares a workspace\'s name, asked by its ident, is not the workspace', async () => {
    const p = await project(JSON.stringify({ scripts: { allow: [] } }), ['evil'], { stored: [npmLocator('evil', '1.0.0')] });
    expect(permittedMeta(p, ident('evil'), '1.0.0', {}).built).toBe(false);
    expect(mayBuild(p, ident('evil'), '1.0.0')).toBe(false);
    expect(mayBuild(p, structUtils.makeLocator(ident('evil'), 'workspace:packages/app'), '1.0.0')).toBe(true);
  });

  it('with no readable policy nothing builds (except workspaces), and it does not throw', async () => {
    const p = await project(MALFORMED, ['@acme/app']);
    expect(mayBuild(p, npmLocator('esbuild', '0.25.0'), '0.25.0')).toBe(false);
    expect(mayBuild(p, ident('esbuild'), null)).toBe(false);
    expect(mayBuild(p, workspaceLocator('@acme/app'), null)).toBe(true);
  });

  it('with no portcullis.json the defaults apply: no dependency builds', async () => {
    const p = await project(undefined);
    expect(mayBuild(p, npmLocator('esbuild', '0.25.0'), '0.25.0')).toBe(false);
  });
});

describe('permittedMeta', () => {
  it('sets built as the policy says, keeping the rest of the user\'s meta', async () => {
    const p = await project(POLICY);
    expect(permittedMeta(p, npmLocator('esbuild', '0.25.0'), '0.25.0', { unplugged: true })).toEqual({ unplugged: true, built: true });
    expect(permittedMeta(p, npmLocator('left-pad', '1.3.0'), '1.3.0', { optional: true })).toEqual({ optional: true, built: false });
  });

  it('a user\'s built: true cannot widen it; a user\'s built: false only narrows it', async () => {
    const p = await project(POLICY);
    expect(permittedMeta(p, npmLocator('left-pad', '1.3.0'), '1.3.0', { built: true }).built).toBe(false);
    expect(permittedMeta(p, npmLocator('esbuild', '0.25.0'), '0.25.0', { built: false }).built).toBe(false);
    expect(permittedMeta(p, npmLocator('esbuild', '0.25.0'), '0.25.0', { built: true }).built).toBe(true);
  });

  it('leaves a workspace\'s meta as the user wrote it (the same object)', async () => {
    const p = await project(MALFORMED, ['@acme/app']);
    const meta = { built: false };
    expect(permittedMeta(p, workspaceLocator('@acme/app'), null, meta)).toBe(meta);
    expect(permittedMeta(p, ident('@acme/app'), null, {})).toEqual({});
  });

  it('with no readable policy, built is false even when the user asked for it', async () => {
    const p = await project(MALFORMED);
    expect(permittedMeta(p, npmLocator('esbuild', '0.25.0'), '0.25.0', { built: true }).built).toBe(false);
  });
});

const LOCKFILE_HEADER = '__metadata:\n  version: 8\n  cacheKey: 10c0\n';
/** Two registry packages (one scoped) and the root workspace, as Project.generateLockfile serializes them. */
const LOCKFILE = `${LOCKFILE_HEADER}
"@acme/x@npm:^2.1.0":
  version: 2.1.0
  resolution: "@acme/x@npm:2.1.0"
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  dependencies:
    "@acme/x": "npm:^2.1.0"
    esbuild: "npm:^0.25.0"
  languageName: unknown
  linkType: soft

"esbuild@npm:^0.25.0":
  version: 0.25.0
  resolution: "esbuild@npm:0.25.0"
  languageName: node
  linkType: hard
`;
const YARN_SETTINGS = { npmRegistryServer: 'http://127.0.0.1:4873', npmScopes: { acme: { npmRegistryServer: 'http://127.0.0.1:4874/acme' } } };

/** A verdict with every consequence decided (what the fake gate returns); `builds` answers mayBuild by name. */
function decidedVerdict(decided: Partial<Pick<Verdict, 'blocking' | 'exitCode' | 'notices' | 'skippedNotice'>> & { builds?: string[]; signed?: Record<string, string> }): Verdict {
  const { builds = [], signed = {}, ...rest } = decided;
  return fakeVerdict({ ...rest, mayBuild: (pkg) => builds.includes(pkg.name), signedIntegrity: (pkg) => signed[`${pkg.name}@${pkg.version}`], buildPlan: () => [] });
}

/** A fake gate returning `verdict`; records what it was asked, in order, in `log`. */
function fakeGate(verdict: Verdict, log: string[]) {
  const judged: PackageNode[][] = [];
  const digests: string[] = [];
  const gate: Gate = {
    dir: '/',
    packageManager: 'yarn',
    surface: 'yarn',
    strict: false,
    policyFile: null,
    signaturesRequired: true,
    asksReleaseLine: () => true,
    localInputs: () => undefined,
    cooldown: null,
    builds: {} as Gate['builds'],
    judge: async () => {
      throw new Error('the Yarn plugin judges the whole lockfile with judgeLockfile()');
    },
    judgeLockfile: async (digest, lockfilePackages) => {
      log.push('judge');
      digests.push(digest);
      const packages = lockfilePackages();
      judged.push([...packages]);
      const signed = packages.flatMap((pkg) => {
        const integrity = verdict.signedIntegrity(pkg);
        return integrity === undefined ? [] : [{ name: pkg.name, version: pkg.version, integrity }];
      });
      return { ...verdict, mayBuild: (pkg) => verdict.mayBuild(pkg), signed, remembered: false };
    },
    recallReport: async () => {
      throw new Error('the Yarn plugin does not remember check reports');
    },
    rememberReport: async () => {
      throw new Error('the Yarn plugin does not remember check reports');
    },
    judgeInstalled: async () => {
      throw new Error('the Yarn plugin judges with judge()');
    },
    judgeBeforeFetch: (dependency) => {
      log.push(`judge before fetch ${dependency.name} ${dependency.source} ${dependency.resolved}`);
      return { findings: verdict.blocking, blocking: verdict.blocking, skipped: [], blocked: new Set(), exitCode: verdict.exitCode, notices: [], skippedNotice: undefined };
    },
    // the policy's answer before any verdict: only "pre-verdict" may build
    mayBuild: (pkg) => pkg.name === 'pre-verdict',
    prefetch: (name) => void log.push(`prefetch ${name}`),
    settle: async () => void log.push('settle'),
  };
  return { gate, judged, digests };
}

/** The next project opened gets this gate instead of the real one; returns the options openGate was given. */
function nextGate(gate: Gate): { options?: GateOptions } {
  const seen: { options?: GateOptions } = {};
  vi.mocked(openGate).mockImplementationOnce((options) => {
    seen.options = options;
    return Promise.resolve(gate);
  });
  vi.mocked(openCachedGate).mockImplementationOnce((options) => {
    seen.options = options;
    return gate;
  });
  return seen;
}

function fakeReport(log: string[]) {
  return {
    reportInfo: (_code: MessageName | null, text: string) => void log.push(`info ${text}`),
    reportError: (code: MessageName, text: string) => void log.push(`error YN${String(code).padStart(4, '0')} ${text}`),
    reportWarning: (code: MessageName, text: string) => void log.push(`warning YN${String(code).padStart(4, '0')} ${text}`),
  } as unknown as Report;
}

const blockingFinding = { package: 'esbuild', version: '0.25.0', rule: 'signatures', code: 'UNSIGNED', message: 'esbuild@0.25.0 is not signed', fix: 'remove esbuild' } as const;

describe('judgeResolution (with a fake gate)', () => {
  afterEach(() => signedTarballs.clear());

  it('opens the gate with Yarn\'s settings and hands it exactly the resolved packages', async () => {
    const log: string[] = [];
    const { gate, judged, digests } = fakeGate(decidedVerdict({}), log);
    const seen = nextGate(gate);
    const p = await project(POLICY, [], { settings: { ...YARN_SETTINGS, portcullisStrict: true, enableOfflineMode: true }, lockfile: LOCKFILE });
    await judgeResolution(p, fakeReport(log));
    expect(seen.options).toMatchObject({ dir: npath.fromPortablePath(p.cwd), packageManager: 'yarn', strict: true, offline: true });
    // fetched metadata stays in memory for the install (Yarn's HTTP stack cannot revalidate a cache entry)
    expect(seen.options?.writeMetadataCache).toBe(false);
    expect(seen.options?.registryConfig.defaultRegistry).toBe('http://127.0.0.1:4873/');
    expect(seen.options?.registryConfig.registryFor('@acme/x')).toBe('http://127.0.0.1:4874/acme/');
    expect(typeof seen.options?.fetch).toBe('function');
    expect(judged).toHaveLength(1);
    expect(judged[0]!.map((pkg) => [pkg.id, pkg.registry])).toEqual([
      ['@acme/x@2.1.0', 'http://127.0.0.1:4874/acme/'],
      ['esbuild@0.25.0', 'http://127.0.0.1:4873/'],
    ]);
    // keyed by the lockfile exactly as Yarn would write it (a verdict is replayed only for that text)
    expect(digests).toEqual([digestOf(p.generateLockfile())]);
    expect(log).toEqual(['judge']);
  });

  it('strict and offline are off unless Yarn says so', async () => {
    const { gate } = fakeGate(decidedVerdict({}), []);
    const seen = nextGate(gate);
    await judgeResolution(await project(POLICY, [], { lockfile: LOCKFILE }), fakeReport([]));
    expect(seen.options).toMatchObject({ strict: false, offline: false });
  });

  it('records the signed integrity of each signed package under every URL Yarn fetches its tarball from', async () => {
    const { gate } = fakeGate(decidedVerdict({ signed: { '@acme/x@2.1.0': 'sha512-acme' } }), []);
    nextGate(gate);
    await judgeResolution(await project(POLICY, [], { settings: YARN_SETTINGS, lockfile: LOCKFILE }), fakeReport([]));
    // mapped on the first network request (a warm install makes none)
    expect(signedTarballs.size).toBe(0);
    expect(signedTarball(tarballKey('http://127.0.0.1:4874/acme/@acme%2fx/-/x-2.1.0.tgz'))).toEqual({ integrity: 'sha512-acme', package: '@acme/x@2.1.0' });
    expect([...signedTarballs.entries()]).toEqual([
      [tarballKey('http://127.0.0.1:4874/acme/@acme%2fx/-/x-2.1.0.tgz'), { integrity: 'sha512-acme', package: '@acme/x@2.1.0' }],
      [tarballKey('http://127.0.0.1:4874/acme/@acme/x/-/x-2.1.0.tgz'), { integrity: 'sha512-acme', package: '@acme/x@2.1.0' }],
    ]);
  });

  it('a blocking verdict: prefetches settle first, then each finding is reported and the install aborts', async () => {
    const log: string[] = [];
    const { gate } = fakeGate(decidedVerdict({ blocking: [blockingFinding], notices: ['a notice'] }), log);
    nextGate(gate);
    const error = await judgeResolution(await project(POLICY, [], { lockfile: LOCKFILE }), fakeReport(log)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportError);
    expect((error as ReportError).reportCode).toBe(82);
    expect(log).toEqual(['judge', 'settle', 'info portcullis: a notice', 'error YN0082 portcullis UNSIGNED: esbuild@0.25.0 is not signed. Fix: remove esbuild']);
  });

  it('a verdict that only skips builds: its notice as a warning, no settle, no abort', async () => {
    const log: string[] = [];
    const { gate } = fakeGate(decidedVerdict({ skippedNotice: 'skipped esbuild' }), log);
    nextGate(gate);
    await judgeResolution(await project(POLICY, [], { lockfile: LOCKFILE }), fakeReport(log));
    expect(log).toEqual(['judge', 'warning YN0005 skipped esbuild']);
  });

  it('once judged, the verdict (not the policy alone) answers which packages build', async () => {
    const { gate } = fakeGate(decidedVerdict({ builds: ['esbuild'] }), []);
    nextGate(gate);
    const p = await project(POLICY, [], { lockfile: LOCKFILE });
    expect(mayBuild(p, npmLocator('pre-verdict', '1.0.0'), '1.0.0')).toBe(true);
    expect(mayBuild(p, npmLocator('esbuild', '0.25.0'), '0.25.0')).toBe(false);
    await judgeResolution(p, fakeReport([]));
    expect(mayBuild(p, npmLocator('pre-verdict', '1.0.0'), '1.0.0')).toBe(false);
    expect(mayBuild(p, npmLocator('esbuild', '0.25.0'), '0.25.0')).toBe(true);
    expect(permittedMeta(p, npmLocator('esbuild', '0.25.0'), '0.25.0', { built: false }).built).toBe(false);
  });

  it('a portcullis.json that cannot be used aborts the install as YN0067, naming the file', async () => {
    const p = await project(MALFORMED, [], { lockfile: LOCKFILE });
    const error = await judgeResolution(p, fakeReport([])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportError);
    expect((error as ReportError).reportCode).toBe(67);
    expect((error as ReportError).message).toContain('portcullis.json');
  });

  it('reads Yarn\'s registry settings and opens the gate once per project, however often it is asked', async () => {
    const { gate } = fakeGate(decidedVerdict({}), []);
    nextGate(gate);
    const p = await project(POLICY, [], { lockfile: LOCKFILE });
    const reads = vi.mocked(yarnRegistryConfig).mock.calls.length;
    const opens = vi.mocked(openGate).mock.calls.length;
    mayBuild(p, npmLocator('esbuild', '0.25.0'), '0.25.0');
    permittedMeta(p, ident('left-pad'), '1.0.0', {});
    await prefetchDependency(structUtils.makeDescriptor(ident('left-pad'), 'npm:^1.0.0'), p);
    await judgeResolution(p, fakeReport([]));
    await judgeResolution(p, fakeReport([]));
    expect(vi.mocked(yarnRegistryConfig).mock.calls.length - reads).toBe(1);
    expect(vi.mocked(openGate).mock.calls.length - opens).toBe(1);
    // another project has its own
    nextGate(fakeGate(decidedVerdict({}), []).gate);
    await judgeResolution(await project(POLICY, [], { lockfile: LOCKFILE }), fakeReport([]));
    expect(vi.mocked(yarnRegistryConfig).mock.calls.length - reads).toBe(2);
  });
});

describe('prefetchDependency', () => {
  it('starts fetching metadata for a dependency the lockfile does not pin (an npm: alias by its real name), never for pinned or non-registry ones', async () => {
    const log: string[] = [];
    const { gate } = fakeGate(decidedVerdict({}), log);
    nextGate(gate);
    const p = await project(POLICY);
    const fresh = structUtils.makeDescriptor(ident('left-pad'), 'npm:^1.3.0');
    const alias = structUtils.makeDescriptor(ident('pad'), 'npm:left-pad@^1.3.0');
    const pinned = structUtils.makeDescriptor(ident('esbuild'), 'npm:^0.25.0');
    const git = structUtils.makeDescriptor(ident('gitdep'), 'https://github.com/a/b.git#main');
    (p.storedResolutions as Map<string, string>).set(pinned.descriptorHash, 'x');
    for (const descriptor of [fresh, alias, pinned, git]) expect(await prefetchDependency(descriptor, p)).toBe(descriptor);
    expect(log).toEqual(['prefetch left-pad', 'prefetch left-pad']);
  });

  it('never throws, even when the policy cannot be read', async () => {
    const p = await project(MALFORMED);
    const descriptor: Descriptor = structUtils.makeDescriptor(ident('left-pad'), 'npm:^1.3.0');
    await expect(prefetchDependency(descriptor, p)).resolves.toBe(descriptor);
  });
});

describe('skipBlockedScripts', () => {
  it('lets install scripts run only for packages that may build; other scripts are not its business', async () => {
    const p = await project(POLICY);
    const allowed = npmLocator('esbuild', '0.25.0');
    const blocked = npmLocator('left-pad', '1.3.0');
    const stored = p.storedPackages as unknown as Map<string, { version: string | null }>;
    stored.set(allowed.locatorHash, { version: '0.25.0' });
    stored.set(blocked.locatorHash, { version: '1.3.0' });
    const executor = async () => 7;
    for (const script of ['preinstall', 'install', 'postinstall']) {
      expect(await skipBlockedScripts(executor, p, allowed, script)).toBe(executor);
      const skipped = await skipBlockedScripts(executor, p, blocked, script);
      expect(skipped).not.toBe(executor);
      expect(await skipped()).toBe(0);
    }
    expect(await skipBlockedScripts(executor, p, blocked, 'test')).toBe(executor);
  });
});

describe('guardProjects', () => {
  it('judges after a real resolution (not a lockfileOnly one) and filters every dependency meta; wraps once', async () => {
    const calls: string[] = [];
    class FakeProject {
      async resolveEverything(opts: { lockfileOnly?: boolean }) {
        calls.push(`resolve lockfileOnly=${opts.lockfileOnly === true}`);
      }
      getDependencyMeta() {
        return { built: true, unplugged: true };
      }
    }
    guardProjects(FakeProject as unknown as typeof import('@yarnpkg/core').Project);
    guardProjects(FakeProject as unknown as typeof import('@yarnpkg/core').Project);
    const log: string[] = [];
    const { gate } = fakeGate(decidedVerdict({ builds: ['esbuild'] }), log);
    nextGate(gate);
    const p = Object.assign(Object.create(FakeProject.prototype), await project(POLICY, [], { lockfile: LOCKFILE })) as Project;
    await p.resolveEverything({ lockfileOnly: true, report: fakeReport(log) } as never);
    expect(log).toEqual([]);
    await p.resolveEverything({ report: fakeReport(log) } as never);
    expect(calls).toEqual(['resolve lockfileOnly=true', 'resolve lockfileOnly=false']);
    expect(log).toEqual(['judge']);
    expect(p.getDependencyMeta(ident('esbuild'), '0.25.0')).toEqual({ built: true, unplugged: true });
    expect(p.getDependencyMeta(ident('left-pad'), '1.3.0')).toEqual({ built: false, unplugged: true });
  });
});

describe('guardProjects: the lockfile text the decision serialized', () => {
  it('is what Yarn\'s next serialization gets (the --immutable comparison), once; after the fetch step starts or the resolution changes, Yarn serializes anew', async () => {
    let serialized = 0;
    class FakeProject {
      async resolveEverything() {}
      getDependencyMeta() {
        return {};
      }
      generateLockfile() {
        serialized++;
        return `${LOCKFILE}# serialization ${serialized}\n`;
      }
      async fetchEverything() {}
    }
    guardProjects(FakeProject as unknown as typeof import('@yarnpkg/core').Project);
    const fresh = async () => {
      nextGate(fakeGate(decidedVerdict({}), []).gate);
      const { generateLockfile: _ignored, ...state } = await project(POLICY, [], { lockfile: LOCKFILE }) as unknown as Record<string, unknown>;
      return Object.assign(Object.create(FakeProject.prototype), state) as Project;
    };

    const p = await fresh();
    await p.resolveEverything({ report: fakeReport([]) } as never);
    expect(serialized).toBe(1);
    expect(p.generateLockfile()).toContain('# serialization 1\n');
    expect(p.generateLockfile()).toContain('# serialization 2\n');

    const fetched = await fresh();
    await fetched.resolveEverything({ report: fakeReport([]) } as never);
    await fetched.fetchEverything({} as never);
    expect(fetched.generateLockfile()).toContain('# serialization 4\n');

    const changed = await fresh();
    await changed.resolveEverything({ report: fakeReport([]) } as never);
    (changed.storedChecksums as Map<string, string>).set('x', '10c0/abc');
    expect(changed.generateLockfile()).toContain('# serialization 6\n');
  });
});
