/**
 * Core's second face: what a loader may use without loading the engine — the pnpmfile's loader (pnpm's loader.ts,
 * early.ts, replay.ts) and the npm wrapper's start (bin.ts). Node built-ins only, small: everything here is compiled in
 * every pnpm 12 hook worker before the engine is, or instead of it.
 */
// The engine's source and V8 code cache, content-addressed and authenticated (cache/code-cache.ts).
export { readCodeCache, readEngineSource, writeCodeCache, writeEngineSource } from './cache/code-cache.js';
// This user's cache and state folders and memo secret: to find and authenticate the files a loader believes.
export { defaultCacheDir, defaultStateDir, memoSecret, ownFile } from './cache/dirs.js';
export { removeOlderThan, writeFileAtomic } from './atomic-write.js';
// One whole file read through one descriptor, bounded (pnpm's state files).
export { readBounded } from './read-bounded.js';
// Names for the loaders' state files (pnpm's state-file.ts), from the hash the advisory index uses for its slots.
export { fnv1a } from './fnv.js';
// The advisory sources' state, as the gate keys its decisions by it (pnpm's replay.ts checks it again).
export { listSourceFiles, type AdvisorySourcesState } from './advisories/sources.js';
// How the loaders run the engine their file carries, and take back a text it carries (cache/embedded.ts; the builds
// write those files with its embedSections).
export { loadEmbeddedEngine, runEmbeddedMain, sectionFrom, textHash, verifiedSection, withSection, type EmbeddedEngine, type LoadedEngine } from './cache/embedded.js';
// The largest lockfile any reader accepts: npm's held process bounds what it may ask about by it (npm's ask.ts, npm-process.ts).
export { MAX_LOCKFILE_BYTES } from './limits.js';
// A file's stat as far as it vouches for the bytes read after it (the token and the replayed answer: pnpm's early.ts, replay.ts).
export { settledStamp } from './file-stamp.js';
