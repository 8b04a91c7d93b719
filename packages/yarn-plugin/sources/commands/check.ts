/** `yarn portcullis check`: `portcullis check` for this project, through Yarn's registry settings. */
import { appendFileSync } from 'node:fs';
import { formatGithubCommands, formatGithubSummary, formatJson, formatSarif, formatText, PortcullisError, runCheck } from '@portcullis/core';
import { BaseCommand } from '@yarnpkg/cli';
import { Configuration, Project } from '@yarnpkg/core';
import { Command, Option, UsageError } from 'clipanion';
import { projectDir } from '../packages.js';
import { yarnFetch, yarnRegistryConfig } from '../registry.js';

const FORMATS = ['text', 'json', 'sarif', 'github'];

export default class PortcullisCheckCommand extends BaseCommand {
  static override paths = [['portcullis', 'check']];
  static override usage = Command.Usage({
    category: 'Portcullis commands',
    description: 'check yarn.lock against portcullis.json',
    details: 'Verifies registry signatures and install-script permissions of every package in yarn.lock, like `portcullis check`. Exit codes: 0 allowed, 1 violations, 2 usage or configuration error, 3 could not decide.',
    examples: [['Check the project', 'yarn portcullis check'], ['As JSON', 'yarn portcullis check --format json']],
  });

  format = Option.String('--format', 'text', { description: 'text, json, sarif or github (workflow-command annotations and a job summary in $GITHUB_STEP_SUMMARY)' });
  offline = Option.Boolean('--offline', false, { description: 'Use only cached registry metadata' });
  refreshKeys = Option.Boolean('--refresh-keys', false, { description: "Add keys the configured registries publish at /-/npm/v1/keys" });

  async execute(): Promise<number> {
    if (!FORMATS.includes(this.format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${this.format}"`);
    const configuration = await Configuration.find(this.context.cwd, this.context.plugins);
    const { project } = await Project.find(configuration, this.context.cwd);
    const dir = projectDir(project.cwd);
    try {
      // The registries exactly as Yarn reads them for this folder, for judging and for fetching alike.
      const registryConfig = yarnRegistryConfig(configuration);
      const { result, locations } = await runCheck(dir, {
        kind: 'yarn',
        registryConfig,
        surface: 'yarn',
        offline: this.offline,
        refreshKeys: this.refreshKeys,
        fetch: yarnFetch(configuration, registryConfig),
      });
      if (this.format === 'json') this.context.stdout.write(formatJson(result));
      else if (this.format === 'sarif') this.context.stdout.write(formatSarif(result, { rootDir: dir, toolVersion: 'yarn-plugin', locations }));
      else if (this.format === 'github') {
        const options = { rootDir: process.env.GITHUB_WORKSPACE || this.context.cwd, locations };
        this.context.stdout.write(formatGithubCommands(result, options));
        if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, formatGithubSummary(result, options));
      }
      else this.context.stdout.write(formatText(result, { color: configuration.get('enableColors') === true }));
      return result.exitCode;
    } catch (error) {
      if (!(error instanceof PortcullisError)) throw error;
      this.context.stderr.write(`portcullis: ${error.message}\n`);
      return error.exitCode;
    }
  }
}
