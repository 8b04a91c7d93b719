/** The yarn part of the demo: a real Yarn install through the Portcullis plugin. */
import { enforceWithYarnPlugin, run, type Project } from '../project.js';
import { yarn } from '../toolbox.js';
import { demoProject, scriptsThatRan, type DemoContext } from './context.js';

export async function demoYarn(ctx: DemoContext): Promise<void> {
  const tool = yarn();
  const yarnIn = (project: Project, args: string[]) => run(tool.command, [...tool.args, ...args], { cwd: project.dir, env: project.env });

  ctx.say(`yarn ${tool.version}: \`portcullis init yarn\`, then \`yarn install\` of the whole demo set — the plugin stops it during resolution`);
  const all = demoProject(ctx, 'yarn');
  ctx.show(await enforceWithYarnPlugin(all));
  ctx.show(await yarnIn(all, ['install', '--no-immutable']));

  ctx.say('yarn: only the trusted packages — unapproved install scripts (and node-gyp) are skipped, the approved one builds');
  const trusted = demoProject(ctx, 'yarn', { '@acme/logger': '^2.1.0', 'evil-postinstall': '1.0.0', 'native-addon': '1.0.0', 'fast-compiler': '^3.2.0' });
  await enforceWithYarnPlugin(trusted);
  ctx.show(await yarnIn(trusted, ['install', '--no-immutable']));
  ctx.say(`install scripts that ran: ${scriptsThatRan(trusted).join(', ') || 'none'}`);
}
