import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanPackage, startRegistry, type TestRegistry } from '@portcullis/test-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSettings } from './config.js';
import { createVetter } from './vet.js';

let registry: TestRegistry;
let dir: string;
beforeAll(async () => {
  registry = await startRegistry({ packages: [cleanPackage('good', '1.0.0'), cleanPackage('good', '1.1.0', { signature: 'corrupt' }), cleanPackage('good', '1.2.0', { signature: 'none' })] });
  dir = mkdtempSync(join(tmpdir(), 'portcullis-vet-'));
  writeFileSync(join(dir, 'org.pem'), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  writeFileSync(join(dir, 'portcullis.json'), JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } } }));
});
afterAll(() => registry?.close());

const settings = () => readSettings({ policy: 'portcullis.json', upstream: registry.url, signingKey: { file: 'org.pem' }, cacheDir: 'cache', stateDir: 'state' }, dir, {});
const upstream = async () => (await (await fetch(`${registry.url}good`)).json()) as Record<string, unknown>;
const served = (out: Record<string, unknown>) => Object.keys(out.versions as object);
const removed = (out: Record<string, unknown>) => Object.fromEntries(Object.entries((out['x-portcullis'] as { removed: Record<string, { code: string }> }).removed).map(([v, r]) => [v, r.code]));

describe('createVetter', () => {
  it('serves the verified version, removes a bad and a missing signature, and remembers verdicts per version', async () => {
    const vetter = createVetter(settings());
    const out = await vetter.vet(await upstream());
    expect(served(out)).toEqual(['1.0.0']);
    expect(removed(out)).toEqual({ '1.1.0': 'BAD_SIGNATURE', '1.2.0': 'UNSIGNED' });
    expect(vetter.cache.size).toBe(3);
    // A remembered verdict is the same answer.
    expect(served(await vetter.vet(await upstream()))).toEqual(['1.0.0']);
  });

  it('a version whose integrity changed is judged again (the verdict is per name@version+integrity)', async () => {
    const vetter = createVetter(settings());
    await vetter.vet(await upstream());
    const tampered = await upstream();
    const versions = tampered.versions as Record<string, { dist: { integrity: string } }>;
    versions['1.0.0']!.dist.integrity = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
    const out = await vetter.vet(tampered);
    expect(served(out)).toEqual([]);
    expect(removed(out)['1.0.0']).toBe('BAD_SIGNATURE');
  });

  it('fails closed: an unreadable policy, a hostile document or a broken check serve nothing not yet vetted', async () => {
    const broken = { ...settings(), policy: join(dir, 'missing.json') };
    expect(served(await createVetter(broken).vet(await upstream()))).toEqual([]);
    expect(served(await createVetter(settings()).vet({ name: '../evil', versions: { '1.0.0': {} } }))).toEqual([]);
    expect(served(await createVetter(settings()).vet(null))).toEqual([]);
    // The cooldown needs publish times from the upstream; with the upstream unreachable, nothing passes.
    writeFileSync(join(dir, 'cooldown.json'), JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } }, cooldown: { minimumReleaseAge: '1d' } }));
    const unreachable = { ...settings(), policy: join(dir, 'cooldown.json'), cacheDir: join(dir, 'cold-cache'), stateDir: join(dir, 'cold-state') };
    const out = await createVetter(unreachable, { fetch: () => Promise.reject(new Error('network down')) }).vet(await upstream());
    expect(served(out)).toEqual([]);
    expect(removed(out)['1.0.0']).toBe('METADATA_UNAVAILABLE');
  });

  it('concurrent requests for a package share one check', async () => {
    writeFileSync(join(dir, 'cooldown-1h.json'), JSON.stringify({ registries: { [registry.url]: { keys: registry.keys.keys } }, cooldown: { minimumReleaseAge: '1h' } }));
    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const shared = { ...settings(), policy: join(dir, 'cooldown-1h.json'), cacheDir: join(dir, 'shared-cache'), stateDir: join(dir, 'shared-state') };
    const vetter = createVetter(shared, { fetch: counting });
    const outs = await Promise.all([vetter.vet(await upstream()), vetter.vet(await upstream()), vetter.vet(await upstream())]);
    for (const out of outs) expect(served(out)).toEqual(['1.0.0']);
    // One gate fetched the publish times once; the other two requests waited for its verdicts.
    expect(requests.filter((url) => url.endsWith('/good'))).toHaveLength(1);
  });
});
