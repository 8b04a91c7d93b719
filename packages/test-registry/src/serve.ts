/**
 * Standalone registry process: `node dist/serve.js [--port N] [--fixtures <set>] [--token T]
 * [--strip-signatures] [--strip-attestations]`. Prints one JSON line `{"url", "pid"}` on stdout, then serves until
 * SIGTERM or SIGINT.
 */
import { parseArgs } from 'node:util';
import { startRegistry } from './server.js';
import { fixtureSets } from './sets.js';

/** Parses the command line, starts the registry, and announces where it listens. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      fixtures: { type: 'string', default: 'demo' },
      token: { type: 'string' },
      'strip-signatures': { type: 'boolean', default: false },
      'strip-attestations': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const packages = fixtureSets[values.fixtures];
  if (!packages) throw new Error(`unknown fixture set "${values.fixtures}"; known: ${Object.keys(fixtureSets).join(', ')}`);
  const registry = await startRegistry({ packages, port, token: values.token, stripSignatures: values['strip-signatures'], stripAttestations: values['strip-attestations'] });
  process.stdout.write(`${JSON.stringify({ url: registry.url, pid: process.pid })}\n`);
  const stop = () => {
    registry.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`portcullis-test-registry: ${(error as Error).message}\n`);
  process.exit(2);
});
