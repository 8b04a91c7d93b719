/**
 * The marker line before the engine inside the pnpmfile (core's cache/embedded.ts: after the loader's code, every line of
 * the engine's source behind `//`, taken back by the loader from its own file).
 */
export const ENGINE_MARKER = '//# portcullis-engine (the pnpmfile engine, read by the loader above; do not edit)';
