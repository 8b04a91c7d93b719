/**
 * The demo: a local signing registry, and real installs through npm, pnpm and Yarn showing what
 * Portcullis blocks and why. Run with `npm run demo` from the repository root.
 */
import { demo, provenanceSet, startRegistry } from '@portcullis/test-registry';
import { demoPolicy, type DemoContext } from './demo/context.js';
import { demoNpm } from './demo/npm.js';
import { demoPnpm } from './demo/pnpm.js';
import { demoTrust } from './demo/trust.js';
import { demoYarn } from './demo/yarn.js';

const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);

async function main(): Promise<number> {
  const registry = await startRegistry({ packages: [...demo, ...provenanceSet] });
  const ctx: DemoContext = {
    registry,
    policy: demoPolicy(registry),
    say: (text) => process.stdout.write(`\n${bold(`▶ ${text}`)}\n`),
    show: (result) => {
      const out = `${result.stdout}${result.stderr}`.trimEnd();
      process.stdout.write(`${out.split('\n').map((l) => `    ${l}`).join('\n')}\n    (exit ${result.code})\n`);
    },
  };
  process.stdout.write(`Portcullis demo — test registry at ${registry.url}\n`);
  process.stdout.write(`Packages: ${demo.map((p) => `${p.name}@${p.version}`).join(', ')}\n`);
  process.stdout.write(`Policy (portcullis.json): ${JSON.stringify({ ...ctx.policy, registries: { [registry.url]: { keys: '[test registry keys]' } } })}\n`);
  try {
    await demoNpm(ctx);
    await demoPnpm(ctx);
    await demoYarn(ctx);
    await demoTrust(ctx);
  } finally {
    await registry.close();
  }
  process.stdout.write('\nDemo finished.\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
