/** Size limits on hostile input that more than one room enforces. */

/** Larger metadata than this is refused (full documents of the biggest packages are tens of MiB). */
export const MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;

/** Larger attestations documents than this are refused (npm's are a few KiB per version). */
export const MAX_ATTESTATIONS_BYTES = 2 * 1024 * 1024;

/** Lockfiles larger than this are refused: real ones are a few MiB, and parsing is memory-hungry. */
export const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;
