/**
 * `yarn portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow, like `portcullis approve`.
 * With no names it lists what the policy blocks and the exact commands (it never asks: the picker is the CLI's);
 * `--all` approves every blocked build.
 */
import {
  approveCooldown,
  approvePublishers,
  approveReviewed,
  approveScripts,
  describeApproval,
  describeCooldownApproval,
  describePublisherApproval,
  describeReviewed,
  formatReview,
  PortcullisError,
  reviewBlocked,
  reviewCommands,
  runCheck,
} from '@portcullis/core';
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
      ['List what is blocked, with what each package would run', 'yarn portcullis approve'],
      ['Allow two packages', 'yarn portcullis approve esbuild sharp@0.34.5'],
      ['Allow every blocked build, pinned', 'yarn portcullis approve --all'],
      ['Pin who builds a package', 'yarn portcullis approve --publisher sigstore'],
      ['Take a version younger than the cooldown now', 'yarn portcullis approve --cooldown lodash'],
    ],
  });

  publisher = Option.Boolean('--publisher', false, { description: 'Pin who builds the named packages (provenance.publishers) from their verified provenance' });
  cooldown = Option.Boolean('--cooldown', false, { description: 'A time-boxed exception to the cooldown for the versions in yarn.lock' });
  all = Option.Boolean('--all', false, { description: 'Approve every blocked package of that kind (install scripts unless --cooldown or --publisher)' });
  names = Option.Rest();

  async execute(): Promise<number> {
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    const { project } = await Project.find(configuration, this.context.cwd);
    const dir = projectDir(project.cwd);
    try {
      const options = { env: process.env, kind: 'yarn' } as const;
      if (this.publisher && this.cooldown) throw new PortcullisError('USAGE', 'approve takes --publisher or --cooldown, not both');
      const registryConfig = yarnRegistryConfig(configuration);
      if (this.all && this.names.length > 0) throw new PortcullisError('USAGE', 'approve takes package names or --all, not both');
      if (this.names.length === 0) {
        const fetch = yarnFetch(configuration, registryConfig);
        const run = await runCheck(dir, { kind: 'yarn', registryConfig, surface: 'yarn', fetch });
        const review = await reviewBlocked(run, { fetch });
        const form = this.cooldown ? 'cooldown' : this.publisher ? 'publisher' : this.all ? 'scripts' : undefined;
        const entries = form === undefined ? review.entries : review.entries.filter((e) => e.form === form);
        if (this.all) {
          if (entries.length === 0) this.context.stdout.write('nothing to approve\n');
          else this.context.stdout.write(describeReviewed(await approveReviewed(dir, entries, { ...options, registryConfig, fetch })));
          return entries.length === 0 ? review.exitCode : 0;
        }
        this.context.stdout.write(formatReview({ ...review, entries }, 'yarn'));
        if (entries.length === 0) return review.exitCode;
        this.context.stdout.write(`To approve ${entries.length === 1 ? 'it' : 'them'}, pinned to the versions in yarn.lock:\n${reviewCommands(entries, 'yarn').map((c) => `  ${c}`).join('\n')}\nor run \`portcullis approve\` in a terminal to pick.\n`);
        return review.exitCode === 0 ? 1 : review.exitCode;
      }
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
