/** `portcullis-npm`: npm's own arguments; installing commands go through the gate, the rest straight to npm. */
import { PortcullisError } from '@portcullis/core';
import { parseNpmArguments } from './arguments.js';
import type { EarlyNpm } from './early-npm.js';
import { gateCi, gateRebuild, gateResolve, type GateContext } from './gate.js';
import { locateNpm, runNpm } from './npm-process.js';
import { say } from './refuse.js';

/**
 * Runs one npm command line and returns the exit code. `holdWith`: the wrapper's own file when an npm started early may
 * load it to be held (hold.ts); without it npm starts only once it may run. `early`: the npm the loader already found
 * and started held for this command line (early-npm.ts), let go by the gate or stopped here.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd(), options: { holdWith?: string | undefined; early?: EarlyNpm | undefined } = {}): Promise<number> {
  let npm;
  try {
    npm = options.early?.npm ?? locateNpm(env);
  } catch (error) {
    say(`portcullis-npm: ${(error as Error).message}`);
    return 2;
  }
  const cmd = parseNpmArguments(argv, npm.version);
  const ctx: GateContext = { cwd, env, npm, ...(options.holdWith !== undefined ? { holdWith: options.holdWith } : {}), ...(options.early !== undefined ? { early: options.early.held } : {}) };
  try {
    let code: number;
    switch (cmd.kind) {
      case 'resolve':
        code = await gateResolve(cmd, ctx);
        break;
      case 'ci':
        code = await gateCi(cmd, ctx);
        break;
      case 'rebuild':
        return await gateRebuild(cmd, ctx);
      case 'refuse':
        say(`portcullis-npm: ${cmd.refusal ?? `\`npm ${cmd.command ?? ''}\` is not gated; nothing was run.`}`);
        return 2;
      case 'passthrough':
        return (await runNpm(npm, argv, { cwd, env, inherit: true })).code;
    }
    if (code === 0 && cmd.thenTest) code = (await runNpm(npm, ['test'], { cwd, env, inherit: true })).code;
    return code;
  } catch (error) {
    if (error instanceof PortcullisError) {
      say(`portcullis-npm: ${error.message}`);
      return error.exitCode;
    }
    // Anything unexpected means we could not decide: fail closed.
    say(`portcullis-npm: internal error: ${error instanceof Error ? error.message : String(error)}`);
    if (env.PORTCULLIS_DEBUG) say(error instanceof Error ? (error.stack ?? '') : '');
    return 3;
  } finally {
    // Started by the loader and not let go (a refusal, an error, a path without a held npm): it ends unrun.
    await ctx.early?.stop();
  }
}
