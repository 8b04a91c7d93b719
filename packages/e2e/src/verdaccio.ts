/**
 * A real Verdaccio 6 for tests and benchmarks: started from its own bin on 127.0.0.1 with storage in a folder the
 * caller gives, one uplink (the test registry) and, optionally, the Portcullis plugin pair (packages/verdaccio).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder Verdaccio's `plugins:` setting names: it holds `verdaccio-portcullis/` after `pnpm build`. */
export const pluginDir = (): string => fileURLToPath(new URL('../../verdaccio/dist/', import.meta.url));
const verdaccioBin = (): string => join(dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')), 'bin', 'verdaccio');

export interface VerdaccioOptions {
  /** Where this instance's config lives (and its logs): one folder per instance. */
  dir: string;
  /** Shared by instances that stand behind one load balancer. */
  storage: string;
  uplink: string;
  /** The `portcullis` block under `filters:` and `middlewares:`; none: Verdaccio without the plugin. */
  plugin?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Paths for callers outside packages/e2e (the benchmarks bundle this file elsewhere). */
  bin?: string;
  plugins?: string;
}

export interface Verdaccio {
  url: string;
  /** Everything Verdaccio printed (warnings of the plugin included). */
  log(): string;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function yamlValue(value: unknown, indent: string): string {
  // JSON is YAML: every value is written as JSON, keys one level deep as YAML.
  return `${indent}${JSON.stringify(value)}`;
}

/** Starts Verdaccio and waits until it answers. */
export async function startVerdaccio(options: VerdaccioOptions): Promise<Verdaccio> {
  mkdirSync(options.dir, { recursive: true });
  mkdirSync(options.storage, { recursive: true });
  const port = await freePort();
  const lines = [
    `storage: ${JSON.stringify(options.storage)}`,
    `plugins: ${JSON.stringify(options.plugins ?? pluginDir())}`,
    'web:',
    '  enable: false',
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(options.dir, 'htpasswd'))}`,
    '    max_users: -1',
    'uplinks:',
    '  upstream:',
    `    url: ${JSON.stringify(options.uplink)}`,
    '    timeout: 10s',
    '    max_fails: 1000',
    '    fail_timeout: 1s',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    proxy: upstream',
    'log:',
    '  type: stdout',
    '  format: json',
    '  level: warn',
  ];
  if (options.plugin) {
    for (const section of ['filters', 'middlewares']) lines.push(`${section}:`, `  portcullis: ${yamlValue(options.plugin, '').trim()}`);
  }
  const config = join(options.dir, 'config.yaml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const url = `http://127.0.0.1:${port}/`;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [options.bin ?? verdaccioBin(), '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: options.dir,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Verdaccio exited (${child.exitCode}):\n${output}`);
    try {
      // Any answer means it listens (a refused plugin configuration answers 503 to everything, /-/ping included).
      await fetch(`${url}-/ping`);
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`Verdaccio did not start in 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => output,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
