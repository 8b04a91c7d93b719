import { lookup as systemLookup, type LookupOptions } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFetch, registryFetch, sharedLookup } from './connections.js';

type Callback = (error: NodeJS.ErrnoException | null, address: unknown, family?: number) => void;

/** A lookup that answers only when told to, recording what it was asked. */
function heldLookup() {
  const asked: Array<{ hostname: string; options: LookupOptions; answer: Callback }> = [];
  const lookup = (hostname: string, options: LookupOptions, answer: Callback) => void asked.push({ hostname, options, answer });
  return { asked, lookup: lookup as never };
}

/** The system's lookup, recording each host it is asked about. */
function countingLookup() {
  const asked: string[] = [];
  const counting = ((hostname: string, options: LookupOptions, callback: Callback) => {
    asked.push(hostname);
    systemLookup(hostname, options as never, callback as never);
  }) as never;
  return { asked, counting };
}

/** Calls `shared` and resolves with what it called back. */
const ask = (shared: ReturnType<typeof sharedLookup>, hostname: string, options: LookupOptions | number) =>
  new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family: number | undefined }>((resolve) => shared(hostname, options, (error, address, family) => resolve({ error, address, family })));

describe('sharedLookup', () => {
  it('asks once for every connection that asks about the same host at the same time, and answers them all', async () => {
    const { asked, lookup } = heldLookup();
    const shared = sharedLookup(lookup);
    const answers = Array.from({ length: 50 }, () => ask(shared, 'registry.example', { all: true }));
    expect(asked).toHaveLength(1);
    asked[0]!.answer(null, [{ address: '192.0.2.7', family: 4 }]);
    for (const answer of await Promise.all(answers)) expect(answer).toEqual({ error: null, address: [{ address: '192.0.2.7', family: 4 }], family: undefined });
  });

  it('keeps hosts and lookup options apart', async () => {
    const { asked, lookup } = heldLookup();
    const shared = sharedLookup(lookup);
    const one = ask(shared, 'a.example', { all: true });
    const single = ask(shared, 'a.example', {});
    const v6 = ask(shared, 'a.example', 6);
    const other = ask(shared, 'b.example', { all: true });
    expect(asked.map((a) => [a.hostname, a.options])).toEqual([
      ['a.example', { all: true }],
      ['a.example', {}],
      ['a.example', { family: 6 }],
      ['b.example', { all: true }],
    ]);
    asked[0]!.answer(null, [{ address: '192.0.2.1', family: 4 }]);
    asked[1]!.answer(null, '192.0.2.1', 4);
    asked[2]!.answer(null, '2001:db8::1', 6);
    asked[3]!.answer(null, [{ address: '192.0.2.2', family: 4 }]);
    expect((await one).address).toEqual([{ address: '192.0.2.1', family: 4 }]);
    expect(await single).toEqual({ error: null, address: '192.0.2.1', family: 4 });
    expect(await v6).toEqual({ error: null, address: '2001:db8::1', family: 6 });
    expect((await other).address).toEqual([{ address: '192.0.2.2', family: 4 }]);
  });

  it('reuses an answer for the time given, then asks again', async () => {
    const { asked, lookup } = heldLookup();
    let now = 1_000;
    const shared = sharedLookup(lookup, 60_000, () => now);
    const first = ask(shared, 'registry.example', {});
    asked[0]!.answer(null, '192.0.2.7', 4);
    await first;
    now += 59_999;
    expect(await ask(shared, 'registry.example', {})).toEqual({ error: null, address: '192.0.2.7', family: 4 });
    expect(asked).toHaveLength(1);
    now += 1;
    const later = ask(shared, 'registry.example', {});
    expect(asked).toHaveLength(2);
    asked[1]!.answer(null, '192.0.2.8', 4);
    expect((await later).address).toBe('192.0.2.8');
  });

  it('hands a failure to everyone who waited for it and keeps nothing: the next connection asks again', async () => {
    const { asked, lookup } = heldLookup();
    const shared = sharedLookup(lookup);
    const waiting = [ask(shared, 'registry.example', {}), ask(shared, 'registry.example', {})];
    const failure = Object.assign(new Error('getaddrinfo EAI_AGAIN registry.example'), { code: 'EAI_AGAIN' });
    asked[0]!.answer(failure, '');
    for (const answer of await Promise.all(waiting)) expect(answer.error).toBe(failure);
    const again = ask(shared, 'registry.example', {});
    expect(asked).toHaveLength(2);
    asked[1]!.answer(null, '192.0.2.7', 4);
    expect((await again).address).toBe('192.0.2.7');
  });
});

describe('registryFetch', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('{"ok":true}'));
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    url = `http://localhost:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Node's own default pool, as Node makes it when it loads undici (the first fetch, or the first Headers). */
  const nodeDefaultPool = (): unknown => {
    void globalThis.Headers;
    return (globalThis as Record<symbol, unknown>)[Symbol.for('undici.globalDispatcher.1')];
  };

  it("with no pool set before its first request, routes Node's fetch through one pool whose connections share one lookup of the host", async () => {
    const { asked, counting } = countingLookup();
    // Empty before the first request; Node's default pool once undici is loaded.
    const seen = [undefined, nodeDefaultPool()];
    const fetchWith = registryFetch({ lookup: counting, pool: () => seen.shift() });
    // 20 requests at once: Node's pool opens a connection for each (each asking for the address without this pool).
    const bodies = await Promise.all(Array.from({ length: 20 }, () => fetchWith(url).then((res) => res.text())));
    expect(bodies.every((b) => b === '{"ok":true}')).toBe(true);
    expect(asked).toEqual(['localhost']);
  });

  it('leaves a pool set before its first request alone (it may carry certificates), even a plain Agent', async () => {
    const { asked, counting } = countingLookup();
    const pool = nodeDefaultPool();
    const seen: Array<RequestInit | undefined> = [];
    const fetchWith = registryFetch({ lookup: counting, pool: () => pool, fetch: () => ((input: string, init?: RequestInit) => (seen.push(init), fetch(input, init))) as typeof fetch });
    const init = { headers: { accept: 'application/json' } };
    expect(await (await fetchWith(url, init)).text()).toBe('{"ok":true}');
    expect(seen[0]).toBe(init);
    expect(asked).toEqual([]);
  });

  it('leaves a proxy agent alone when that is the pool Node has, and hands `fetch` the request untouched', async () => {
    class ProxyAgent {
      dispatch() {
        return true;
      }
    }
    const seen: Array<RequestInit | undefined> = [];
    const pools = [undefined, new ProxyAgent()];
    const fetchWith = registryFetch({ pool: () => pools.shift(), fetch: () => (async (_input: unknown, init?: RequestInit) => (seen.push(init), new Response('x'))) as typeof fetch });
    const init = { headers: { accept: 'application/json' } };
    await fetchWith('https://registry.example/x', init);
    expect(seen).toEqual([init]);
    expect(seen[0]).toBe(init);
  });

  it('registry clients given no fetch share one per process', () => {
    expect(defaultFetch()).toBe(defaultFetch());
    expect(defaultFetch()).not.toBe(globalThis.fetch);
  });
});
