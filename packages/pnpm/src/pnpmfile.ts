/**
 * Portcullis for pnpm 10, 11 and 12: the pnpmfile that enforces portcullis.json on every install.
 * - updateConfig: the build allowlist becomes exactly what scripts.allow permits;
 * - preResolution, readPackage, afterAllResolved: registry signatures, before anything is linked or run.
 * One install's state is created here, with the hooks, and shared by them.
 */
import { createHooks } from './hooks.js';

export const hooks = createHooks();
