/**
 * Which process the pnpmfile runs in. pnpm 12 runs the hooks in Node processes of their own beside its native process,
 * started with no script (argv: `node` alone); pnpm 10 and 11 run them in their own process (`node pnpm.cjs <command>`,
 * a longer argv); their judging thread (judge-worker.ts, a worker thread running this file) has `[node, pnpmfile]`,
 * short too, and tells itself apart by `isMainThread` (see mayBeWorkerThread). One test, used wherever the two differ:
 * where pnpm's command line comes from (/proc in a pnpm 12 worker), which hooks the loader declares, where signatures are
 * verified, whether the judging thread may start. A bare `pnpm` (no command) on 10 or 11 has a short argv too; each
 * caller's choice holds there as well (see each).
 */
export const inPnpm12HookWorker = (argv: readonly string[] = process.argv): boolean => argv.length <= 2;

/**
 * Whether this may be a worker thread. pnpm 12's hook workers are processes started as `node -e` (argv: `node` alone),
 * and start no thread that loads this file: only their main thread runs it. Anything else may be a thread: the judging
 * thread of pnpm 10 and 11 (judge-worker.ts: `[node, pnpmfile]`), and pnpm 10 and 11's own process (which loads
 * `node:worker_threads` for its own work anyway, measured). Asked first, so that `node:worker_threads` (loaded on first
 * use in the shipped files: ~0.45 ms of each of pnpm 12's two hook workers, measured) is not loaded there to ask
 * `isMainThread` or `workerData`.
 */
export const mayBeWorkerThread = (argv: readonly string[] = process.argv): boolean => argv.length > 1;
