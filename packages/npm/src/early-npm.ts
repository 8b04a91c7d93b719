/**
 * npm started by the loader (bin.ts) before the engine loads: a gated install's npm is held anyway (hold.ts), and
 * starting its Node while the wrapper's own engine loads and the project is read, instead of after, takes ~15 ms off
 * every `install` and `ci` (docs/benchmarks.md). What npm runs is told at `go`, by the gate, as before; an npm started
 * here that the gate does not let go (a refusal, an error, a damaged engine, another path) ends unrun.
 */
import { optionOn, parseNpmArguments, type NpmCommand } from './arguments.js';
import { canHold, holdNpm, locateNpm, quietEnv, type HeldNpm, type NpmBinary } from './npm-process.js';

/** The npm the loader found and started held, for main() to use. */
export interface EarlyNpm {
  npm: NpmBinary;
  held: HeldNpm;
}

/** Whether the gate installs this command through a held npm (gate.ts): `ci`, or an install that is neither a dry run nor lock-only. */
export function installsThroughHeldNpm(cmd: NpmCommand): boolean {
  if (cmd.kind === 'ci') return true;
  return cmd.kind === 'resolve' && !optionOn(cmd, 'dry-run') && !optionOn(cmd, 'package-lock-only');
}

/**
 * Starts the held npm of a command that installs through one, as the gate would (npm found the same way, scripts off
 * in its environment, in `cwd`); undefined for any other command, an npm that cannot be held, or anything unexpected
 * (the gate then starts npm itself, and says what went wrong).
 */
export function startNpmEarly(argv: string[], env: NodeJS.ProcessEnv, cwd: string, holdWith: string | undefined): EarlyNpm | undefined {
  try {
    if (holdWith === undefined) return undefined;
    // The command is read as this npm reads it (its major's command words), as main() does.
    const npm = locateNpm(env);
    if (!installsThroughHeldNpm(parseNpmArguments(argv, npm.version)) || !canHold(npm, holdWith)) return undefined;
    return { npm, held: holdNpm(npm, { cwd, env: quietEnv(env), holdWith }) };
  } catch {
    return undefined;
  }
}
