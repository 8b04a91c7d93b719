/**
 * pnpm 10 and 11 run the pnpmfile's hooks on their own main thread, the thread that resolves: every millisecond the
 * judgement of readPackage's batches takes there (signatures dispatched, pnpm's cache files read for the provenance
 * no-downgrade check, the policy evaluated) is a millisecond pnpm's resolution waits. On a fresh resolution the hooks
 * hand the judgement to a worker thread of their own instead: the same engine (this very pnpmfile, started again in
 * the worker), the same project opened from the same folder with pnpm's registry settings, one gate for the whole
 * install (readPackage's batches and afterAllResolved's graph, so the graph finds the batches' verdicts remembered).
 * pnpm's thread only translates manifests into packages, sends them, and turns the verdict into pnpm's refusal. The
 * graph is the last question: the thread is then retired, ends once its work is done, and its heap goes back to pnpm
 * (a question after all starts a new thread).
 *
 * Fail closed: a worker that cannot start, ends, or answers with anything but a verdict for the question fails every
 * judgement waiting on it (pnpm stops with UNDECIDED); nothing is ever allowed because the worker did not say no.
 */
import { Worker } from 'node:worker_threads';
import { OpenedCacheFiles, type Finding, type PackageNode, type PackumentVersion, type Verdict } from '@portcullis/core';
import { openProject, registryConfigFromPnpm } from './project.js';
import { pnpmError, type PortcullisPnpmCode } from './refuse.js';
import type { JudgedVerdict, JudgingThread } from './state.js';
import { releaseLinesIn, suppliedMetadata, type Manifest } from './translate.js';

/** What the worker is started with (workerData): the project and pnpm's settings it is opened with. */
export interface JudgeWorkerStart {
  portcullisJudge: 1;
  dir: string;
  /** The part of pnpm's configuration registryConfigFromPnpm reads (strings only). */
  registrySettings: Record<string, unknown>;
  /** pnpm's cache folder (already checked to be outside the project: keptCacheTrusted). */
  pnpmCacheDir?: string;
}

/** One judgement asked of the worker. */
interface JudgeQuestion {
  id: number;
  packages: PackageNode[];
  /** The manifests pnpm handed over with their signatures (translate.ts suppliedFields), by package id: read here. */
  supplied: Array<[string, Manifest]>;
  partial: boolean;
  wholeGraphFollows: boolean;
  /** pnpm 10 builds patched packages unasked (quirks.ts `buildsPatchedUnasked`). */
  patchedBuildsUnasked?: boolean;
}

/** Told once no question follows (JudgeWorker.retire). */
interface Retire {
  retire: true;
}

interface JudgeAnswer {
  id: number;
  verdict?: JudgedVerdict;
  /** A judgement that threw: pnpm's error as the engine would have thrown it. */
  error?: { message: string; code?: unknown; hint?: unknown };
}

/**
 * The thread's young generation, in MB (its old generation keeps V8's default limit). With V8's default for a worker,
 * the provenance rules' short-lived objects were promoted and kept: measured, pnpm 11 cold, 1,000 packages with
 * provenance required, a cooldown and advisories, peak 663–668 MB for the process against 559–575 with 8 MB (bare pnpm
 * ~435–455), in the same time; rules off, 3 rounds each, 299–303 against 308–310 MB, no slower.
 */
const YOUNG_GENERATION_MB = 8;

type Waiter = { resolve: (v: JudgedVerdict) => void; reject: (e: unknown) => void };

/** One started thread and the questions waiting on its answers. */
interface Thread {
  worker: Worker;
  waiting: Map<number, Waiter>;
  ended?: Error;
  retired: boolean;
}

/**
 * The hooks' side: asks the thread, one question at a time per batch. A retired thread is replaced by a new one when a
 * question comes after all; a thread that ended without being retired fails every later question.
 */
export class JudgeWorker implements JudgingThread {
  private readonly workerData: JudgeWorkerStart;
  private thread: Thread;
  private failure: Error | undefined;
  private next = 1;

  constructor(
    private readonly pnpmfile: string,
    start: Omit<JudgeWorkerStart, 'portcullisJudge'>,
  ) {
    this.workerData = { portcullisJudge: 1, ...start };
    this.thread = this.started();
  }

  private started(): Thread {
    // The pnpmfile again: its loader loads the engine, which sees workerData and serves judgements (pnpmfile.ts).
    const worker = new Worker(this.pnpmfile, { workerData: this.workerData, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    const thread: Thread = { worker, waiting: new Map(), retired: false };
    // Only a question waiting keeps pnpm's process alive.
    worker.unref();
    worker.on('message', (answer: JudgeAnswer) => this.answered(thread, answer));
    worker.on('error', (error) => this.end(thread, error instanceof Error ? error : new Error(String(error))));
    worker.on('exit', (code) => this.end(thread, new Error(`it ended (exit code ${code})`)));
    return thread;
  }

  judge(packages: PackageNode[], supplied: ReadonlyMap<string, Manifest>, options: { partial: boolean; wholeGraphFollows: boolean; patchedBuildsUnasked?: boolean }): Promise<JudgedVerdict> {
    if (this.failure !== undefined) return Promise.reject(undecided(this.failure));
    if (this.thread.retired) {
      try {
        this.thread = this.started();
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error));
        return Promise.reject(undecided(this.failure));
      }
    }
    const thread = this.thread;
    const id = this.next++;
    const question: JudgeQuestion = { id, packages, supplied: [...supplied], ...options };
    return new Promise((resolve, reject) => {
      thread.waiting.set(id, { resolve, reject });
      if (thread.waiting.size === 1) thread.worker.ref();
      try {
        thread.worker.postMessage(question);
      } catch (error) {
        settled(thread, id)?.reject(undecided(error instanceof Error ? error : new Error(String(error))));
      }
    });
  }

  /**
   * No question follows, as far as the hooks know: the thread answers what it was asked, lets its requests in flight
   * finish (and their cache writes) and ends, and its heap goes with it. Asked after the graph's verdict, while pnpm
   * goes on to fetch and link. A question after all goes to a new thread.
   */
  retire(): void {
    const thread = this.thread;
    if (thread.retired || thread.ended !== undefined) return;
    thread.retired = true;
    try {
      thread.worker.postMessage({ retire: true } satisfies Retire);
    } catch {
      void thread.worker.terminate();
    }
  }

  private answered(thread: Thread, answer: JudgeAnswer): void {
    const id = typeof answer === 'object' && answer !== null ? answer.id : undefined;
    const waiter = typeof id === 'number' ? settled(thread, id) : undefined;
    if (waiter === undefined) return this.end(thread, new Error('it answered a question it was not asked'));
    if (answer.verdict !== undefined) return isVerdict(answer.verdict) ? waiter.resolve(answer.verdict) : waiter.reject(undecided(new Error('its verdict has another shape')));
    const error = answer.error;
    const code = typeof error?.code === 'string' ? CROSSING_CODES.get(error.code) : undefined;
    if (code !== undefined && typeof error!.message === 'string' && typeof error!.hint === 'string') return waiter.reject(pnpmError(code, error!.message, error!.hint));
    waiter.reject(undecided(new Error(typeof error?.message === 'string' ? error.message : 'it gave no verdict')));
  }

  private end(thread: Thread, error: Error): void {
    thread.ended ??= error;
    // A retired thread ends as told once it has answered; any other end (or one with questions left) fails every later question.
    if (!thread.retired || thread.waiting.size > 0) this.failure ??= thread.ended;
    for (const id of [...thread.waiting.keys()]) settled(thread, id)?.reject(undecided(thread.ended));
  }
}

/** The waiter of question `id`, no longer waiting; the thread no longer keeps pnpm's process alive once none waits. */
function settled(thread: Thread, id: number): Waiter | undefined {
  const waiter = thread.waiting.get(id);
  thread.waiting.delete(id);
  if (thread.waiting.size === 0) thread.worker.unref();
  return waiter;
}

/** The engine's own refusals that cross from the thread as they are (any other error is UNDECIDED). */
const CROSSING_CODES = new Map<string, PortcullisPnpmCode>((['BLOCKED', 'UNDECIDED', 'POLICY', 'SETTINGS'] as const).map((code) => [`ERR_PNPM_PORTCULLIS_${code}`, code]));

/** A verdict as judged() sends it: what the hooks read of it, each of the right kind. */
function isVerdict(value: unknown): value is JudgedVerdict {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const findings = (x: unknown) => Array.isArray(x) && x.every((f) => typeof f === 'object' && f !== null);
  return findings(v.findings) && findings(v.blocking) && findings(v.skipped) && v.blocked instanceof Set && (v.exitCode === 0 || v.exitCode === 1 || v.exitCode === 3) && Array.isArray(v.notices) && Array.isArray(v.strippedRegistries);
}

function undecided(error: Error): Error {
  return pnpmError('UNDECIDED', `portcullis could not decide on the resolved dependencies: its judging thread failed (${error.message}). Nothing was linked and no install script ran (fail closed)`, 'Run the install again; if it fails the same way, report it with the output of `pnpm install --reporter=ndjson`.');
}

/** How long readPackage's batches are held in the thread before they are judged (see serveJudgements). */
const HOLD_MS = 100;

/** The worker's side: opens the project and answers each question with the gate's verdict. */
export async function serveJudgements(start: JudgeWorkerStart, port: { on(event: 'message', listener: (q: JudgeQuestion | Retire) => void): void; postMessage(answer: JudgeAnswer): void }, holdMs = HOLD_MS, end: () => void = () => process.exit(0)): Promise<void> {
  const registryConfig = registryConfigFromPnpm(start.registrySettings);
  const project = registryConfig === undefined ? undefined : openProject(start.dir, registryConfig);
  // A project that cannot be opened fails each question (updateConfig opened the same one already).
  project?.catch(() => undefined);
  const past = releaseLinesIn(start.pnpmCacheDir, () => new OpenedCacheFiles());
  /**
   * The first answer that refuses (a blocking verdict, or an error): the install ends with it, so each later question
   * gets it too, and no judgement starts that pnpm's end would cut off (a refused batch's graph question used to fetch
   * the refused package's metadata again, keeping pnpm waiting for it, and its cache write could be left half done).
   */
  let refusal: Omit<JudgeAnswer, 'id'> | undefined;
  /** Judges `questions` together (one gate.judge) and answers each of them with that verdict. */
  const answer = async (questions: readonly JudgeQuestion[]): Promise<void> => {
    let reply: Omit<JudgeAnswer, 'id'>;
    if (refusal !== undefined) {
      for (const question of questions) port.postMessage({ id: question.id, ...refusal });
      return;
    }
    try {
      if (project === undefined) throw new Error('pnpm did not hand over its registry settings');
      const { gate } = await project;
      const packages = new Map<string, PackageNode>();
      const supplied = new Map<string, PackumentVersion>();
      for (const question of questions) {
        for (const pkg of question.packages) packages.set(pkg.id, pkg);
        for (const [id, manifest] of question.supplied) {
          // Read as readPackage read it on pnpm's thread before (hostile input: validated, or not supplied at all).
          const metadata = suppliedMetadata(manifest);
          if (metadata !== undefined) supplied.set(id, metadata);
        }
      }
      const [first] = questions;
      const verdict = await gate.judge([...packages.values()], {
        partial: first!.partial,
        ...(first!.wholeGraphFollows ? { wholeGraphFollows: true } : {}),
        ...(first!.patchedBuildsUnasked === true ? { patchedBuildsUnasked: true } : {}),
        ...(supplied.size > 0 ? { supplied: (pkg: PackageNode) => supplied.get(pkg.id) } : {}),
        ...past,
      });
      reply = { verdict: judged(verdict) };
      if (verdict.blocking.length > 0) refusal = reply;
    } catch (error) {
      const e = error as { message?: unknown; code?: unknown; hint?: unknown };
      refusal = reply = { error: { message: typeof e?.message === 'string' ? e.message : String(error), code: e?.code, hint: e?.hint } };
    }
    // pnpm ends as soon as the refusal is thrown: let requests in flight finish their cache writes first.
    if (refusal !== undefined) await project?.then(({ gate }) => gate.settle()).catch(() => undefined);
    for (const question of questions) port.postMessage({ id: question.id, ...reply });
  };
  // Questions are judged one after the other, in the order they came.
  let judging = Promise.resolve();
  const next = (questions: readonly JudgeQuestion[]) => void (judging = judging.then(() => answer(questions)));
  // readPackage's batches (partial, the whole graph following) are held HOLD_MS and judged together: pnpm 10 and 11
  // write a packument to their cache behind the resolution, so a release line read then is mostly there already,
  // instead of being left to the graph's judgement, which pnpm waits for. Nobody waits for a batch: pnpm goes on.
  let held: JudgeQuestion[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const judgeHeld = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const questions = held;
    held = [];
    if (questions.length > 0) next(questions);
  };
  port.on('message', (question) => {
    if ('retire' in question) {
      judgeHeld();
      judging = judging.then(() => project?.then(({ gate }) => gate.settle())).catch(() => undefined).then(end);
      return;
    }
    if (question.partial && question.wholeGraphFollows) {
      held.push(question);
      timer ??= setTimeout(judgeHeld, holdMs);
      return;
    }
    // Anything else (the graph) after every batch sent before it: they are judged first, then it.
    judgeHeld();
    next([question]);
  });
}

function judged(verdict: Verdict): JudgedVerdict {
  const plain = (findings: readonly Finding[]) => findings.map((f) => ({ ...f }));
  return {
    findings: plain(verdict.findings),
    blocking: plain(verdict.blocking),
    skipped: plain(verdict.skipped),
    blocked: new Set(verdict.blocked),
    exitCode: verdict.exitCode,
    notices: [...verdict.notices],
    strippedRegistries: [...verdict.strippedRegistries],
  };
}
