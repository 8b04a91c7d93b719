import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { createRegistryConfig, type BuildAllowance, type Finding, type Gate, type JudgeInputs, type PackageNode, type PackumentVersion, type Verdict } from '@portcullis/core';
import { fakeVerdict } from '@portcullis/core/internal';
import { refuseCommandLineWidening } from './config.js';
import { createHooks } from './hooks.js';
import { PNPM_APPROVAL_NOTE } from './refuse.js';
import { newInstallState, type InstallState, type JudgedVerdict, type JudgingThread, type PnpmProject } from './state.js';

// The refusal of command-line settings reads the command line of the nearest pnpm ancestor process when this
// process' argv is short (a vitest fork's is two entries): replaced by a spy, so these tests never depend on how
// they were started. Its own logic is tested in config.test.ts and settings.test.ts.
vi.mock('./config.js', async (importOriginal) => ({ ...(await importOriginal<typeof import('./config.js')>()), refuseCommandLineWidening: vi.fn() }));
const refuseCommandLine = vi.mocked(refuseCommandLineWidening);

const registryConfig = createRegistryConfig({ defaultRegistry: 'http://127.0.0.1:9/' });
const SIG = { keyid: 'SHA256:test-key', sig: 'MEUCIQ==' };

const unsigned = (pkg: string, version: string): Finding => ({ package: pkg, version, rule: 'signatures', code: 'UNSIGNED', message: `${pkg}@${version} is not signed`, fix: `remove ${pkg}` });
const scriptNotAllowed = (pkg: string, version: string): Finding => ({ package: pkg, version, rule: 'scripts', code: 'SCRIPT_NOT_ALLOWED', message: `${pkg}@${version} has install scripts`, fix: `portcullis approve ${pkg}@${version}` });

/** A fake verdict on `packages`: what blocks and what is skipped are given; the rest is never read by the hooks. */
function verdictOf(packages: readonly PackageNode[], outcome: { blocking?: Finding[]; skipped?: Finding[]; exitCode?: 0 | 1 | 3 } = {}): Verdict {
  return fakeVerdict({ packages, ...outcome });
}

interface FakeGate extends Gate {
  judged: Array<{ packages: PackageNode[]; inputs: JudgeInputs | undefined }>;
  prefetched: string[];
  settled: number;
  denylistCalls: number;
}

/** A fake Gate: `judge` answers with `outcome(packages)` and records every call; nothing reads a policy or a registry. */
function fakeGate(outcome: (packages: readonly PackageNode[]) => { blocking?: Finding[]; skipped?: Finding[]; exitCode?: 0 | 1 | 3 } = () => ({}), options: { denied?: string[] } = {}): FakeGate {
  const builds: BuildAllowance = {
    allowlist: () => [],
    denylist: () => {
      gate.denylistCalls++;
      return options.denied ?? [];
    },
    rangedNames: () => [],
    covers: () => false,
    entryFor: () => undefined,
    rangedCandidates: async () => [],
  };
  const gate: FakeGate = {
        dir: '/unused',
    packageManager: 'pnpm',
    surface: 'pnpm',
    strict: false,
    policyFile: null,
    signaturesRequired: true,
    asksReleaseLine: () => true,
    localInputs: () => undefined,
    cooldown: null,
    builds,
    judged: [],
    prefetched: [],
    settled: 0,
    denylistCalls: 0,
    async judge(packages, inputs) {
      gate.judged.push({ packages: [...packages], inputs });
      return verdictOf(packages, outcome(packages));
    },
    // A gate that remembers nothing: every lockfile is judged (remembered verdicts are core's, tested there).
    async judgeLockfile(_digest, packages) {
      return { ...(await gate.judge(packages())), signed: [], remembered: false };
    },
    async judgeInstalled(_digest, copies) {
      const verdict = await gate.judge(copies.packages(), { readInstalled: copies.reader() });
      return { ...verdict, remembered: false, signed: [], buildSteps: verdict.buildPlan(copies.reader()) };
    },
    // `check`'s remembered reports are not the pnpm hook's.
    recallReport: async () => undefined,
    rememberReport: async () => {},
    mayBuild: () => false,
    judgeBeforeFetch: () => {
      throw new Error('pnpm judges nothing before it fetches');
    },
    prefetch(name) {
      gate.prefetched.push(name);
    },
    async settle() {
      gate.settled++;
    },
  };
  return gate;
}

/** An install's state whose project is a fake: a temp folder and the fake gate. */
function stateWith(gate: Gate, project: Partial<PnpmProject> = {}): InstallState & { project: PnpmProject } {
  const state = newInstallState();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pnpm-hooks-'));
  return Object.assign(state, { project: { dir, registryConfig, gate, ...project } });
}

/** The lockfile object pnpm hands preResolution / afterAllResolved. */
function lockfileWith(...ids: string[]): object {
  const packages: Record<string, unknown> = {};
  const snapshots: Record<string, unknown> = {};
  const dependencies: Record<string, string> = {};
  for (const id of ids) {
    const at = id.lastIndexOf('@');
    packages[id] = { resolution: { integrity: 'sha512-AAAA' } };
    snapshots[id] = {};
    dependencies[id.slice(0, at)] = id.slice(at + 1);
  }
  return { lockfileVersion: '9.0', importers: { '.': { dependencies } }, packages, snapshots };
}

/** A dependency's registry manifest as pnpm hands it to readPackage. */
function manifest(name: string, version: string, extra: { signatures?: unknown[]; dependencies?: Record<string, string> } = {}) {
  return {
    name,
    version,
    dist: { integrity: 'sha512-AAAA', tarball: `http://127.0.0.1:9/${name}/-/${name}-${version}.tgz`, ...(extra.signatures ? { signatures: extra.signatures } : {}) },
    ...(extra.dependencies ? { dependencies: extra.dependencies } : {}),
  };
}

let stderr: MockInstance<typeof process.stderr.write>;
beforeEach(() => {
  refuseCommandLine.mockReset();
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  stderr.mockRestore();
});
const printed = () => stderr.mock.calls.map(([text]) => String(text));

describe('preResolution', () => {
  it("judges the wanted lockfile's packages as a whole and throws pnpm's blocked error, after letting prefetches settle", async () => {
    const gate = fakeGate(() => ({ blocking: [unsigned('evil', '1.0.0')] }));
    const state = stateWith(gate);
    const hooks = createHooks(state);
    const refused = hooks.preResolution({ wantedLockfile: lockfileWith('evil@1.0.0', 'left-pad@1.3.0'), lockfileDir: state.project.dir });
    await expect(refused).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('blocked 1 package in pnpm-lock.yaml') });
    await expect(refused).rejects.toHaveProperty('hint', expect.stringContaining('UNSIGNED  evil@1.0.0 is not signed\n    fix: remove evil'));
    expect(gate.judged).toHaveLength(1);
    expect(gate.judged[0]!.packages.map((p) => p.id).sort()).toEqual(['evil@1.0.0', 'left-pad@1.3.0']);
    expect(gate.judged[0]!.packages.every((p) => p.registry === 'http://127.0.0.1:9/')).toBe(true);
    // The whole graph: never a partial judgement.
    expect(gate.judged[0]!.inputs?.partial).not.toBe(true);
    expect(gate.settled).toBe(1);
    expect(printed()).toEqual([]);
  });

  it('an undecided verdict (exit 3) is ERR_PNPM_PORTCULLIS_UNDECIDED', async () => {
    const gate = fakeGate(() => ({ blocking: [{ ...unsigned('left-pad', '1.3.0'), code: 'METADATA_UNAVAILABLE' }], exitCode: 3 }));
    const state = stateWith(gate);
    await expect(createHooks(state).preResolution({ wantedLockfile: lockfileWith('left-pad@1.3.0'), lockfileDir: state.project.dir })).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' });
  });

  it('lets pnpm go on when nothing blocks, and judges nothing for a lockfile without packages', async () => {
    const gate = fakeGate();
    const state = stateWith(gate);
    const hooks = createHooks(state);
    await expect(hooks.preResolution({ wantedLockfile: lockfileWith('left-pad@1.3.0'), lockfileDir: state.project.dir })).resolves.toBeUndefined();
    expect(gate.judged).toHaveLength(1);
    await hooks.preResolution({ wantedLockfile: { lockfileVersion: '9.0', importers: { '.': {} } }, lockfileDir: state.project.dir });
    await hooks.preResolution({ lockfileDir: state.project.dir });
    expect(gate.judged).toHaveLength(1);
    expect(gate.settled).toBe(0);
    expect(printed()).toEqual([]);
  });
});

describe("the command line (pnpm 12's worker)", () => {
  it("preResolution and afterAllResolved refuse a widening command line with the gate's build allowance, before judging anything", async () => {
    const gate = fakeGate();
    const state = stateWith(gate);
    const hooks = createHooks(state);
    refuseCommandLine.mockImplementation(() => {
      throw Object.assign(new Error('refused'), { code: 'ERR_PNPM_PORTCULLIS_SETTINGS' });
    });
    await expect(hooks.preResolution({ wantedLockfile: lockfileWith('left-pad@1.3.0'), lockfileDir: state.project.dir })).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_SETTINGS' });
    await expect(hooks.afterAllResolved(lockfileWith('left-pad@1.3.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_SETTINGS' });
    expect(refuseCommandLine.mock.calls).toEqual([[gate.builds], [gate.builds]]);
    expect(gate.judged).toEqual([]);
  });
});

describe('afterAllResolved', () => {
  it('judges the resolved graph, refuses with the blocked error, and returns the lockfile when nothing blocks', async () => {
    const blocking = fakeGate(() => ({ blocking: [unsigned('evil', '1.0.0')] }));
    await expect(createHooks(stateWith(blocking)).afterAllResolved(lockfileWith('evil@1.0.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('in the resolved dependencies') });
    const clean = fakeGate();
    const lockfile = lockfileWith('left-pad@1.3.0');
    await expect(createHooks(stateWith(clean)).afterAllResolved(lockfile)).resolves.toBe(lockfile);
    expect(clean.judged.map((j) => j.packages.map((p) => p.id))).toEqual([['left-pad@1.3.0']]);
  });
});

describe('the skipped-scripts notice', () => {
  it('is printed once per install, even when preResolution and afterAllResolved both see the skipped build', async () => {
    const gate = fakeGate((packages) => ({ skipped: packages.filter((p) => p.name !== 'left-pad').map((p) => scriptNotAllowed(p.name, p.version)) }));
    const state = stateWith(gate, { deniedBuilds: new Set(['esbuild']) });
    const hooks = createHooks(state);
    await hooks.preResolution({ wantedLockfile: lockfileWith('esbuild@0.25.0', 'left-pad@1.3.0'), lockfileDir: state.project.dir });
    await hooks.afterAllResolved(lockfileWith('esbuild@0.25.0', 'left-pad@1.3.0'));
    expect(gate.judged).toHaveLength(2);
    expect(printed()).toEqual(['portcullis: skipped the install scripts of esbuild@0.25.0 (not in scripts.allow of portcullis.json). To allow: portcullis approve esbuild@0.25.0\n']);

    // A package first skipped later in the same install is announced on its own.
    await hooks.afterAllResolved(lockfileWith('esbuild@0.25.0', 'sharp@0.34.1'));
    expect(printed()).toHaveLength(2);
    expect(printed()[1]).toContain('skipped the install scripts of sharp@0.34.1 (');
    expect(printed()[1]).not.toContain('esbuild');
    // A new install (new state) announces it again.
    const next = stateWith(gate, { deniedBuilds: new Set(['esbuild']) });
    await createHooks(next).afterAllResolved(lockfileWith('esbuild@0.25.0'));
    expect(printed()).toHaveLength(3);
  });

  it("adds the word about pnpm's own approval only for a package updateConfig could not deny outright", async () => {
    const gate = fakeGate((packages) => ({ skipped: packages.map((p) => scriptNotAllowed(p.name, p.version)) }));
    await createHooks(stateWith(gate, { deniedBuilds: new Set(['esbuild']) })).afterAllResolved(lockfileWith('esbuild@0.25.0'));
    await createHooks(stateWith(gate, { deniedBuilds: new Set(['sharp@0.34.1']) })).afterAllResolved(lockfileWith('sharp@0.34.1'));
    expect(printed().some((text) => text.includes(PNPM_APPROVAL_NOTE))).toBe(false);
    await createHooks(stateWith(gate, { deniedBuilds: new Set(['esbuild']) })).afterAllResolved(lockfileWith('esbuild@0.25.0', 'new-pkg@1.0.0'));
    expect(printed()[2]).toContain(PNPM_APPROVAL_NOTE);
  });

  it('a fresh pnpm 12 worker (no deniedBuilds) asks the gate what updateConfig denied, once', async () => {
    const gate = fakeGate((packages) => ({ skipped: packages.map((p) => scriptNotAllowed(p.name, p.version)) }), { denied: ['esbuild'] });
    const state = stateWith(gate);
    const hooks = createHooks(state);
    await hooks.afterAllResolved(lockfileWith('esbuild@0.25.0'));
    expect(gate.denylistCalls).toBe(1);
    expect(state.project.deniedBuilds).toEqual(new Set(['esbuild']));
    await hooks.afterAllResolved(lockfileWith('sharp@0.34.1'));
    expect(gate.denylistCalls).toBe(1);
    expect(printed()).toHaveLength(2);
    expect(printed()[0]).not.toContain(PNPM_APPROVAL_NOTE);
    expect(printed()[1]).toContain(PNPM_APPROVAL_NOTE);
  });
});

describe('readPackage', () => {
  it('judges the manifests handed over in the same tick together, as one partial judgement; only the blocked package rejects', async () => {
    const gate = fakeGate(() => ({ blocking: [unsigned('evil', '1.0.0')] }));
    const state = stateWith(gate);
    const hooks = createHooks(state);
    const good = manifest('left-pad', '1.3.0');
    const [left, evil, right] = await Promise.allSettled([hooks.readPackage(good), hooks.readPackage(manifest('evil', '1.0.0')), hooks.readPackage(manifest('right-pad', '1.0.0'))]);
    expect(gate.judged).toHaveLength(1);
    expect(gate.judged[0]!.packages.map((p) => p.id)).toEqual(['left-pad@1.3.0', 'evil@1.0.0', 'right-pad@1.0.0']);
    expect(gate.judged[0]!.packages[0]).toMatchObject({ source: 'registry', registry: 'http://127.0.0.1:9/', integrity: 'sha512-AAAA' });
    expect(gate.judged[0]!.inputs).toEqual({ partial: true });
    expect(left).toEqual({ status: 'fulfilled', value: good });
    expect(right.status).toBe('fulfilled');
    expect(evil.status).toBe('rejected');
    expect((evil as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('in the resolved dependencies') });
    expect(gate.settled).toBe(1);

    // The next tick starts a new batch.
    await hooks.readPackage(manifest('later', '1.0.0'));
    expect(gate.judged).toHaveLength(2);
    expect(gate.judged[1]!.packages.map((p) => p.id)).toEqual(['later@1.0.0']);
    expect(state.batch).toBeUndefined();
  });

  it('on pnpm 10 and 11 (afterAllResolved judges the whole graph before linking) its batches say so; on 12, or an unknown version (0), or not known, they do not', async () => {
    for (const [major, expected] of [[10, { partial: true, wholeGraphFollows: true }], [11, { partial: true, wholeGraphFollows: true }], [12, { partial: true }], [0, { partial: true }], [undefined, { partial: true }]] as const) {
      const gate = fakeGate();
      const state = stateWith(gate);
      if (major !== undefined) state.pnpmMajor = major;
      await createHooks(state).readPackage(manifest('left-pad', '1.3.0'));
      expect(gate.judged[0]!.inputs, String(major)).toEqual(expected);
    }
  });

  it("returns a project's own manifest (no integrity) unchanged, judging nothing", async () => {
    const gate = fakeGate(() => ({ blocking: [unsigned('my-app', '1.0.0')] }));
    const hooks = createHooks(stateWith(gate));
    const own = { name: 'my-app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } };
    const copy = structuredClone(own);
    await expect(hooks.readPackage(own)).resolves.toBe(own);
    expect(own).toEqual(copy);
    expect(gate.judged).toEqual([]);
  });

  it('passes manifests carrying signatures as supplied metadata, and only those', async () => {
    const gate = fakeGate();
    const hooks = createHooks(stateWith(gate));
    await Promise.all([hooks.readPackage(manifest('signed', '1.0.0', { signatures: [SIG] })), hooks.readPackage(manifest('bare', '1.0.0'))]);
    const [call] = gate.judged;
    expect(call!.inputs?.partial).toBe(true);
    const supplied = call!.inputs?.supplied;
    expect(supplied).toBeTypeOf('function');
    const [signed, bare] = call!.packages;
    expect(supplied!(signed!)).toMatchObject({ version: '1.0.0', dist: { integrity: 'sha512-AAAA', signatures: [SIG] } });
    expect(supplied!(bare!)).toBeUndefined();

    // A batch without signatures supplies nothing.
    await hooks.readPackage(manifest('bare', '2.0.0'));
    expect(gate.judged[1]!.inputs).toEqual({ partial: true });
  });

  it("holds the project's own dependencies back until the first dependency manifest shows no signatures, then prefetches them", async () => {
    const gate = fakeGate();
    const state = stateWith(gate);
    const hooks = createHooks(state);
    await hooks.readPackage({ name: 'my-app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0', alias: 'npm:real-pkg@^2.0.0', sibling: 'workspace:*', local: 'file:../x' } });
    expect(gate.prefetched).toEqual([]);
    await hooks.readPackage(manifest('left-pad', '1.3.0', { dependencies: { 'dep-of-left-pad': '^1.0.0' } }));
    expect(gate.prefetched).toEqual(['left-pad', 'real-pkg', 'dep-of-left-pad']);
    expect(state.manifestsCarrySignatures).toBe(false);
    // Released once; later manifests prefetch their own dependencies.
    await hooks.readPackage(manifest('real-pkg', '2.0.0', { dependencies: { x: '1' } }));
    expect(gate.prefetched).toEqual(['left-pad', 'real-pkg', 'dep-of-left-pad', 'x']);
  });

  it('prefetches nothing when manifests carry their signatures (the held-back dependencies are dropped)', async () => {
    const gate = fakeGate();
    const state = stateWith(gate);
    const hooks = createHooks(state);
    await hooks.readPackage({ name: 'my-app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } });
    await hooks.readPackage(manifest('left-pad', '1.3.0', { signatures: [SIG], dependencies: { 'dep-of-left-pad': '^1.0.0' } }));
    await hooks.readPackage(manifest('dep-of-left-pad', '1.0.0', { dependencies: { x: '1' } }));
    expect(state.manifestsCarrySignatures).toBe(true);
    expect(state.heldBack).toEqual([]);
    expect(gate.prefetched).toEqual([]);
  });

  it("holds nothing back for a project's own manifest with pnpm-lock.yaml beside it (the lockfile's verdicts are memoised)", async () => {
    const gate = fakeGate();
    const state = stateWith(gate);
    writeFileSync(join(state.project.dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
    const hooks = createHooks(state);
    await hooks.readPackage({ name: 'my-app', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } });
    expect(state.heldBack).toEqual([]);
    await hooks.readPackage(manifest('left-pad', '1.3.0'));
    expect(gate.prefetched).toEqual([]);
  });
});

describe("pnpm 10 and 11 with the hooks' judging thread (judge-worker.ts)", () => {
  type Asked = { ids: string[]; supplied: string[]; options: { partial: boolean; wholeGraphFollows: boolean } };
  /** A stand-in for JudgeWorker: records each question, answers with `outcome`; `gate` must never be asked. */
  function judgingThread(outcome: (ids: string[]) => Promise<JudgedVerdict> | JudgedVerdict) {
    const asked: Asked[] = [];
    const retired: number[] = [];
    const worker = {
      retire: () => void retired.push(asked.length),
      judge(packages: PackageNode[], supplied: ReadonlyMap<string, PackumentVersion>, options: Asked['options']) {
        const ids = packages.map((p) => p.id);
        asked.push({ ids, supplied: [...supplied.keys()], options });
        return Promise.resolve().then(() => outcome(ids));
      },
    };
    return { asked, retired, worker: worker as JudgingThread };
  }
  const allowed = (): JudgedVerdict => ({ findings: [], blocking: [], skipped: [], blocked: new Set(), exitCode: 0, notices: [], strippedRegistries: [] });
  const blocking = (id: string): JudgedVerdict => {
    const [name, version] = [id.slice(0, id.lastIndexOf('@')), id.slice(id.lastIndexOf('@') + 1)];
    return { ...allowed(), findings: [unsigned(name, version)], blocking: [unsigned(name, version)], blocked: new Set([id]), exitCode: 1 };
  };
  const signed = (name: string, version: string) => manifest(name, version, { signatures: [SIG] });
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  function setUp(outcome: Parameters<typeof judgingThread>[0]) {
    const gate = fakeGate(() => ({ blocking: [unsigned('never', '1.0.0')] }));
    const state = stateWith(gate);
    state.pnpmMajor = 10;
    const thread = judgingThread(outcome);
    state.judgeWorker = thread.worker;
    return { gate, state, hooks: createHooks(state), ...thread };
  }

  it("readPackage hands pnpm its manifest at once and sends the turn's manifests to the thread together; afterAllResolved waits for them, then judges the graph there", async () => {
    const { gate, state, hooks, asked } = setUp(() => allowed());
    const a = signed('a', '1.0.0');
    expect(await hooks.readPackage(a)).toBe(a);
    await hooks.readPackage(signed('b', '1.0.0'));
    expect(asked).toEqual([]);
    await tick();
    expect(asked).toEqual([{ ids: ['a@1.0.0', 'b@1.0.0'], supplied: ['a@1.0.0', 'b@1.0.0'], options: { partial: true, wholeGraphFollows: true } }]);
    await hooks.readPackage(signed('c', '1.0.0'));
    const lockfile = lockfileWith('a@1.0.0', 'b@1.0.0', 'c@1.0.0');
    expect(await hooks.afterAllResolved(lockfile)).toBe(lockfile);
    // c's batch was sent before the graph, and the graph was judged in the thread (never by this thread's gate).
    expect(asked.map((q) => q.ids)).toEqual([['a@1.0.0', 'b@1.0.0'], ['c@1.0.0'], ['a@1.0.0', 'b@1.0.0', 'c@1.0.0']]);
    // pnpm 10: the graph's judgement is told that pnpm builds patched packages unasked (quirks.ts buildsPatchedUnasked).
    expect(asked[2]!.options).toEqual({ partial: false, wholeGraphFollows: false, patchedBuildsUnasked: true });
    expect(gate.judged).toEqual([]);
    expect(state.sentToWorker).toEqual([]);
  });

  it("the graph's verdict is the thread's last question: it is retired (its memory given back); a later resolution of the process asks it again", async () => {
    const { gate, hooks, asked, retired } = setUp(() => allowed());
    await hooks.readPackage(signed('a', '1.0.0'));
    await tick();
    expect(retired).toEqual([]);
    await hooks.afterAllResolved(lockfileWith('a@1.0.0'));
    // Retired once, after its two questions (the batch and the graph) were answered.
    expect(retired).toEqual([2]);
    // The process resolves again (never the case in one pnpm install as measured, but not assumed): the judging
    // thread is asked again (JudgeWorker starts a new one), never this thread's gate, and retired again after it.
    await hooks.readPackage(signed('b', '1.0.0'));
    await hooks.afterAllResolved(lockfileWith('a@1.0.0', 'b@1.0.0'));
    expect(asked.map((q) => q.ids)).toEqual([['a@1.0.0'], ['a@1.0.0'], ['b@1.0.0'], ['a@1.0.0', 'b@1.0.0']]);
    expect(retired).toEqual([2, 4]);
    expect(gate.judged).toEqual([]);
  });

  it('a thread whose batch refused is not retired before the refusal is thrown (pnpm ends with it)', async () => {
    const { hooks, retired } = setUp((ids) => (ids.includes('evil@1.0.0') ? blocking('evil@1.0.0') : allowed()));
    await hooks.readPackage(signed('evil', '1.0.0'));
    await expect(hooks.afterAllResolved(lockfileWith('evil@1.0.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED' });
    expect(retired).toEqual([]);
  });

  it('a batch that blocks is refused by the next readPackage call and by afterAllResolved, even if the graph were let through', async () => {
    const { hooks } = setUp((ids) => (ids.length === 1 && ids[0] === 'evil@1.0.0' ? blocking('evil@1.0.0') : allowed()));
    await hooks.readPackage(signed('evil', '1.0.0'));
    await tick();
    await tick();
    await expect(hooks.readPackage(signed('later', '1.0.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('evil@1.0.0') });
    // The graph question (two packages) is let through by this stand-in: the batch's refusal still stands.
    await expect(hooks.afterAllResolved(lockfileWith('evil@1.0.0', 'other@1.0.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('evil@1.0.0') });
  });

  it('afterAllResolved refuses what a batch still in flight blocks, and a batch that failed fails it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { hooks } = setUp(async (ids) => (ids.includes('evil@1.0.0') ? (await held, blocking('evil@1.0.0')) : allowed()));
    await hooks.readPackage(signed('evil', '1.0.0'));
    const graph = hooks.afterAllResolved(lockfileWith('good@1.0.0'));
    setTimeout(release, 20);
    await expect(graph).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('evil@1.0.0') });

    const failing = setUp(() => Promise.reject(Object.assign(new Error('thread gone'), { code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' })));
    await failing.hooks.readPackage(signed('a', '1.0.0'));
    await expect(failing.hooks.afterAllResolved(lockfileWith('a@1.0.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_UNDECIDED' });
  });

  it('afterAllResolved refuses with the graph verdict from the thread', async () => {
    const { hooks } = setUp((ids) => (ids.length > 1 ? blocking('b@1.0.0') : allowed()));
    await expect(hooks.afterAllResolved(lockfileWith('a@1.0.0', 'b@1.0.0'))).rejects.toMatchObject({ code: 'ERR_PNPM_PORTCULLIS_BLOCKED', message: expect.stringContaining('in the resolved dependencies') });
  });

  it('an unsigned package resolved first is judged on this thread; the signed manifests after it still go to the thread', async () => {
    const { gate, state, hooks, asked } = setUp(() => allowed());
    await hooks.readPackage(manifest('unsigned-lib', '1.0.0'));
    expect(state.manifestsCarrySignatures).toBe(false);
    expect(gate.judged).toHaveLength(1);
    await hooks.readPackage(signed('a', '1.0.0'));
    expect(state.manifestsCarrySignatures).toBe(true);
    await tick();
    expect(asked.map((q) => q.ids)).toEqual([['a@1.0.0']]);
    expect(gate.judged).toHaveLength(1);
  });

  it('manifests without signatures (not pnpm 10 or 11 as measured), or pnpm 12, are judged on this thread as before', async () => {
    for (const major of [10, 12]) {
      const { gate, state, hooks, asked } = setUp(() => allowed());
      state.pnpmMajor = major;
      await hooks.readPackage(major === 10 ? manifest('a', '1.0.0') : signed('a', '1.0.0'));
      expect(asked).toEqual([]);
      expect(gate.judged).toHaveLength(1);
    }
  });
});
