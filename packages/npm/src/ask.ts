/**
 * One npm run for a fresh resolution: a held npm let go with GO_ASK (hold.ts) resolves as usual, and before it installs
 * anything it sends the wrapper the lockfile it resolved and waits for the answer. Without it, the gate ran npm twice —
 * a lock-only resolution, then the install of the lockfile it wrote — and a second npm's start, configuration, lockfile
 * and trees cost ~0.5 s of a cold install of 1,000 packages (docs/benchmarks.md).
 *
 * npm has no hook there, so this one is npm's own Arborist, wrapped when npm first loads it (`@npmcli/arborist`, or
 * any module exporting a class with its `buildIdealTree`; the same in npm 10, 11 and 12):
 * - `buildIdealTree` (the resolution): once it has a tree, its lockfile text — exactly what npm writes to
 *   `package-lock.json` at the end of the install — goes to the wrapper, and npm waits. The wrapper judges that text
 *   (gate.ts) and answers ALLOW or STOP; STOP, no answer, or anything else ends npm at once (HELD_NPM_STOPPED), before it
 *   has fetched a tarball or written a file;
 * - `[Symbol.for('diffTrees')]` (the first step of installing a resolved tree): never for an Arborist whose tree was not
 *   let through. An npm that installed otherwise ends there.
 * An npm whose Arborist does not have that shape says CANNOT before its resolution and ends; the wrapper then runs the
 * lock-only resolution and the install as two npm runs, as before.
 *
 * This module is the held side (loaded by the loader, bin.ts, in npm's process); the wrapper's side is npm-process.ts.
 */
import { writeSync } from 'node:fs';
import Module from 'node:module';
import { ASK_FD, HELD_NPM_STOPPED } from './hold.js';

/** The held npm asks: the nonce it was let go with, a 32-bit big-endian length, then `{ file, text }` as JSON. */
export const ASK = 0x6c;
/** The wrapper's answers: install what was resolved, or end. */
export const ALLOW = 0x79;
export const STOP = 0x73;
/** The held npm cannot ask (its Arborist is not the one this was written for): it ends without installing. */
export const CANNOT = 0x6e;
/** The frame's fixed part: ASK, the nonce, the length. */
export const askHeadBytes = (nonceBytes: number) => 1 + nonceBytes + 4;

/** The lockfile a held npm resolved: npm's own path for it and the text npm would write there. */
export interface ResolvedLockfile {
  file: string;
  text: string;
}

type Tree = { meta?: { filename?: unknown; toString(options: { format: unknown }): string }; package?: Record<symbol, unknown> };
type ArboristLike = { options?: { formatPackageLock?: unknown }; buildIdealTree(this: ArboristLike, options?: unknown): Promise<Tree> };

const DIFF_TREES = Symbol.for('diffTrees');

/** Ends this npm now, without npm's exit handlers (they would report an npm that was stopped as one that crashed). */
function stopHere(): never {
  const reallyExit = (process as unknown as { reallyExit?: (code: number) => never }).reallyExit;
  if (typeof reallyExit === 'function') reallyExit.call(process, HELD_NPM_STOPPED);
  process.exit(HELD_NPM_STOPPED);
}

/** In the held process (bin.ts), after GO_ASK: wraps npm's Arborist when npm loads it, so that npm asks before installing. */
export function askBeforeInstalling(nonce: Buffer): void {
  const ModuleWithLoad = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const load = ModuleWithLoad._load;
  let wrapped = false;
  ModuleWithLoad._load = function (this: unknown, request: string, parent: unknown, isMain: boolean) {
    const exported = load.call(this, request, parent, isMain);
    // npm's Arborist by name, or any module that exports a class with Arborist's resolution (a deeper path to it).
    if (!wrapped && (request === '@npmcli/arborist' || resolvesLikeArborist(exported))) {
      wrapped = true;
      wrapArborist(exported, nonce);
    }
    return exported;
  };
}

function resolvesLikeArborist(exported: unknown): boolean {
  return typeof exported === 'function' && typeof (exported.prototype as { buildIdealTree?: unknown } | undefined)?.buildIdealTree === 'function';
}

function wrapArborist(exported: unknown, nonce: Buffer): void {
  const proto = typeof exported === 'function' ? (exported.prototype as Record<string | symbol, unknown>) : undefined;
  const build = proto?.buildIdealTree;
  const diff = proto?.[DIFF_TREES];
  if (proto === undefined || typeof build !== 'function' || typeof diff !== 'function') {
    try {
      writeSync(ASK_FD, Buffer.from([CANNOT]));
    } catch {
      // the wrapper is gone: nothing to tell
    }
    stopHere();
  }
  // Each Arborist's tree that was let through: only that one is installed.
  const letThrough = new WeakMap<object, Tree>();
  let asked = false;
  proto.buildIdealTree = async function (this: ArboristLike, options?: unknown): Promise<Tree> {
    const tree = await (build as ArboristLike['buildIdealTree']).call(this, options);
    if (letThrough.get(this) !== tree) {
      // One question per npm run: a second tree is never installed.
      if (asked) stopHere();
      asked = true;
      await askAbout(lockfileOf(this, tree), nonce);
      letThrough.set(this, tree);
    }
    return tree;
  };
  proto[DIFF_TREES] = function (this: object, ...args: unknown[]) {
    if (!letThrough.has(this)) stopHere();
    return (diff as (...a: unknown[]) => unknown).apply(this, args);
  };
}

/** The lockfile text npm writes for `tree` at the end of its install (Arborist's reify, saveIdealTree: same format). */
function lockfileOf(arborist: ArboristLike, tree: Tree): ResolvedLockfile {
  const meta = tree.meta;
  if (meta === undefined || typeof meta.filename !== 'string') stopHere();
  const indent = tree.package?.[Symbol.for('indent')] ?? '  ';
  const formatPackageLock = arborist.options?.formatPackageLock;
  const format = formatPackageLock && indent ? indent : formatPackageLock;
  return { file: meta.filename, text: meta.toString({ format }) };
}

/** Sends the question and waits: returns on ALLOW only; anything else ends npm here. */
async function askAbout(lockfile: ResolvedLockfile, nonce: Buffer): Promise<void> {
  // Loaded here, not with the loader: every other start of portcullis-npm would pay for it.
  const { Socket } = await import('node:net');
  const body = Buffer.from(JSON.stringify(lockfile), 'utf8');
  const head = Buffer.alloc(askHeadBytes(nonce.length));
  head[0] = ASK;
  nonce.copy(head, 1);
  head.writeUInt32BE(body.length, 1 + nonce.length);
  return new Promise((resolve) => {
    const pipe = new Socket({ fd: ASK_FD, readable: true, writable: true });
    pipe.on('error', () => stopHere());
    pipe.on('end', () => stopHere());
    pipe.once('data', (answer: Buffer) => {
      if (answer.length !== 1 || answer[0] !== ALLOW) stopHere();
      // Closed now: nothing npm starts from here on inherits it.
      pipe.removeAllListeners();
      pipe.destroy();
      resolve();
    });
    pipe.write(Buffer.concat([head, body]));
  });
}
