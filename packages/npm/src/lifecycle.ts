/**
 * Running install-time code after the gate: each allowed installed copy through `npm rebuild <path>`
 * (npm's own runner: its environment, node-gyp, bin links), then the root project's lifecycle.
 */
import type { BuildStep } from '@portcullis/core';
import type { NpmCommand } from './arguments.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GateContext } from './context.js';
import { runNpm, type NpmRun } from './npm-process.js';
import { rebuildSelectsBundledCopy } from './quirks.js';
import { say } from './refuse.js';

/** npm's root lifecycle for a bare `install` or `ci`, in its order. */
const ROOT_EVENTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare'] as const;

/** Options of the user's that shape how scripts run; everything that gates them is set by us. */
function runnerFlags(cmd: NpmCommand): string[] {
  const out: string[] = [];
  for (const name of ['script-shell', 'foreground-scripts', 'loglevel']) {
    const value = cmd.options.get(name);
    if (value === undefined) continue;
    out.push(value === true ? `--${name}` : `--${name}=${value}`);
  }
  return out;
}

/** Runs the allowed copies' scripts, one copy at a time, then (for a bare install or ci) the root's own. */
export async function runLifecycle(
  ctx: GateContext,
  cmd: NpmCommand,
  dir: string,
  steps: BuildStep[],
  options: { rootScripts: boolean; onlyPreinstall?: boolean; rootPreinstallDone?: boolean },
): Promise<number> {
  const foreground = cmd.options.get('foreground-scripts') === true;
  for (const step of steps) {
    const result = await runStep(ctx, cmd, dir, step, foreground);
    const what = [...step.scripts, ...(step.bindingGyp ? ['node-gyp rebuild'] : [])].join(', ');
    if (result.code !== 0) {
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      say(`portcullis-npm: ${what} of ${step.name}@${step.version} (${step.path}) failed with exit code ${result.code}`);
      return result.code;
    }
    say(`portcullis-npm: ran ${what} of ${step.name}@${step.version} (${step.path})${step.ownCode ? ' — your own package' : ''}`);
  }
  if (!options.rootScripts) return 0;
  const scripts = rootScriptNames(dir);
  const events = options.onlyPreinstall ? ['preinstall'] : ROOT_EVENTS.filter((e) => !(e === 'preinstall' && options.rootPreinstallDone));
  for (const event of events) {
    if (scripts[event] === undefined) continue;
    // `--ignore-scripts` on `npm run` skips only the pre/post hooks: exactly one script runs, as in npm's install.
    const result = await runNpm(ctx.npm, ['run', event, '--ignore-scripts', ...runnerFlags(cmd)], { cwd: dir, env: ctx.env, inherit: true });
    if (result.code !== 0) return result.code;
  }
  return 0;
}

/**
 * Runs one allowed copy's install-time code. `npm rebuild <folder>` with `--rebuild-bundle=false`: npm would otherwise
 * also build every copy bundled inside it (quirks.ts rebuildBuildsBundledCopies), allowed or not; an allowed bundled
 * copy is a step of its own. An npm whose rebuild never selects a bundled copy (rebuildSelectsBundledCopy) runs that
 * copy's named scripts with `npm run` in its folder, one at a time in npm's order; its implicit `node-gyp rebuild` has
 * no such way, so that step fails rather than being reported as run.
 */
async function runStep(ctx: GateContext, cmd: NpmCommand, dir: string, step: BuildStep, foreground: boolean): Promise<NpmRun> {
  if (!step.inBundle || rebuildSelectsBundledCopy(ctx.npm.version)) {
    // `./` keeps npm from reading `node_modules/x` as a GitHub shorthand.
    const args = ['rebuild', `./${step.path}`, '--rebuild-bundle=false', '--ignore-scripts=false', '--dangerously-allow-all-scripts', ...runnerFlags(cmd)];
    return runNpm(ctx.npm, args, { cwd: dir, env: ctx.env, inherit: foreground });
  }
  if (step.bindingGyp && !step.scripts.includes('install') && !step.scripts.includes('preinstall')) {
    return { code: 1, stdout: '', stderr: `portcullis-npm: npm ${ctx.npm.version ?? '(version unknown)'} cannot build the bundled copy ${step.name}@${step.version} (${step.path}) with node-gyp on its own (its rebuild never selects a bundled copy).\n` };
  }
  let last: NpmRun = { code: 0, stdout: '', stderr: '' };
  for (const event of BUNDLED_EVENTS) {
    if (!step.scripts.includes(event)) continue;
    // `--ignore-scripts` skips only the pre/post hooks; `--no-workspaces` keeps npm from taking a folder further up as the project.
    last = await runNpm(ctx.npm, ['run', event, '--ignore-scripts', '--no-workspaces', ...runnerFlags(cmd)], { cwd: join(dir, step.path), env: ctx.env, inherit: foreground });
    if (last.code !== 0) return last;
  }
  return last;
}

/** A registry copy's install scripts, in the order npm runs them. */
const BUNDLED_EVENTS = ['preinstall', 'install', 'postinstall'] as const;

/** The scripts of the root project npm would have run, in npm's order (read from package.json). */
export function rootScriptNames(dir: string): Record<string, string> {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(manifest.scripts ?? {})) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return {};
  }
}
