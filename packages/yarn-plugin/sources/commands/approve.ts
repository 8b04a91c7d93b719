/** `yarn portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow, like `portcullis approve`. */
import { approveCooldown, approvePublishers, approveScripts, describeApproval, describeCooldownApproval, describePublisherApproval, PortcullisError } from '@portcullis/core';
import { yarnFetch, yarnRegistryConfig } from '../registry.js';
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
    examples: [
      ['Allow two packages', 'yarn portcullis approve esbuild sharp@0.34.5'],
      ['Pin who builds a package', 'yarn portcullis approve --publisher sigstore'],
      ['Take a version younger than the cooldown now', 'yarn portcullis approve --cooldown lodash'],
    ],
  });

  publisher = Option.Boolean('--publisher', false, { description: 'Pin who builds the named packages (provenance.publishers) from their verified provenance' });
  cooldown = Option.Boolean('--cooldown', false, { description: 'A time-boxed exception to the cooldown for the versions in yarn.lock' });
  names = Option.Rest({ required: 1 });

  async execute(): Promise<number> {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    const { project } = await Project.find(configuration, this.context.cwd);
    const dir = projectDir(project.cwd);
    try {
      const options = { env: process.env, kind: 'yarn' } as const;
      if (this.publisher && this.cooldown) throw new PortcullisError('USAGE', 'approve takes --publisher or --cooldown, not both');
      const registryConfig = yarnRegistryConfig(configuration);
      if (this.publisher) this.context.stdout.write(describePublisherApproval(await approvePublishers(dir, this.names, { ...options, registryConfig, fetch: yarnFetch(configuration, registryConfig) })));
      else if (this.cooldown) this.context.stdout.write(describeCooldownApproval(await approveCooldown(dir, this.names, options)));
      // Approving records what each version runs (scripts.fingerprints): read through Yarn's registries.
      else this.context.stdout.write(describeApproval(await approveScripts(dir, this.names, { ...options, registryConfig, fetch: yarnFetch(configuration, registryConfig) })));
      return 0;
    } catch (error) {
      if (!(error instanceof PortcullisError)) throw error;
      this.context.stderr.write(`portcullis: ${error.message}\n`);
      return error.exitCode;
    }
  }
}
