/**
 * The build of this plugin, stamped into the bundle by build.mjs (a hash of the bundle). Remembered verdicts
 * are kept per build; run from sources (unit tests) there is none, and nothing is remembered.
 */
const STAMP: string = '__PORTCULLIS_YARN_ENGINE_ID__';

export const ENGINE: string | undefined = STAMP.startsWith('yarn:') ? STAMP : undefined;
