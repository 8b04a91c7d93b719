/**
 * Portcullis for pnpm 10, 11 and 12: the pnpmfile that enforces portcullis.json on every install.
 * - updateConfig: the build allowlist becomes exactly what scripts.allow permits;
 * - preResolution, readPackage, afterAllResolved: registry signatures, before anything is linked or run.
 */
import { updateConfig } from './config.js';
import { afterAllResolved, preResolution, readPackage } from './gate.js';

export const hooks = { updateConfig, preResolution, readPackage, afterAllResolved };
