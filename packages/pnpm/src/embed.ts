/**
 * The marker line before the engine inside the pnpmfile (core's cache/embedded.ts: after the loader's code, the engine's
 * source brotli-compressed, in base64 lines behind `//`, taken back by the loader from its own file).
 */
export const ENGINE_MARKER = '//# portcullis-engine (the pnpmfile engine, brotli-compressed and base64-encoded, read by the loader above; do not edit)';
