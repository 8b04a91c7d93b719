/**
 * Strict mode — an install script the policy does not allow fails the install instead of being skipped — is one
 * input to the gate, decided here once for every surface: from the environment, or from the package manager's own
 * switch for it, read with one rule for what counts as "on".
 */
import type { Env } from '../env.js';
import { PortcullisError } from '../errors.js';
import type { LockfileKind } from '../model.js';

/** The environment variable that turns strict mode on for every package manager. */
export const STRICT_ENV = 'PORTCULLIS_STRICT_SCRIPTS';
/** The name pnpm's documentation used first; read the same way. */
const STRICT_ENV_ALIASES = ['PORTCULLIS_STRICT_BUILDS'] as const;

/** Each package manager's own setting that Portcullis reads as strict mode, for messages and docs. */
export const NATIVE_STRICT_SETTING: Record<LockfileKind, string | undefined> = {
  npm: undefined,
  pnpm: 'strictDepBuilds (written in pnpm-workspace.yaml)',
  yarn: 'portcullisStrict (in .yarnrc.yml)',
};

/**
 * One truthiness rule for every switch: `true`/`1`/`yes`/`on` are on; `false`/`0`/`no`/`off`, empty and
 * unset are off (case-insensitive). Anything else is a usage error naming the setting, never a silent guess.
 */
export function parseSwitch(value: unknown, setting: string): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === '' || word === 'false' || word === '0' || word === 'no' || word === 'off') return false;
    if (word === 'true' || word === '1' || word === 'yes' || word === 'on') return true;
  }
  const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : String(JSON.stringify(value)).slice(0, 40);
  throw new PortcullisError('USAGE', `${setting} must be true or false (or 1/0, yes/no, on/off), not ${shown}`);
}

/**
 * Whether unapproved install scripts fail the install: `PORTCULLIS_STRICT_SCRIPTS` (or its alias
 * `PORTCULLIS_STRICT_BUILDS`) in the environment, or the package manager's own switch (`native`: pnpm's
 * `strictDepBuilds` as written in pnpm-workspace.yaml, Yarn's `portcullisStrict`). Either turns it on.
 */
export function strictScripts(packageManager: LockfileKind, sources: { env: Env; native?: unknown }): boolean {
  for (const name of [STRICT_ENV, ...STRICT_ENV_ALIASES]) if (parseSwitch(sources.env[name], name)) return true;
  const setting = NATIVE_STRICT_SETTING[packageManager];
  return setting !== undefined && parseSwitch(sources.native, setting);
}
