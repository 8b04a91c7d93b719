/** The pnpm part of the demo. */
import { install } from '../project.js';
import { pnpm } from '../toolbox.js';
import { demoProject, scriptsThatRan, showCheck, type DemoContext } from './context.js';

export async function demoPnpm(ctx: DemoContext): Promise<void> {
  const tool = pnpm(10);
  ctx.say(`pnpm ${tool.version}: install the demo project with scripts off, then \`portcullis check\``);
  const project = demoProject(ctx, 'pnpm');
  const installed = await install(tool, 'pnpm', project);
  if (installed.code !== 0) ctx.show(installed);
  await showCheck(ctx, project);
  ctx.say(`install scripts that ran: ${scriptsThatRan(project).join(', ') || 'none'}`);
}
