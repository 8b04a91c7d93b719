/** `portcullis init yarn`: install the Yarn plugin into the project and register it as `yarn plugin import` would. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { builtDependencies, findPolicyFile, POLICY_FILE, PortcullisError, registerYarnPlugin, starterPolicyText, writeFileAtomic } from '@portcullis/core';
import { embeddedText } from '../embedded-texts.js';

/** Where Yarn keeps imported plugins; the name is the one the bundle declares. */
const PLUGIN_PATH = '.yarn/plugins/@yarnpkg/plugin-portcullis.cjs';

/** Yarn's part of the gate: the plugin in .yarn/plugins, registered in .yarnrc.yml (files rewritten only when they differ). */
export function enforceYarn(dir: string): { changed: boolean; line: string } {
  if (!existsSync(join(dir, 'package.json'))) throw new PortcullisError('USAGE', `${dir} has no package.json; run init yarn in the project root (or pass --dir)`);
  // The plugin bundle, carried by the CLI's file (build.mjs) so the CLI stays one self-contained file.
  const plugin = embeddedText('yarn-plugin');
  if (plugin === undefined || plugin === '') throw new PortcullisError('USAGE', 'this build of portcullis does not include the Yarn plugin');
  const pluginFile = join(dir, PLUGIN_PATH);
  const pluginBefore = existsSync(pluginFile) ? readFileSync(pluginFile, 'utf8') : undefined;
  if (pluginBefore !== plugin) {
    mkdirSync(dirname(pluginFile), { recursive: true });
    writeFileAtomic(pluginFile, plugin);
  }
  const yarnrc = join(dir, '.yarnrc.yml');
  const before = existsSync(yarnrc) ? readFileSync(yarnrc, 'utf8') : '';
  const checksum = createHash('sha512').update(plugin).digest('hex');
  const after = registerYarnPlugin(before, { checksum, path: PLUGIN_PATH, spec: PLUGIN_PATH }, yarnrc);
  if (after !== before) writeFileAtomic(yarnrc, after);
  const changed = pluginBefore !== plugin || after !== before;
  return { changed, line: `${changed ? 'wrote' : 'unchanged'} ${PLUGIN_PATH}, registered in .yarnrc.yml` };
}

/** The one step after setting Yarn up. */
export const YARN_NEXT_STEP = 'run `yarn install`, then commit .yarn/plugins, .yarnrc.yml and portcullis.json';

export async function initYarn(dir: string): Promise<number> {
  const manifestFile = join(dir, 'package.json');
  enforceYarn(dir);
  process.stdout.write(`wrote ${PLUGIN_PATH} and registered it in .yarnrc.yml\n`);

  if (findPolicyFile(dir, process.env) === null) {
    const { allow, skipped } = builtDependencies(readFileSync(manifestFile, 'utf8'), manifestFile);
    writeFileAtomic(join(dir, POLICY_FILE), starterPolicyText(allow));
    process.stdout.write(`wrote ${POLICY_FILE}${allow.length > 0 ? ` allowing the builds package.json already allowed: ${allow.join(', ')}` : ''}\n`);
    for (const key of skipped) process.stdout.write(`not imported: dependenciesMeta["${key}"] is not a package name or name@version\n`);
  }
  process.stdout.write('commit .yarn/plugins, .yarnrc.yml and portcullis.json; every yarn install now obeys portcullis.json\n');
  return 0;
}
