/**
 * Which process the pnpmfile runs in. pnpm 12 runs the hooks in Node processes of their own beside its native process,
 * started with no script (argv: `node` alone); pnpm 10 and 11 run them in their own process (`node pnpm.cjs <command>`,
 * a longer argv), and their judging thread (judge-worker.ts) shares that argv. One test, used wherever the two differ:
 * where pnpm's command line comes from (/proc in a pnpm 12 worker), which hooks the loader declares, where signatures are
 * verified, whether the judging thread may start. A bare `pnpm` (no command) on 10 or 11 has a short argv too; each
 * caller's choice holds there as well (see each).
 */
export const inPnpm12HookWorker = (argv: readonly string[] = process.argv): boolean => argv.length <= 2;
