/**
 * Trust beyond signatures in the demo: a validly signed version without the provenance its release line had (the
 * shape of a hijacked-token publish) refused through npm, pnpm and Yarn alike, and `portcullis explain` saying why.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testTrustedRoot } from '@portcullis/test-registry';
import { createProject, enforceWithYarnPlugin, portcullis, portcullisNpm, run, type PackageManagerName, type Project } from '../project.js';
import { npm, pnpm, yarn } from '../toolbox.js';
import { scriptsThatRan, type DemoContext } from './context.js';

function trustProject(ctx: DemoContext, pm: PackageManagerName, version: string): Project {
  const policy = { ...(ctx.policy as Record<string, unknown>), scripts: { allow: ['acme-widget'] }, provenance: { trustedRoot: './sigstore-root.json' } };
  const project = createProject(pm, ctx.registry.url, { 'acme-widget': version }, { policy });
  writeFileSync(join(project.dir, 'sigstore-root.json'), JSON.stringify(testTrustedRoot()));
  return project;
}

export async function demoTrust(ctx: DemoContext): Promise<void> {
  ctx.say('provenance: acme-widget 1.0.0 and 1.1.0 were built by github.com/acme/widget (Sigstore); 1.2.0 is validly signed but has no provenance — a stolen token publishing from a laptop looks like this');
  const viaNpm = trustProject(ctx, 'npm', '1.2.0');
  ctx.say(`npm ${npm(11).version}: portcullis-npm install acme-widget@1.2.0`);
  ctx.show(await portcullisNpm(npm(11), viaNpm, ['install']));

  const viaPnpm = trustProject(ctx, 'pnpm', '1.2.0');
  await portcullis(viaPnpm, ['init', 'pnpm']);
  ctx.say(`pnpm ${pnpm(12).version}: the same dependency`);
  const tool = pnpm(12);
  const pnpmRun = await run(tool.command, [...tool.args, 'install', `--store-dir=${join(viaPnpm.home, 'pnpm-store')}`, `--cache-dir=${join(viaPnpm.home, 'pnpm-cache')}`], { cwd: viaPnpm.dir, env: viaPnpm.env });
  ctx.show({ ...pnpmRun, stdout: pnpmRun.stdout.split('\n').filter((l) => /portcullis|PROVENANCE|ERR_PNPM/.test(l)).join('\n') });

  const viaYarn = trustProject(ctx, 'yarn', '1.2.0');
  await enforceWithYarnPlugin(viaYarn);
  ctx.say(`Yarn ${yarn('latest').version}: the same dependency`);
  const y = yarn('latest');
  ctx.show(await run(y.command, [...y.args, 'install', '--no-immutable'], { cwd: viaYarn.dir, env: viaYarn.env }));
  ctx.say(`install scripts that ran: ${[viaNpm, viaPnpm, viaYarn].flatMap(scriptsThatRan).join(', ') || 'none'}`);

  ctx.say('acme-widget@1.1.0, from its own repository, installs; `portcullis explain` shows who built it');
  const good = trustProject(ctx, 'npm', '1.1.0');
  ctx.show(await portcullisNpm(npm(11), good, ['install']));
  ctx.show(await portcullis(good, ['explain', 'acme-widget']));
}
