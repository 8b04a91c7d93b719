/** The pnpm part of the demo: real pnpm installs through the Portcullis pnpmfile (`portcullis init pnpm`). */
import { join } from 'node:path';
import { portcullis, run, type Project, type RunResult } from '../project.js';
import { pnpm } from '../toolbox.js';
import { demoProject, scriptsThatRan, type DemoContext } from './context.js';

/** `pnpm install` with scripts on (Portcullis decides), in the project's own store and cache. */
function pnpmInstall(major: 10 | 12, project: Project): Promise<RunResult> {
  const tool = pnpm(major);
  const own = [`--store-dir=${join(project.home, 'pnpm-store')}`, `--cache-dir=${join(project.home, 'pnpm-cache')}`, '--config.confirmModulesPurge=false'];
  return run(tool.command, [...tool.args, 'install', ...own], { cwd: project.dir, env: project.env });
}

export async function demoPnpm(ctx: DemoContext): Promise<void> {
  ctx.say(`pnpm ${pnpm(10).version}: \`portcullis init pnpm\`, then \`pnpm install\` of the whole demo set`);
  const everything = demoProject(ctx, 'pnpm');
  await portcullis(everything, ['init', 'pnpm']);
  ctx.show(await pnpmInstall(10, everything));
  ctx.say(`install scripts that ran: ${scriptsThatRan(everything).join(', ') || 'none'} — the install stopped before linking`);

  ctx.say(`pnpm ${pnpm(12).version}: a project with only script packages (all signed)`);
  const scripts = demoProject(ctx, 'pnpm', { 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'fast-compiler': '^3.2.0' });
  await portcullis(scripts, ['init', 'pnpm']);
  const installed = await pnpmInstall(12, scripts);
  const quiet = installed.stdout.split('\n').filter((l) => !/^(Progress|Packages|\+|\s*$)|store is at|postinstall\$/.test(l));
  ctx.show({ ...installed, stdout: `${quiet.join('\n')}\n` });
  ctx.say(`install scripts that ran: ${scriptsThatRan(scripts).join(', ') || 'none'}`);
}
