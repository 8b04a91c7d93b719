/**
 * Portcullis for pnpm 10, 11 and 12: the pnpmfile that enforces portcullis.json on every install.
 * - updateConfig: the build allowlist becomes exactly what scripts.allow permits;
 * - preResolution, readPackage, afterAllResolved: registry signatures, before anything is linked or run.
 * One install's state is created here, with the hooks, and shared by them. pnpm 12: updateConfig judges the lockfile
 * too, and the second worker then declares no preResolution (early.ts).
 */
import { pnpmfileHooks } from './hooks.js';

export const hooks = pnpmfileHooks(__filename);
