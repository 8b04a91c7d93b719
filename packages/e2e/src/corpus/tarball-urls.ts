/**
 * Tarballs that are not the registry's own for the package they are installed as (issue 13): a lockfile
 * edited to fetch an allowed package's bytes from another host or from another package's tarball, and a
 * mirror that changes only `dist.tarball` in a packument. The allowed package `url-good` is what every
 * substitute poses as; each substitute's postinstall leaves its own marker.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { integrityOf, markerFileName, markerScript, packTarball, withPostinstall, type FixtureSpec } from '@portcullis/test-registry';
import { run, type Project, type RunResult } from '../project.js';
import type { Driver } from './drivers.js';

/** The package the policy lets build; every edit makes another tarball install under its name. */
export const GOOD = { name: 'url-good', version: '1.0.0' };
/** Another signed package on the same registry, with a postinstall of its own. */
export const EVIL = { name: 'url-evil', version: '1.0.0' };
/** What the foreign host serves: a tarball whose package.json even claims to be url-good@1.0.0. */
export const FOREIGN_MARKER = markerFileName('url-foreign', '1.0.0');

export const tarballUrlPackages: FixtureSpec[] = [withPostinstall(GOOD.name, GOOD.version), withPostinstall(EVIL.name, EVIL.version)];

/** Every marker a substitute leaves: none of them may appear. */
export const substituteMarkers = [markerFileName(EVIL.name, EVIL.version), FOREIGN_MARKER];

/** A plain file server on 127.0.0.1 (not a registry) that serves one tarball at every `.tgz` path. */
export interface ForeignHost {
  url: string;
  integrity: string;
  /** Every path requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startForeignHost(): Promise<ForeignHost> {
  const manifest = { name: GOOD.name, version: GOOD.version, scripts: { postinstall: markerScript('url-foreign', '1.0.0', 'postinstall') } };
  const tarball = packTarball([
    { path: 'package.json', content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), mode: 0o644 },
    { path: 'index.js', content: Buffer.from('module.exports = "foreign";\n'), mode: 0o644 },
  ]);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    if (!(req.url ?? '').split('?')[0]!.endsWith('.tgz')) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
    res.end(tarball);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    integrity: integrityOf(tarball),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A pass-through mirror of the test registry: packuments name the mirror's own tarball URLs (as real mirrors
 * do); `tarballOf` may point one version's `dist.tarball` elsewhere and change nothing else.
 */
export interface TarballMirror {
  url: string;
  /** `name@version` → the `dist.tarball` the mirror serves for it instead. */
  tarballOf: Map<string, string>;
  /** Request path → where the mirror redirects it (302) instead of answering. */
  redirects: Map<string, string>;
  close(): Promise<void>;
}

export async function startTarballMirror(upstream: string): Promise<TarballMirror> {
  const tarballOf = new Map<string, string>();
  const redirects = new Map<string, string>();
  let self = '';
  const server: Server = createServer((req, res) => {
    const location = redirects.get(req.url ?? '/');
    if (location !== undefined) {
      res.writeHead(302, { location });
      res.end();
      return;
    }
    void (async () => {
      const reply = await fetch(`${upstream}${(req.url ?? '/').slice(1)}`, { headers: { accept: req.headers.accept ?? '*/*' } });
      let body = Buffer.from(await reply.arrayBuffer());
      const type = reply.headers.get('content-type') ?? 'application/octet-stream';
      if (reply.status === 200 && type.includes('json')) {
        const doc = JSON.parse(body.toString('utf8').replaceAll(upstream, self)) as { name?: string; versions?: Record<string, { dist?: { tarball?: string } }> };
        for (const [version, entry] of Object.entries(doc.versions ?? {})) {
          const substitute = tarballOf.get(`${doc.name}@${version}`);
          if (substitute !== undefined && entry.dist !== undefined) entry.dist.tarball = substitute;
        }
        body = Buffer.from(JSON.stringify(doc));
      }
      res.writeHead(reply.status, { 'content-type': type });
      res.end(body);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url: self, tarballOf, redirects, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Edits the lockfile so that `GOOD` is fetched from `url` (with `integrity`, the substitute's own, where the
 * lockfile records one), as a pull request would. Yarn: `__archiveUrl` on the resolution and the checksum line
 * dropped (plain Yarn then recomputes it, see `recomputeYarnChecksums`).
 */
export function pointLockfileAt(driver: Driver, project: Project, url: string, integrity: string): void {
  const file = join(project.dir, driver.lockfile);
  const text = readFileSync(file, 'utf8');
  let edited: string;
  if (driver.pm === 'yarn') {
    const resolution = `resolution: "${GOOD.name}@npm:${GOOD.version}"`;
    const at = text.indexOf(resolution);
    if (at === -1) throw new Error(`no ${resolution} in yarn.lock:\n${text}`);
    const end = text.indexOf('\n\n', at);
    const entry = text.slice(at, end === -1 ? undefined : end)
      .replace(resolution, `resolution: "${GOOD.name}@npm:${GOOD.version}::__archiveUrl=${encodeURIComponent(url)}"`)
      .replace(/\n {2}checksum: .*/, '');
    edited = text.slice(0, at) + entry + (end === -1 ? '' : text.slice(end));
  } else if (driver.pm === 'npm') {
    const lock = JSON.parse(text) as { packages: Record<string, Record<string, unknown>> };
    const entry = lock.packages[`node_modules/${GOOD.name}`];
    if (entry === undefined) throw new Error('no node_modules/url-good in package-lock.json');
    entry.resolved = url;
    entry.integrity = integrity;
    edited = `${JSON.stringify(lock, null, 2)}\n`;
  } else {
    const pattern = new RegExp(`(\\n  ${GOOD.name}@${GOOD.version.replaceAll('.', '\\.')}:\\n    resolution: )\\{integrity: [^}]*\\}`);
    if (!pattern.test(text)) throw new Error(`no ${GOOD.name}@${GOOD.version} resolution in pnpm-lock.yaml:\n${text}`);
    edited = text.replace(pattern, `$1{integrity: ${integrity}, tarball: ${url}}`);
  }
  if (edited === text) throw new Error('the lockfile edit changed nothing');
  writeFileSync(file, edited);
}

/** What an attacker does after editing yarn.lock: plain Yarn (no plugin) writes the missing checksums. */
export async function recomputeYarnChecksums(driver: Driver, project: Project): Promise<RunResult> {
  const yarnrc = join(project.dir, '.yarnrc.yml');
  const guarded = readFileSync(yarnrc, 'utf8');
  writeFileSync(yarnrc, guarded.replace(/^plugins:\n(?:[ \t-].*\n)*/m, ''));
  try {
    return await driver.plain(project, ['install', '--mode=update-lockfile', '--no-immutable']);
  } finally {
    writeFileSync(yarnrc, guarded);
  }
}
