import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import PortcullisPlugin, { VERDICTS_PATH } from './index.js';
import { KEYS_PATH } from './keys.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-plugin-'));
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
writeFileSync(join(dir, 'org.pem'), pem);
writeFileSync(join(dir, 'portcullis.json'), '{}');
const options = { config: { configPath: join(dir, 'config.yaml') }, logger: { error: () => undefined, warn: () => undefined, info: () => undefined } };
const good = { policy: 'portcullis.json', upstream: 'http://127.0.0.1:4873/', signingKey: { file: 'org.pem' } };

type Handler = (req: unknown, res: FakeResponse) => void;
class FakeResponse {
  code = 0;
  body: unknown;
  status(code: number) {
    this.code = code;
    return this;
  }
  json(body: unknown) {
    this.body = body;
  }
  setHeader() {}
  end(body: string) {
    this.body = JSON.parse(body);
  }
}

function mount(plugin: PortcullisPlugin, auth: unknown, storage: unknown = { getPackage: (o: { callback: (e: unknown, m: unknown) => void }) => o.callback(null, { versions: { '1.0.0': {} } }) }) {
  const routes: Array<[string | RegExp, Handler]> = [];
  const uses: Handler[] = [];
  plugin.register_middlewares({ get: (path: string | RegExp, h: never) => routes.push([path, h]), use: (h: never) => uses.push(h) } as never, auth as never, storage as never);
  return { routes, uses };
}

describe('PortcullisPlugin', () => {
  it('a refused configuration never throws: every request is answered 503, and the filter serves no version', async () => {
    const plugin = new PortcullisPlugin({ ...good, signingKey: { env: 'NOPE' } }, options);
    const { routes, uses } = mount(plugin, {});
    expect(routes).toEqual([]);
    const res = new FakeResponse();
    uses[0]!({}, res);
    expect(res.code).toBe(503);
    expect(JSON.stringify(res.body)).toContain('NOPE');
    const out = await plugin.filter_metadata({ name: 'a', versions: { '1.0.0': { dist: { integrity: 'sha512-x' } } }, 'dist-tags': { latest: '1.0.0' } });
    expect(out.versions).toEqual({});
    expect(out['dist-tags']).toEqual({});
  });

  it('serves the keys, and the verdicts only to who may read the package', () => {
    const plugin = new PortcullisPlugin(good, options);
    const allow = (answer: boolean | 'error' | 'none') =>
      answer === 'none' ? {} : { allow_access: (_p: unknown, _u: unknown, cb: (e: unknown, ok?: boolean) => void) => (answer === 'error' ? cb(new Error('no')) : cb(null, answer)) };
    const { routes } = mount(plugin, allow(true));
    expect(routes.map(([p]) => String(p))).toEqual([KEYS_PATH, String(VERDICTS_PATH)]);
    const keys = new FakeResponse();
    routes[0]![1]({}, keys);
    expect(keys.body).toEqual({ keys: [plugin.settings!.signer.publicKey] });
    for (const [answer, code] of [[true, 200], [false, 404], ['error', 404], ['none', 404]] as const) {
      const res = new FakeResponse();
      mount(plugin, allow(answer)).routes[1]![1]({ params: { 0: '%40acme%2Fwidget' } }, res);
      expect([answer, res.code]).toEqual([answer, code]);
      if (code === 200) expect(res.body).toMatchObject({ name: '@acme/widget', served: ['1.0.0'] });
    }
  });
});
