/**
 * Portcullis for pnpm 10, 11 and 12: the pnpmfile that enforces portcullis.json on every install.
 * - updateConfig: the build allowlist becomes exactly what scripts.allow permits;
 * - preResolution, readPackage, afterAllResolved: registry signatures, before anything is linked or run.
 * One install's state is created here, with the hooks, and shared by them. pnpm 12: updateConfig judges the lockfile
 * too, and the second worker then declares no preResolution (early.ts). pnpm 10 and 11, a fresh resolution: the
 * judgement runs in a worker thread of the hooks' own, this file started again (judge-worker.ts).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pnpmfileHooks } from './hooks.js';
import { serveJudgements, type JudgeWorkerStart } from './judge-worker.js';
import { mayBeWorkerThread } from './worker-kind.js';

export const hooks = pnpmfileHooks(__filename);

// Started again as the hooks' own judging thread (judge-worker.ts; pnpm 10 and 11, a fresh resolution). The argv is
// asked first: node:worker_threads then loads only where it can tell (worker-kind.ts).
if (mayBeWorkerThread() && !isMainThread && parentPort !== null && (workerData as Partial<JudgeWorkerStart> | null | undefined)?.portcullisJudge === 1) {
  void serveJudgements(workerData as JudgeWorkerStart, parentPort);
}
