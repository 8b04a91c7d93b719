/**
 * How the registry client's connections find their host.
 *
 * Node's `fetch` asks the system resolver for the host's address once per new connection, and a cold decision opens up
 * to 50 at once (the client's concurrency). Measured on this project's machines against the npm registry: 50 lookups
 * started together waited 5 and 10 s (a resolver that drops a burst, and the C library's 5 s retry), where 16 took
 * 7 ms; a cold `portcullis check` of vitejs/vite's lockfile took 10.5 s, 7 of them waiting on a dozen such lookups.
 * npm's own HTTP agent remembers lookups, so npm never waited there and Portcullis did.
 *
 * So the registry client's requests go through one connection pool per process whose lookups are shared: one question
 * to the resolver per host (and lookup options) at a time, its answer reused for a minute. Nothing about trust
 * changes: the address only says where to connect, and TLS still checks the host's certificate by its name.
 *
 * Only where the request would otherwise have gone through Node's own default pool, untouched: when nothing had set a
 * pool for `fetch` before the client's first request (measured: the CLI, `portcullis-npm`, pnpm 12's hook workers and
 * pnpm 10's process). A pool set before (pnpm 11 sets its own; a proxy agent; `NODE_USE_ENV_PROXY`; a user's preload)
 * is used as it is, and a `fetch` given to the client (the Yarn plugin's, through Yarn's HTTP stack) is not touched.
 */
import { lookup as systemLookup, type LookupAddress, type LookupOptions } from 'node:dns';

/** What `dns.lookup` calls back with: one address and its family, or every address with `all`. */
type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** How long an answer is reused. */
export const LOOKUP_REUSE_MS = 60_000;
/** Hosts remembered at most (a process talks to a handful of registries). */
const MAX_HOSTS = 256;

interface Answer {
  address: string | LookupAddress[];
  family: number | undefined;
}

/**
 * A `dns.lookup` for sockets (`net.connect`'s `lookup` option) that asks `lookup` once for concurrent questions about
 * the same host with the same options, and reuses a successful answer for `reuseMs`. A failure is handed to everyone
 * who waited for it and is not kept: the next connection asks again.
 */
export function sharedLookup(lookup: Lookup = systemLookup as unknown as Lookup, reuseMs: number = LOOKUP_REUSE_MS, now: () => number = Date.now) {
  const answers = new Map<string, { answer: Answer; at: number }>();
  const waiting = new Map<string, LookupCallback[]>();
  return function (hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    const opts: LookupOptions = typeof options === 'number' ? { family: options } : { ...options };
    const done = callback!;
    const key = JSON.stringify([hostname, opts.family ?? 0, opts.all === true, opts.hints ?? 0, opts.verbatim ?? null, (opts as { order?: unknown }).order ?? null]);
    const kept = answers.get(key);
    if (kept !== undefined && now() - kept.at < reuseMs) {
      process.nextTick(done, null, kept.answer.address, kept.answer.family);
      return;
    }
    const queue = waiting.get(key);
    if (queue !== undefined) {
      queue.push(done);
      return;
    }
    waiting.set(key, [done]);
    lookup(hostname, opts, (error, address, family) => {
      const callbacks = waiting.get(key) ?? [];
      waiting.delete(key);
      if (error === null) {
        if (answers.size >= MAX_HOSTS) answers.clear();
        answers.set(key, { answer: { address, family }, at: now() });
      } else answers.delete(key);
      for (const cb of callbacks) {
        if (error !== null) cb(error, '', undefined);
        else cb(null, address, family);
      }
    });
  };
}

/** The slot where undici (Node's fetch) keeps the pool every fetch uses unless told otherwise. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  dispatch: (...args: unknown[]) => unknown;
}

/** The pool Node's fetch uses unless told otherwise (undefined until something set it, or Node loaded undici). */
const globalPool = (): unknown => (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];

/** A pool like `current`, Node's default one, whose connections use `lookup`; undefined when `current` is not a plain `Agent`. */
function pooledWith(current: unknown, lookup: ReturnType<typeof sharedLookup>): Dispatcher | undefined {
  if (typeof current !== 'object' || current === null || typeof (current as Partial<Dispatcher>).dispatch !== 'function') return undefined;
  // Node's default pool is a plain Agent; a ProxyAgent or EnvHttpProxyAgent (Node's NODE_USE_ENV_PROXY), or a pool of
  // another kind, carries settings a new Agent would lose.
  const Agent = (current as { constructor?: unknown }).constructor as (new (options: object) => Dispatcher) | undefined;
  if (typeof Agent !== 'function' || Agent.name !== 'Agent') return undefined;
  try {
    const pool = new Agent({ connect: { lookup } });
    return typeof pool.dispatch === 'function' ? pool : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `fetch` (the global one, looked up at each call) over a pool whose lookups are shared (`sharedLookup`), made at the
 * first request when no pool had been set for `fetch` yet (`pool`: where that is read, for tests); else, and where that
 * pool cannot be made, the same `fetch` as before, untouched.
 */
export function registryFetch(options: { fetch?: () => typeof fetch; lookup?: Lookup; pool?: () => unknown } = {}): typeof fetch {
  const base = options.fetch ?? (() => globalThis.fetch);
  const current = options.pool ?? globalPool;
  let pool: Dispatcher | null | undefined;
  return ((input: string | URL | Request, init?: RequestInit) => {
    if (pool === undefined) {
      // A pool already there may carry settings (certificates, a proxy) a new one would lose: it is used as it is.
      if (current() !== undefined) pool = null;
      else {
        // Node loads undici, which makes its default pool, the first time one of its classes is used.
        void globalThis.Headers;
        pool = pooledWith(current(), sharedLookup(options.lookup)) ?? null;
      }
    }
    return base()(input, pool === null ? init : ({ ...init, dispatcher: pool } as RequestInit));
  }) as typeof fetch;
}

/** The `fetch` of this process's registry clients that are given none: one pool for all of them. */
let processFetch: typeof fetch | undefined;

/** The `fetch` a registry client given none uses (`registryFetch`, one per process). */
export function defaultFetch(): typeof fetch {
  return (processFetch ??= registryFetch());
}
