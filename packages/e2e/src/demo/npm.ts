/** The npm part of the demo: real npm installs through `portcullis-npm`. */
import { portcullisNpm } from '../project.js';
import { npm } from '../toolbox.js';
import { demoProject, scriptsThatRan, showCheck, type DemoContext } from './context.js';

export async function demoNpm(ctx: DemoContext): Promise<void> {
  const tool = npm(11);
  ctx.say(`npm ${tool.version} through portcullis-npm: \`portcullis-npm install\` of the whole demo set`);
  const blocked = demoProject(ctx, 'npm');
  ctx.show(await portcullisNpm(tool, blocked, ['install']));
  ctx.say(`install scripts that ran: ${scriptsThatRan(blocked).join(', ') || 'none'} — nothing was installed`);

  ctx.say('the signed packages only: fast-compiler is allowed to build, evil-postinstall and native-addon are not');
  const project = demoProject(ctx, 'npm', { '@acme/logger': '^2.1.0', 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'fast-compiler': '^3.2.0' });
  ctx.show(await portcullisNpm(tool, project, ['install']));
  ctx.say(`install scripts that ran: ${scriptsThatRan(project).join(', ') || 'none'}`);
  ctx.say('`portcullis check` on the same project (e.g. in CI) reports the two unapproved builds');
  await showCheck(ctx, project);
}
