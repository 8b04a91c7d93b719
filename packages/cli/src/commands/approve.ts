/**
 * `portcullis approve <name…>`: pin the named packages' install scripts into scripts.allow.
 * `portcullis approve --publisher <name…>`: pin who builds them (provenance.publishers), from their verified provenance.
 * `portcullis approve --cooldown <name…>`: a time-boxed cooldown exception for the versions in the lockfile.
 */
import { parseArgs } from 'node:util';
import { approveCooldown, approvePublishers, approveScripts, describeApproval, describeCooldownApproval, describePublisherApproval, PortcullisError } from '@portcullis/core';
import { projectDir } from './options.js';

export async function approveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { dir: { type: 'string' }, publisher: { type: 'boolean', default: false }, cooldown: { type: 'boolean', default: false }, offline: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  if (positionals.length === 0) {
    throw new PortcullisError('USAGE', 'approve needs package names, e.g. `portcullis approve esbuild sharp@0.34.5` or `portcullis approve --publisher sigstore`');
  }
  if (values.publisher && values.cooldown) throw new PortcullisError('USAGE', 'approve takes --publisher or --cooldown, not both');
  if (values.cooldown) {
    process.stdout.write(describeCooldownApproval(await approveCooldown(projectDir(values.dir), positionals)));
    return 0;
  }
  if (values.publisher) {
    process.stdout.write(describePublisherApproval(await approvePublishers(projectDir(values.dir), positionals, { offline: values.offline })));
    return 0;
  }
  process.stdout.write(describeApproval(await approveScripts(projectDir(values.dir), positionals)));
  return 0;
}
