/**
 * The packuments Yarn fetches while it resolves, handed to the gate instead of being fetched a second time.
 *
 * Yarn keeps only a few fields of each packument (no integrity, no signatures, no publish times), so the gate needs the
 * registry's document itself. Yarn's HTTP client keeps the whole body of every response it received as `rawBody`, and
 * Yarn's metadata wrapper passes that response on (with its pruned `body`) to the plugins' `wrapNetworkRequest`: the
 * bytes the registry sent for exactly the URL the gate's client would ask for, through the same HTTP stack (its
 * credentials, proxies, TLS settings and retries). What they say is checked as any fetched document is: parsed with the
 * same limits, signatures verified.
 *
 * Only a prefetch waits for Yarn: `expect` is called for a package Yarn is about to resolve from the same URL, once the
 * gate is open, and the gate's request for that URL then waits for Yarn's response to it. When Yarn's answer is not a
 * 200 with a body (a 304 against its own metadata cache, an error) or the resolution ends before Yarn asked, the gate
 * fetches the document itself, as before. Nothing is kept past the end of the resolution, and an answer is handed
 * over once.
 *
 * Yarn asks for the full document. When the gate wants only the abbreviated one, a full document over
 * `ABBREVIATED_INSTEAD_BYTES` is left (the gate fetches the abbreviated one): parsing it again would cost more than
 * the request it saves (JSON.parse here: ~4 ms per MiB; typescript's full document is ~10 MiB).
 */
import type { Configuration, httpUtils } from '@yarnpkg/core';

/** Above this size, Yarn's full document is not used for an abbreviated one. */
export const ABBREVIATED_INSTEAD_BYTES = 1024 * 1024;

interface Expected {
  /** Yarn's body for the URL, or undefined: fetch it yourself. */
  readonly body: Promise<Buffer | undefined>;
  settle(body: Buffer | undefined): void;
  settled: boolean;
  /** The gate has asked for it: it is forgotten once settled. */
  taken: boolean;
}

/** One project's resolutions (keyed by its Configuration, which Yarn's requests carry). */
export class ResolutionPackuments {
  #resolving = 0;
  readonly #expected = new Map<string, Expected>();

  /** A resolution starts. */
  begin(): void {
    this.#resolving++;
  }

  /** It ended: whatever still waits for Yarn fetches for itself, and nothing is kept. */
  end(): void {
    this.#resolving = Math.max(0, this.#resolving - 1);
    if (this.#resolving > 0) return;
    for (const expected of this.#expected.values()) expected.settle(undefined);
    this.#expected.clear();
  }

  /** Yarn is about to ask for `url` (its own request URL) in this resolution, and the gate will too: its request waits for Yarn's answer. */
  expect(url: string): void {
    if (this.#resolving === 0 || this.#expected.has(url)) return;
    let settle!: (body: Buffer | undefined) => void;
    const body = new Promise<Buffer | undefined>((resolve) => (settle = resolve));
    const expected: Expected = {
      body,
      settled: false,
      taken: false,
      settle: (value) => {
        if (expected.settled) return;
        expected.settled = true;
        if (expected.taken && this.#expected.get(url) === expected) this.#expected.delete(url);
        settle(value);
      },
    };
    this.#expected.set(url, expected);
  }

  /**
   * The gate's request for `url` (`full`: the full document, else the abbreviated one): Yarn's body for it once Yarn
   * has answered, or undefined: fetch it yourself. Handed over once.
   */
  async take(url: string, full: boolean): Promise<Buffer | undefined> {
    const expected = this.#expected.get(url);
    if (expected === undefined || expected.taken) return undefined;
    expected.taken = true;
    if (expected.settled) this.#expected.delete(url);
    const body = await expected.body;
    return body !== undefined && (full || body.byteLength <= ABBREVIATED_INSTEAD_BYTES) ? body : undefined;
  }

  /** A request Yarn is about to make: when it is one expected, its answer is kept for the gate. */
  observe<T>(url: string, method: string | undefined, executor: () => Promise<T>): () => Promise<T> {
    const expected = method === undefined || method === 'GET' ? this.#expected.get(url) : undefined;
    if (expected === undefined || expected.settled) return executor;
    return async () => {
      let response: T;
      try {
        response = await executor();
      } catch (error) {
        expected.settle(undefined);
        throw error;
      }
      const { statusCode, rawBody } = response as { statusCode?: unknown; rawBody?: unknown };
      expected.settle(statusCode === 200 && Buffer.isBuffer(rawBody) ? rawBody : undefined);
      return response;
    };
  }
}

const byConfiguration = ((globalThis as Record<symbol, unknown>)[Symbol.for('portcullis.yarn-plugin.packuments.v1')] ??= new WeakMap()) as WeakMap<
  Configuration,
  ResolutionPackuments
>;

/** The resolutions of the project with this configuration (one object per configuration, shared by every copy of the plugin). */
export function resolutionPackuments(configuration: Configuration): ResolutionPackuments {
  let packuments = byConfiguration.get(configuration);
  if (packuments === undefined) byConfiguration.set(configuration, (packuments = new ResolutionPackuments()));
  return packuments;
}

/** wrapNetworkRequest: Yarn's answer to a request the gate expects is kept for it. */
export async function keepForGate(executor: () => Promise<httpUtils.Response>, extra: { target: string | URL; method?: string; configuration: Configuration }): Promise<() => Promise<httpUtils.Response>> {
  return resolutionPackuments(extra.configuration).observe(String(extra.target), extra.method, executor);
}
