/** The npm part of the demo. */
import { install } from '../project.js';
import { npm } from '../toolbox.js';
import { demoProject, scriptsThatRan, showCheck, type DemoContext } from './context.js';

export async function demoNpm(ctx: DemoContext): Promise<void> {
  const tool = npm(11);
  ctx.say(`npm ${tool.version}: install the demo project with scripts off, then \`portcullis check\``);
  const project = demoProject(ctx, 'npm');
  const installed = await install(tool, 'npm', project);
  if (installed.code !== 0) ctx.show(installed);
  await showCheck(ctx, project);
  ctx.say(`install scripts that ran: ${scriptsThatRan(project).join(', ') || 'none'}`);
}
