/**
 * The hooks that judge packages before pnpm links or builds them, each translating pnpm's input into packages,
 * judging them through the project's gate and turning the verdict into pnpm's own refusal:
 * - preResolution: every install with a lockfile (frozen, up to date, warm store) — before any download;
 * - readPackage: each package pnpm resolves anew, from its registry metadata — before linking, on pnpm 12 too;
 * - afterAllResolved: the whole resolved graph (git, tarball URLs included) — before linking on 10 and 11,
 *   before builds on 12.
 * Signature findings abort the install; scripts the policy does not allow are skipped by pnpm itself
 * (updateConfig) and reported once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf, keptCacheTrusted, OpenedCacheFiles, policyFileLookups, pnpmCachedMetadata, pnpmKeptInputs, readPnpmLockfile, skippedNotice, type JudgeInputs, type LockfileInputs, type LockfileVerdict, type PackageNode, type PackumentVersion, type Verdict } from '@portcullis/core';
import { deniedBeforeResolution, lockfileCandidates, narrowDenials, projectDirOf, refuseCommandLineWidening, unneededDenials, updateConfig, type PnpmConfig } from './config.js';
import { configChanges, configSnapshot, engineBuild, fileStates, questionOf, recordUpdateConfig, thisPnpmProcess, type AskedQuestion, type ReplayAnswer } from './replay.js';
import { fileState, sameState, type FileState } from './file-state.js';
import { installs, installsOnly, judgesLockfileFirst, leaveLockfileJudged, lockfileDigest, lockfileJudgedFirst, lockfileSeenByUpdateConfigAlone } from './early.js';
import { tellWorkers, toldByUpdateConfig } from './told.js';
import { cacheDirLeft } from './handoff.js';
import { currentProject, projectAt, registryConfigFromPnpm, registrySettingsOf } from './project.js';
import { blockedError, skippedNoticeText, unjudgedFetchError } from './refuse.js';
import { buildsPatchedUnasked, hooksFollowUpdateConfig, pnpmMajor, wholeGraphJudgedBeforeLinking } from './quirks.js';
import { pnpmAncestor, type PnpmProcess } from './ancestor.js';
import { newInstallState, type InstallState, type JudgedVerdict, type JudgingThread, type PnpmProject } from './state.js';
import { JudgeWorker } from './judge-worker.js';
import { hasPackages, lockfilePackages, manifestNode, registryDependencies, releaseLinesIn, suppliedFields, suppliedMetadata, type Manifest } from './translate.js';
import { inPnpm12HookWorker } from './worker-kind.js';

function say(state: InstallState, text: string): void {
  state.said?.push(`${text}\n`);
  process.stderr.write(`${text}\n`);
}

/**
 * Judges the whole graph (preResolution, afterAllResolved): throws pnpm's error when anything must stop the
 * install, else prints the one notice for builds skipped that were not announced yet.
 */
async function enforce(state: InstallState, verdict: JudgedVerdict & { remembered?: boolean }, project: PnpmProject, what: string): Promise<void> {
  if (verdict.blocking.length > 0) {
    // pnpm ends the install (pnpm 12: its hook worker) as soon as we throw: let prefetches finish their cache writes.
    await project.gate.settle();
    throw blockedError(verdict, what);
  }
  const fresh = verdict.skipped.filter((f) => !state.noticed.has(`${f.package}@${f.version}`));
  const notice = skippedNotice(fresh, 'pnpm');
  if (notice === undefined) return;
  for (const f of fresh) state.noticed.add(`${f.package}@${f.version}`);
  // Packages updateConfig could not deny outright (new to this resolution) also get pnpm's own approval line.
  // A fresh pnpm 12 worker did not run updateConfig: work out what it denied from the same files.
  // (In strict mode nothing is skipped: the gate blocks it instead.)
  // A remembered verdict judged only the lockfile's packages: whether each was denied is its own entry's answer,
  // so the skipped ones are enough (no second read of pnpm-lock.yaml in pnpm 12's second worker).
  // After updateConfig judged the lockfile first, it denied only what it skipped of the lockfile's packages (config.ts
  // narrowDenials): worked out the same way here.
  const denied =
    project.deniedBuilds ??
    (verdict.remembered === true && state.judgedFirst === undefined
      ? new Set(project.gate.builds.denylist(fresh.map((f) => ({ name: f.package, version: f.version }))))
      : (project.deniedBuilds = deniedInWorker(project, state.judgedFirst)));
  const offered = fresh.some((f) => !(denied.has(f.package) || denied.has(`${f.package}@${f.version}`)));
  say(state, skippedNoticeText(notice, offered));
}

/** What updateConfig denied outright, worked out again in a fresh pnpm 12 worker (without the registry's versions of ranged entries). */
function deniedInWorker(project: PnpmProject, judgedFirst: readonly string[] | undefined): Set<string> {
  const dirs = [project.dir, process.cwd()];
  const locked = lockfileCandidates(project.dir);
  const denied = deniedBeforeResolution(project, dirs, locked);
  if (judgedFirst === undefined) return new Set(denied);
  const unneeded = unneededDenials(project, { locked, dirs, versions: [], own: new Set() }, judgedFirst);
  return new Set(denied.filter((entry) => !unneeded.has(entry)));
}

/**
 * pnpm resolves a manifest's dependencies next: start fetching their metadata now, beside pnpm's own requests,
 * so their readPackage calls find it in memory. Not needed when manifests carry their signatures.
 */
function prefetchDependencies(state: InstallState, manifest: Manifest, project: PnpmProject): void {
  // Signatures come with the manifests (pnpm 10, 11), or from pnpm 12's own cache (cachedMetadata).
  if (state.manifestsCarrySignatures === true || state.pnpmCacheDir !== undefined) return;
  // A project's own manifest with a lockfile beside it: pnpm installs what the lockfile pins (a frozen or
  // up-to-date install, where pnpm 12 still reads the root manifest), and those verdicts come from the memo.
  if (typeof manifest.dist?.integrity !== 'string' && existsSync(join(project.dir, 'pnpm-lock.yaml'))) return;
  const names = registryDependencies(manifest);
  // Until the first dependency manifest shows whether this pnpm passes signatures, hold the project's own
  // dependencies back: on pnpm 10 and 11 they are never needed, and fetching them competes with pnpm's requests.
  if (state.manifestsCarrySignatures === undefined) {
    state.heldBack.push(...names);
    return;
  }
  for (const name of names) project.gate.prefetch(name);
}

/**
 * Learns from the dependency manifests whether signatures come with them: the first one decides, and releases what was
 * held back if it has none; a later one that carries them settles it (an unsigned package's manifest has none on any
 * pnpm, and whichever package pnpm resolves first must not keep the rest of the install from the judging thread).
 */
function learnFrom(state: InstallState, manifest: Manifest, project: PnpmProject): void {
  if (state.manifestsCarrySignatures === true || typeof manifest.dist?.integrity !== 'string') return;
  const carries = Array.isArray(manifest.dist.signatures);
  if (state.manifestsCarrySignatures === false && !carries) return;
  const first = state.manifestsCarrySignatures === undefined;
  state.manifestsCarrySignatures = carries;
  const held = state.heldBack;
  state.heldBack = [];
  if (first && !carries && state.pnpmCacheDir === undefined) for (const name of held) project.gate.prefetch(name);
}

/**
 * pnpm 12 drops `dist.signatures` from the manifests it hands over, but keeps them in its metadata cache: the
 * version's document from there (only supplied: the gate verifies it like any registry document, against the
 * integrity pnpm installs). Undefined when it is not there yet: the gate fetches the packument.
 */
function cachedMetadata(state: InstallState, node: PackageNode): PackumentVersion | undefined {
  if (state.pnpmCacheDir === undefined || node.registry === undefined) return undefined;
  return pnpmCachedMetadata([state.pnpmCacheDir], node.registry, node.name, node.version, node.integrity, (state.openedCacheFiles ??= new OpenedCacheFiles()));
}

/**
 * pnpm 12's updateConfig judging the lockfile: the documents pnpm kept for its packages, with each release line the
 * downgrade check asks about read in the same read of the same file (core's pnpmKeptInputs), instead of the whole
 * packuments in Portcullis' own cache. Only a cache folder outside the checkout (updateConfig: keptCacheTrusted). No
 * file is kept once read (as `check`, unlike readPackage's): each is asked about once, and keeping what was read alive
 * until the judgement ends cost more in garbage collection than reading a file again for a second version (a real tree
 * of 620 packages: updateConfig 167 → 147 ms).
 */
function lockfileKeptInputs(state: InstallState, project: PnpmProject): LockfileInputs {
  if (state.pnpmCacheDir === undefined) return {};
  return { kept: pnpmKeptInputs([state.pnpmCacheDir], (pkg) => project.gate.asksReleaseLine(pkg.name, pkg.version)) };
}

/** The release lines pnpm keeps in the same cache (translate.ts releaseLinesIn), read once per install. */
function cachedPackuments(state: InstallState): Pick<JudgeInputs, 'suppliedPackument'> {
  return releaseLinesIn(state.pnpmCacheDir, () => (state.openedCacheFiles ??= new OpenedCacheFiles()));
}

/**
 * pnpm 10 builds patched packages without asking allowBuilds (quirks.ts): the whole graph's judgement is told so, and a
 * patched package a patch may give scripts, which the policy does not let build, then stops the install instead of
 * being skipped. A pnpm whose version is unknown (0) is told so too (fail closed); a pnpm 12 worker that did not run
 * updateConfig (no version known there) is pnpm 12, which asks.
 */
function patchedInputs(state: InstallState): { patchedBuildsUnasked?: true } {
  const major = state.pnpmMajor ?? (inPnpm12HookWorker() ? 12 : 0);
  return buildsPatchedUnasked(major) || major === 0 ? { patchedBuildsUnasked: true } : {};
}

/** Manifests pnpm hands over in the same tick are judged together, as a part of the install. */
function judgeSoon(state: InstallState, node: PackageNode, metadata: PackumentVersion | undefined, project: PnpmProject): Promise<Verdict> {
  if (state.batch === undefined) {
    const nodes = new Map<string, PackageNode>();
    const supplied = new Map<string, PackumentVersion>();
    // A microtask, not a timer or setImmediate: pnpm awaits each verdict, and waiting for the event loop's
    // next turn cost ~7 ms a call on pnpm 10.
    const verdict = Promise.resolve().then(async () => {
      state.batch = undefined;
      // pnpm 10 and 11 write their metadata cache behind the resolution (about a third of it is there when readPackage
      // sees a package, all of it at afterAllResolved, which judges the whole graph before linking): a release line not
      // there yet is read then, instead of fetching every new package's packument a second time now.
      const wholeGraphFollows = state.pnpmMajor !== undefined && wholeGraphJudgedBeforeLinking(state.pnpmMajor) ? { wholeGraphFollows: true } : {};
      const verdict = await project.gate.judge([...nodes.values()], { partial: true, ...wholeGraphFollows, ...(supplied.size > 0 ? { supplied: (pkg: PackageNode) => supplied.get(pkg.id) } : {}), ...cachedPackuments(state) });
      if (verdict.blocking.length > 0) await project.gate.settle();
      return verdict;
    });
    state.batch = { nodes, supplied, verdict };
  }
  state.batch.nodes.set(node.id, node);
  if (metadata !== undefined) state.batch.supplied.set(node.id, metadata);
  return state.batch.verdict;
}

/**
 * pnpm 10 and 11 with the judging thread (judge-worker.ts): the manifests pnpm hands over until the event loop's next
 * turn are sent to it together, and pnpm's resolution goes on without waiting for the verdict. afterAllResolved, which
 * judges the whole graph before pnpm links anything, waits for every one of them first; a batch that blocks is refused
 * by the next readPackage call already.
 */
function judgeInWorker(state: InstallState, worker: JudgingThread, node: PackageNode, metadata: Manifest | undefined): void {
  let batch = state.workerBatch;
  if (batch === undefined) {
    batch = state.workerBatch = { nodes: new Map(), supplied: new Map() };
    setImmediate(() => sendBatch(state, worker));
  }
  batch.nodes.set(node.id, node);
  if (metadata !== undefined) batch.supplied.set(node.id, metadata);
}

/** Sends the batch being collected, if any, to the judging thread. */
function sendBatch(state: InstallState, worker: JudgingThread): void {
  const batch = state.workerBatch;
  if (batch === undefined) return;
  state.workerBatch = undefined;
  const verdict = worker.judge([...batch.nodes.values()], batch.supplied, { partial: true, wholeGraphFollows: true }).then((verdict) => {
    if (verdict.blocking.length > 0) state.refusal ??= blockedError(verdict, 'the resolved dependencies');
  });
  // Every failure is kept for the next hook call; none goes unhandled in pnpm's process.
  state.sentToWorker.push(verdict.catch((error: unknown) => void (state.refusal ??= error)));
}

/**
 * afterAllResolved with the judging thread: the graph is sent after every batch (the thread judges them first, and the
 * graph finds their verdicts remembered); the first refusal or failure of a batch is thrown, else the graph's verdict
 * is returned.
 */
async function judgeGraphInWorker(state: InstallState, worker: JudgingThread, packages: PackageNode[]): Promise<JudgedVerdict> {
  sendBatch(state, worker);
  const graph = worker.judge(packages, new Map(), { partial: false, wholeGraphFollows: false, ...patchedInputs(state) });
  // Waited for below, after the batches: never unhandled meanwhile.
  graph.catch(() => undefined);
  while (state.sentToWorker.length > 0) await Promise.all(state.sentToWorker.splice(0));
  if (state.refusal !== undefined) throw state.refusal;
  return graph;
}

interface PreResolutionContext {
  wantedLockfile?: unknown;
  lockfileDir: string;
  registries?: Record<string, string>;
}

/** The pnpm process this hook worker belongs to (pnpm 12: an ancestor; pnpm 10 and 11 run hooks in their own process). */
function workerOf(): PnpmProcess | undefined {
  return inPnpm12HookWorker() ? pnpmAncestor(process.ppid) : undefined;
}

/** pnpm 12, in updateConfig: tells the other hook workers of this pnpm process the project's folder and pnpm's registries (told.ts). */
function tellOtherWorkers(state: InstallState, config: PnpmConfig, pnpmfile: string): void {
  const pnpm = workerOf();
  if (pnpm !== undefined && state.project !== undefined) tellWorkers(pnpmfile, pnpm, state.project.dir, config);
}

/** Raised inside judgeLockfile when our reader cannot read what pnpm can: preResolution judges pnpm's object instead. */
class UnreadableHere extends Error {}

/**
 * pnpm 12, in updateConfig: judges the lockfile pnpm is about to install, from disk, and leaves the token that lets
 * the second worker declare no preResolution (early.ts). Blocked: throws pnpm's error, before anything is fetched.
 * Only for an install (or `add`, `update`, `remove`, `dedupe`) with the plain lockfile settings; anything else is left to
 * preResolution as before. pnpm 12's `fetch` too, which no preResolution follows: there, a lockfile that cannot be judged
 * here (another lockfile setting, one our reader refuses) is refused instead.
 */
async function judgeLockfileFirst(state: InstallState, config: PnpmConfig, pnpmfile: string): Promise<Pick<ReplayAnswer, 'lockfile' | 'judged' | 'noticed'> | undefined> {
  const pnpm = workerOf();
  const project = state.project;
  if (pnpm === undefined || project === undefined) return undefined;
  // pnpm 12's `fetch`: no preResolution follows, so what cannot be judged here is refused (quirks.ts).
  const alone = lockfileSeenByUpdateConfigAlone(pnpm.argv, pnpmMajor(config));
  const leftToPreResolution = (reason: string): undefined => {
    if (alone) throw unjudgedFetchError(reason);
    return undefined;
  };
  if (!judgesLockfileFirst(config, pnpm.argv, pnpmMajor(config))) return leftToPreResolution('a setting or option makes pnpm read another lockfile than pnpm-lock.yaml (git-branch lockfiles, a lockfile per project, --lockfile-dir), or a global one');
  const file = join(project.dir, 'pnpm-lock.yaml');
  // Its state before its bytes are read: the token vouches for what was judged by it (file-state.ts). None that can be
  // read here: preResolution judges instead.
  const judged = fileState(file);
  if (judged === undefined) return leftToPreResolution(`${file} could not be read`);
  // None at all: pnpm resolves, and readPackage and afterAllResolved judge what it resolves. The token tells the second
  // worker so: a preResolution declared there would be handed an empty lockfile, and pnpm wraps each call of that hook
  // in an AsyncLocalStorage, which makes every promise and callback of the worker's process pay for async hooks from
  // then on (measured, a fresh resolution of 1,000 packages: the worker's CPU 352.9 → 327.4 ms without it).
  if (judged === null) {
    leaveLockfileJudged(pnpmfile, pnpm, file, null, []);
    return undefined;
  }
  let bytes: Buffer;
  try {
    bytes = typeof judged === 'string' ? readFileSync(file) : judged;
  } catch {
    return leftToPreResolution(`${file} could not be read`);
  }
  const digest = lockfileDigest(bytes);
  let verdict: LockfileVerdict;
  try {
    verdict = await project.gate.judgeLockfile(`pnpm-lock.yaml ${digest}`, () => {
      try {
        return readPnpmLockfile(bytes.toString('utf8'), { path: file, projectDir: project.dir, registryFor: (name) => project.registryConfig.registryFor(name) }).packages;
      } catch (error) {
        throw new UnreadableHere(error instanceof Error ? error.message : String(error));
      }
    }, { ...lockfileKeptInputs(state, project), ...patchedInputs(state) });
  } catch (error) {
    if (error instanceof UnreadableHere) return leftToPreResolution(error.message);
    throw error;
  }
  await enforce(state, verdict, project, 'pnpm-lock.yaml');
  if (verdict.patchFiles !== undefined) state.judgedPatchFiles = verdict.patchFiles;
  const noticed = [...state.noticed];
  return leaveLockfileJudged(pnpmfile, pnpm, file, judged, noticed) ? { lockfile: file, judged, noticed } : undefined;
}

/**
 * pnpm 10 and 11 (hooks on pnpm's own thread), a command that resolves in a project without a lockfile (pnpm resolves
 * the whole graph): the judgement's own thread (judge-worker.ts) is started now, beside pnpm's start, so that it is
 * ready when the first manifests arrive. With a lockfile, pnpm installs from it (preResolution judges it here, mostly
 * remembered) or resolves a few packages: a thread's start would cost more than it saves.
 */
function startJudgeWorker(state: InstallState, config: PnpmConfig, pnpmfile: string): void {
  const project = state.project;
  // pnpm 12 runs hooks in its workers (a short argv): never there.
  if (project === undefined || state.judgeWorker !== undefined || inPnpm12HookWorker()) return;
  if (state.pnpmMajor === undefined || !wholeGraphJudgedBeforeLinking(state.pnpmMajor) || registryConfigFromPnpm(config) === undefined) return;
  // Another command (`pnpm run install`, `pnpm -C dir install`: its value looks like the command) is judged on pnpm's thread.
  if (existsSync(join(project.dir, 'pnpm-lock.yaml')) || !installs(process.argv.slice(2))) return;
  state.judgeWorker = new JudgeWorker(pnpmfile, { dir: project.dir, registrySettings: registrySettingsOf(config), ...(state.pnpmCacheDir !== undefined ? { pnpmCacheDir: state.pnpmCacheDir } : {}) });
}

/** What updateConfig was asked and the files it will answer from, taken before it decides (replay.ts). */
interface Recording {
  question: AskedQuestion;
  snapshot: ReadonlyMap<string, string>;
  files: Map<string, FileState>;
  /** pnpm 10 and 11 (pnpm's own process): the lockfile whose packages it reads, recorded without a judgement of it. */
  lockfile?: string;
}

/**
 * The question and the states of the files known before deciding (the lockfile, the project's package.json and
 * pnpm-workspace.yaml, every path the policy lookup looks at): in pnpm 12's updateConfig worker, when it judges the
 * lockfile itself, and in pnpm 10 and 11's own process when a lockfile is there (pnpm 10: not for an install, after
 * which preResolution always loads the engine). Undefined when pnpm did not hand over its registry settings, or when a
 * file's state cannot be told: nothing is recorded then.
 */
function startRecording(state: InstallState, config: PnpmConfig, pnpmfile: string): Recording | undefined {
  const inProcess = !inPnpm12HookWorker();
  const pnpm = inProcess ? thisPnpmProcess() : workerOf();
  const engine = engineBuild();
  if (pnpm === undefined || engine === undefined) return undefined;
  if (inProcess ? hooksFollowUpdateConfig(pnpmMajor(config), pnpm.argv.slice(1)) : !judgesLockfileFirst(config, pnpm.argv, pnpmMajor(config)) || !installsOnly(pnpm.argv)) return undefined;
  // Registry settings not handed over by pnpm are read from .npmrc files (project.ts), which a record does not cover.
  if (registryConfigFromPnpm(config) === undefined) return undefined;
  const snapshot = configSnapshot(config);
  const question = snapshot === undefined ? undefined : questionOf({ engine, pnpmfile, pnpm, config: snapshot, env: process.env, cwd: process.cwd() });
  const dir = projectDirOf(config);
  const dirs = [dir, ...(typeof config.dir === 'string' && config.dir !== '' ? [config.dir] : [])];
  const lockfile = join(dir, 'pnpm-lock.yaml');
  const files = fileStates([lockfile, join(dir, 'pnpm-workspace.yaml'), ...dirs.map((d) => join(d, 'package.json')), ...policyFileLookups(dir, process.env)]);
  if (question === undefined || snapshot === undefined || files === undefined) return undefined;
  // In pnpm's own process, without a lockfile pnpm resolves, and its hooks load the engine anyway.
  if (inProcess && (files.find(([path]) => path === lockfile)?.[1] ?? null) === null) return undefined;
  state.said = [];
  return { question, snapshot, files: new Map(files), ...(inProcess ? { lockfile } : {}) };
}

/**
 * After updateConfig let the install go on (pnpm 12: and left the token): the record a later loader replays. Only when
 * the gate's policy came from local files alone, all of them known before deciding (or, like a trusted root the policy
 * names, read now; the advisory sources by the key the gate's decision used), and the lockfile judged is the one whose
 * state was taken.
 */
function finishRecording(recording: Recording, state: InstallState, config: PnpmConfig, judged: Pick<ReplayAnswer, 'lockfile' | 'judged' | 'noticed'>, lockfileJudgedHere: boolean): void {
  const said = state.said;
  delete state.said;
  // A lockfile judged here (pnpm 12): the verdict also rests on the patch files its judgement read (and the settings
  // naming them, pnpm-workspace.yaml and package.json, recorded already); without them known, nothing is recorded. pnpm
  // 10 and 11 judge the lockfile in preResolution, through the gate's own remembered verdicts, which check them.
  const patchFiles = lockfileJudgedHere ? state.judgedPatchFiles : [];
  const inputs = state.project?.gate.localInputs();
  const recorded = recording.files.get(judged.lockfile);
  if (patchFiles === undefined || inputs === undefined || said === undefined || recorded === undefined || recorded === null || !sameState(recorded, judged.judged)) return;
  const files = new Map(recording.files);
  // Each with the bytes judged (file-state.ts: a later replay reads and compares them, then keeps a settled stamp).
  for (const [path, bytes] of patchFiles) if (!files.has(path)) files.set(path, bytes);
  for (const path of inputs.files) {
    if (files.has(path)) continue;
    const now = fileStates([path]);
    if (now === undefined) return;
    files.set(path, now[0]![1]);
  }
  const changes = configChanges(recording.snapshot, config);
  if (changes === undefined) return;
  recordUpdateConfig(recording.question, process.env, [...files], inputs.advisories, { ...changes, said: said.join(''), ...judged });
}

/**
 * The pnpmfile's hooks, sharing one install's state. Given `pnpmfile` (the file pnpm loaded), updateConfig of pnpm 12
 * also judges the lockfile and leaves the token named by it (early.ts).
 */
export function createHooks(state: InstallState = newInstallState(), { pnpmfile, lockfileJudged = false }: { pnpmfile?: string; lockfileJudged?: boolean } = {}) {
  return {
    /** updateConfig: the build allowlist becomes exactly what scripts.allow permits (config.ts); pnpm 12: the lockfile judged. */
    async updateConfig(config: PnpmConfig): Promise<PnpmConfig> {
      const recording = pnpmfile === undefined ? undefined : startRecording(state, config, pnpmfile);
      try {
        const updated = await updateConfig(state, config);
        if (pnpmfile !== undefined) tellOtherWorkers(state, config, pnpmfile);
        if (pnpmfile !== undefined) startJudgeWorker(state, config, pnpmfile);
        const judged = pnpmfile === undefined ? undefined : await judgeLockfileFirst(state, config, pnpmfile);
        if (judged !== undefined) narrowDenials(state.project, updated, judged.noticed);
        if (recording !== undefined) {
          // pnpm 10 and 11: the lockfile is only read here (preResolution judges it); the record holds its state all the same.
          const read = recording.lockfile === undefined ? undefined : recording.files.get(recording.lockfile);
          const from = judged ?? (read !== undefined && read !== null ? { lockfile: recording.lockfile!, judged: read, noticed: [] } : undefined);
          if (from !== undefined) finishRecording(recording, state, updated, from, judged !== undefined);
        }
        return updated;
      } finally {
        delete state.said;
      }
    },

    /** preResolution: the wanted lockfile, judged before pnpm fetches or links anything. */
    async preResolution(ctx: PreResolutionContext): Promise<void> {
      const project = await projectAt(state, ctx.lockfileDir, ctx.registries);
      refuseCommandLineWidening(project.gate.builds);
      if (!hasPackages(ctx.wantedLockfile)) return;
      // The lockfile exactly as pnpm will install it: a verdict this gate gave the same one is replayed.
      const wanted = ctx.wantedLockfile;
      const verdict = await project.gate.judgeLockfile(digestOf(wanted), () => lockfilePackages(wanted, project.dir, project.registryConfig), patchedInputs(state));
      await enforce(state, verdict, project, 'pnpm-lock.yaml');
    },

    /** readPackage: a dependency's registry manifest as pnpm resolves it: refuse it before it is linked. */
    async readPackage<T extends Manifest>(manifest: T): Promise<T> {
      // A project's own manifest (no integrity) in a pnpm 12 worker whose lockfile updateConfig judged: nothing to
      // judge, and nothing to prefetch (pnpm installs what that lockfile pins) — the project is not even opened.
      if (lockfileJudged && typeof manifest.dist?.integrity !== 'string') return manifest;
      const project = await currentProject(state);
      // A fresh pnpm 12 worker was not told pnpm's cache folder: updateConfig's worker left it (a hint only).
      if (state.pnpmCacheDir === undefined && state.lookedForCacheDir !== true) {
        state.lookedForCacheDir = true;
        const left = cacheDirLeft(project.dir);
        if (left !== undefined && keptCacheTrusted(left, project.dir)) state.pnpmCacheDir = left;
      }
      learnFrom(state, manifest, project);
      prefetchDependencies(state, manifest, project);
      const node = manifestNode(manifest, project.registryConfig);
      if (node === undefined) return manifest;
      // pnpm 10 and 11 handing over signatures, with the judging thread: judged there, without holding pnpm up.
      const worker = state.judgeWorker;
      if (worker !== undefined && state.manifestsCarrySignatures === true && state.pnpmMajor !== undefined && wholeGraphJudgedBeforeLinking(state.pnpmMajor)) {
        if (state.refusal !== undefined) throw state.refusal;
        // The manifest is read as registry metadata there (suppliedMetadata), not on pnpm's thread.
        judgeInWorker(state, worker, node, suppliedFields(manifest));
        return manifest;
      }
      const verdict = await judgeSoon(state, node, suppliedMetadata(manifest) ?? cachedMetadata(state, node), project);
      // Only a blocked package's own resolution fails: pnpm then reports one error naming every finding of the batch.
      if (verdict.blocking.length > 0 && verdict.blocked.has(node.id)) throw blockedError(verdict, 'the resolved dependencies');
      return manifest;
    },

    /** afterAllResolved: the complete resolved graph, including sources readPackage cannot see. */
    async afterAllResolved<T extends object>(lockfile: T): Promise<T> {
      const project = await currentProject(state);
      refuseCommandLineWidening(project.gate.builds);
      if (!hasPackages(lockfile)) return lockfile;
      const packages = lockfilePackages(lockfile, project.dir, project.registryConfig);
      // The thread that judged readPackage's batches remembers their verdicts.
      let verdict: JudgedVerdict;
      const worker = state.judgeWorker;
      if (worker !== undefined) {
        verdict = await judgeGraphInWorker(state, worker, packages);
        // The graph is the thread's last question: it ends, and its heap with it, while pnpm fetches and links (a
        // later question of this process, if any, starts a new one).
        worker.retire();
      } else verdict = await project.gate.judge(packages, { ...cachedPackuments(state), ...patchedInputs(state) });
      await enforce(state, verdict, project, 'the resolved dependencies');
      return lockfile;
    },
  };
}

/**
 * The hooks pnpm is given for the pnpmfile at `pnpmfile`: all of them, but in a pnpm 12 worker whose lockfile
 * updateConfig of the same pnpm process already judged (a verified token, the same bytes still on disk), no
 * preResolution — pnpm then does not hand the lockfile over to be judged a second time; nor where updateConfig found no
 * lockfile and there still is none (a fresh resolution, judged by readPackage and afterAllResolved).
 */
export function pnpmfileHooks(pnpmfile: string, state: InstallState = newInstallState()): Partial<ReturnType<typeof createHooks>> {
  const pnpm = workerOf();
  const found = lockfileJudgedFirst(pnpmfile, pnpm);
  // The project as updateConfig of the same pnpm process opened it: its folder, with pnpm's registries (told.ts).
  const told = toldByUpdateConfig(pnpmfile, pnpm);
  if (told !== undefined) state.told = told;
  const judged = found?.absent === true ? undefined : found;
  for (const id of judged?.noticed ?? []) state.noticed.add(id);
  if (judged !== undefined) state.judgedFirst = judged.noticed;
  const hooks = createHooks(state, { pnpmfile, lockfileJudged: judged !== undefined });
  if (found === undefined) return hooks;
  const { preResolution: _judged, ...rest } = hooks;
  return rest;
}
