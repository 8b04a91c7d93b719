/**
 * What one pnpm install shares between its hooks, in one object created with the hooks (pnpmfile.ts) instead
 * of module-level bindings: the project (and its gate), which skipped builds were already announced, what was
 * learnt about this pnpm's manifests, and the readPackage batch being collected.
 */
import type { Gate, OpenedCacheFiles, PackageNode, PackumentVersion, RegistryConfig, Verdict } from '@portcullis/core';
import type { Manifest } from './translate.js';

/** The project being installed: the folder of pnpm-lock.yaml, pnpm's registry settings, and its gate. */
export interface PnpmProject {
  /** The folder of pnpm-lock.yaml (a workspace's root), where portcullis.json is looked up from. */
  dir: string;
  registryConfig: RegistryConfig;
  gate: Gate;
  /** Builds updateConfig denied outright (`name`, `name@version`): pnpm skips them without suggesting its own approval. */
  deniedBuilds?: ReadonlySet<string>;
  /** What updateConfig denied them from (config.ts `narrowDenials`): the lockfile's packages, the manifests' folders, the ranged entries' versions, and the user's own `false` entries. */
  deniedFrom?: { locked: ReadonlyArray<{ name: string; version: string }>; dirs: readonly string[]; versions: ReadonlyArray<{ name: string; version: string }>; own: ReadonlySet<string> };
}

/** The part of a verdict the hooks use, as it crosses threads (no functions). */
export type JudgedVerdict = Pick<Verdict, 'findings' | 'blocking' | 'skipped' | 'blocked' | 'exitCode' | 'notices' | 'strippedRegistries'>;

/** The judging thread as the hooks ask it (judge-worker.ts `JudgeWorker`). */
export interface JudgingThread {
  judge(packages: PackageNode[], supplied: ReadonlyMap<string, Manifest>, options: { partial: boolean; wholeGraphFollows: boolean }): Promise<JudgedVerdict>;
  /** No question follows as far as the hooks know: the thread ends once its work is done (its memory is given back); a later question starts a new one. */
  retire(): void;
}

/** Registry packages seen by readPackage in one tick, judged together. */
export interface ReadPackageBatch {
  nodes: Map<string, PackageNode>;
  supplied: Map<string, PackumentVersion>;
  verdict: Promise<Verdict>;
}

export interface InstallState {
  /** The project updateConfig saw (or a hook rebuilt from disk). */
  project?: PnpmProject;
  /** Packages already named in a skipped-scripts notice, so an install reports each once. */
  noticed: Set<string>;
  /** Whether this pnpm hands `dist.signatures` to readPackage; undefined until the first dependency manifest. */
  manifestsCarrySignatures?: boolean;
  /**
   * pnpm's major version, from updateConfig (0 when its user agent does not say; absent in a fresh pnpm 12 worker).
   * Only on the versions quirks.ts `wholeGraphJudgedBeforeLinking` names may readPackage's batches leave
   * afterAllResolved what pnpm has not cached yet.
   */
  pnpmMajor?: number;
  /** pnpm's own cache folder (`cacheDir`, from updateConfig): pnpm keeps the metadata it fetched there. */
  pnpmCacheDir?: string;
  /** pnpm's cache files opened during this install (readPackage's signatures, then the judgement's release lines). */
  openedCacheFiles?: OpenedCacheFiles;
  /** Whether a hook in a fresh pnpm 12 worker looked for the cache folder updateConfig left (handoff.ts). */
  lookedForCacheDir?: boolean;
  /** In a pnpm 12 worker whose lockfile updateConfig judged first (early.ts): the packages it skipped then (`name@version`). */
  judgedFirst?: readonly string[];
  /** While pnpm 12's updateConfig is recorded for replay (replay.ts): what the hooks wrote to stderr. */
  said?: string[];
  /**
   * The patch files updateConfig's judgement of the lockfile rested on (core `LockfileVerdict.patchFiles`: each path with
   * the bytes judged, null where none were read): its record covers them too. Undefined: not known, nothing recorded.
   */
  judgedPatchFiles?: ReadonlyArray<readonly [string, Buffer | null]>;
  /** Prefetches held back until this pnpm's manifests were seen. */
  heldBack: string[];
  batch?: ReadPackageBatch;
  /** pnpm 12's second worker: the project folder and pnpm's registries, as updateConfig of the same pnpm process told them (told.ts). */
  told?: { dir: string; registries: Record<string, string> };
  /** pnpm 10 and 11, a fresh resolution: the thread readPackage's batches and afterAllResolved are judged in (judge-worker.ts). */
  judgeWorker?: JudgingThread;
  /** The manifests to send it at the event loop's next turn. */
  workerBatch?: { nodes: Map<string, PackageNode>; supplied: Map<string, Manifest> };
  /** Batches sent to it and not yet waited for (afterAllResolved waits for all of them). */
  sentToWorker: Array<Promise<void>>;
  /** The first refusal (or failure) of a batch judged there: thrown by the next hook call. */
  refusal?: unknown;
}

export function newInstallState(): InstallState {
  return { noticed: new Set(), heldBack: [], sentToWorker: [] };
}
