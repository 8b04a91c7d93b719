/**
 * Portcullis for Verdaccio 6: one plugin, configured under both `filters:` and `middlewares:` as `portcullis`.
 *
 * - `filter_metadata(manifest)`: every packument Verdaccio serves (and every tarball, which Verdaccio checks against
 *   the filtered packument) holds only the versions the organisation policy passes, each signed by the organisation
 *   key (vet.ts). Never throws: Verdaccio would serve the unfiltered packument.
 * - `register_middlewares(app, auth, storage)`: `GET /-/npm/v1/keys` publishes the organisation's keys (keys.ts);
 *   `GET /-/portcullis/v1/verdicts/<name>` says which versions are served and why the others are not (Verdaccio
 *   strips unknown top-level fields such as `x-portcullis` from the packuments it sends).
 *
 * Settings (config.ts): `policy`, `upstream`, `signingKey: {file | env}`, `retiredKeys`, `cacheDir`, `stateDir`,
 * `verdictCacheSize`, `recheckMinutes`. A configuration that does not validate never throws (Verdaccio would run on
 * without the filter): the instance then serves nothing. See docs/organisation.md.
 */
import { dirname } from 'node:path';
import { PluginConfigError, readSettings, type PluginSettings } from './config.js';
import { rewritePackument } from './packument.js';
import { KEYS_PATH, keysHandler } from './keys.js';
import { createVetter, type Vetter } from './vet.js';

interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
}

interface PluginOptions {
  config?: { configPath?: string; config_path?: string; self_path?: string };
  logger?: Logger;
}

interface Response {
  status(code: number): Response;
  json(body: unknown): void;
}

interface App {
  use(handler: (req: unknown, res: Response) => void): void;
  get(path: string | RegExp, handler: (req: { params: Record<string, string>; [key: string]: unknown }, res: never) => void): void;
}

interface Auth {
  allow_access?(pkg: { packageName: string; packageVersion?: string }, user: unknown, callback: (err: unknown, allowed?: boolean) => void): void;
}

interface Storage {
  getPackage(options: { name: string; uplinksLook: boolean; req: unknown; callback: (err: unknown, manifest?: { versions?: Record<string, unknown> }) => void }): void;
}

export const VERDICTS_PATH = /^\/-\/portcullis\/v1\/verdicts\/(.+)$/;

// Verdaccio makes one instance per section (filters, middlewares); both share one vetter (one verdict cache) per
// configuration, so the verdicts endpoint reports what this process's filter decided.
const vetters = new Map<string, Vetter>();

export default class PortcullisPlugin {
  readonly settings: PluginSettings | undefined;
  readonly #vetter: Vetter | undefined;
  /** Why the configuration was refused; the plugin then refuses every request (see the constructor). */
  readonly #refusal: string | undefined;

  constructor(config: unknown, options: PluginOptions = {}) {
    const configFile = options.config?.configPath ?? options.config?.config_path ?? options.config?.self_path;
    const logger = options.logger;
    try {
      this.settings = readSettings(config, configFile ? dirname(configFile) : process.cwd());
    } catch (error) {
      // Never throw: Verdaccio's loader would log it and run on *without* this filter, serving unvetted packages.
      // Instead this instance serves nothing (503 from the middleware, empty packuments from the filter).
      this.#refusal = error instanceof PluginConfigError ? error.message : 'portcullis (Verdaccio plugin): the configuration could not be read';
      logger?.error({ message: this.#refusal }, '@{message}; serving nothing until it is fixed');
      return;
    }
    const settings = this.settings;
    const id = JSON.stringify([settings.policy, settings.upstream, settings.signer.keyid, settings.cacheDir]);
    let vetter = vetters.get(id);
    if (vetter === undefined) {
      vetter = createVetter(settings, { warn: (message) => logger?.warn({ message }, 'portcullis: @{message}') });
      vetters.set(id, vetter);
      logger?.info({ keyid: settings.signer.keyid }, 'portcullis: signing with @{keyid}');
    }
    this.#vetter = vetter;
  }

  /** Verdaccio's filter hook. */
  filter_metadata(manifest: unknown): Promise<Record<string, unknown>> {
    if (this.#vetter === undefined) return Promise.resolve(rewritePackument(typeof manifest === 'object' && manifest !== null ? (manifest as Record<string, unknown>) : {}, new Map(), ''));
    return this.#vetter.vet(manifest);
  }

  /** Verdaccio's middleware hook (mounted before the npm API routes). */
  register_middlewares(app: App, auth: Auth, storage: Storage): void {
    const settings = this.settings;
    const vetter = this.#vetter;
    if (settings === undefined || vetter === undefined) {
      const refusal = this.#refusal;
      app.use((_req, res) => res.status(503).json({ error: `${refusal}; this registry serves nothing until its configuration is fixed` }));
      return;
    }
    app.get(KEYS_PATH, keysHandler(settings.keys) as never);
    app.get(VERDICTS_PATH, ((req: { params: Record<string, string> }, res: Response) => {
      let name: string;
      try {
        name = decodeURIComponent(req.params[0] ?? '');
      } catch {
        res.status(400).json({ error: 'not a package name' });
        return;
      }
      const refused = () => res.status(404).json({ error: `${name.slice(0, 214)} is not served here` });
      // Through Verdaccio's own read path: the filter runs, as for any client of this instance.
      const report = () => storage.getPackage({
        name,
        uplinksLook: true,
        req,
        callback: (err, manifest) => {
          if (err || !manifest) return refused();
          const latest = vetter.reportFor(name);
          res.status(200).json({ name, served: Object.keys(manifest.versions ?? {}), signedBy: settings.signer.keyid, removed: latest?.removed ?? {} });
        },
      });
      // Only for who may read the package (Verdaccio's `access`); without an answer, nobody.
      if (typeof auth?.allow_access !== 'function') return refused();
      auth.allow_access({ packageName: name }, (req as { remote_user?: unknown }).remote_user, (denied, allowed) => {
        if (denied || allowed !== true) return refused();
        report();
      });
    }) as never);
  }
}
