/** `yarn portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow, like `portcullis approve`. */
import { approveScripts, describeApproval, PortcullisError } from '@portcullis/core';
import { BaseCommand } from '@yarnpkg/cli';
import { Configuration, Project } from '@yarnpkg/core';
import { Command, Option } from 'clipanion';
import { projectDir } from '../packages.js';

export default class PortcullisApproveCommand extends BaseCommand {
  static override paths = [['portcullis', 'approve']];
  static override usage = Command.Usage({
    category: 'Portcullis commands',
    description: 'allow packages to run install scripts',
    details: 'Writes pinned entries (`name@version`, for every version of each name in yarn.lock) to `scripts.allow` in portcullis.json. Run `yarn install` afterwards to build them.',
    examples: [['Allow two packages', 'yarn portcullis approve esbuild sharp@0.34.5']],
  });

  names = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    const { project } = await Project.find(configuration, this.context.cwd);
    const dir = projectDir(project.cwd);
    try {
      this.context.stdout.write(describeApproval(await approveScripts(dir, this.names, { env: process.env, kind: 'yarn' })));
      return 0;
    } catch (error) {
      if (!(error instanceof PortcullisError)) throw error;
      this.context.stderr.write(`portcullis: ${error.message}\n`);
      return error.exitCode;
    }
  }
}
