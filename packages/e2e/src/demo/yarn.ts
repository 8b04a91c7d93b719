/** The yarn part of the demo. */
import { install } from '../project.js';
import { yarn } from '../toolbox.js';
import { demoProject, scriptsThatRan, showCheck, type DemoContext } from './context.js';

export async function demoYarn(ctx: DemoContext): Promise<void> {
  const tool = yarn();
  ctx.say(`yarn ${tool.version}: install the demo project with scripts off, then \`portcullis check\``);
  const project = demoProject(ctx, 'yarn');
  const installed = await install(tool, 'yarn', project);
  if (installed.code !== 0) ctx.show(installed);
  await showCheck(ctx, project);
  ctx.say(`install scripts that ran: ${scriptsThatRan(project).join(', ') || 'none'}`);
}
