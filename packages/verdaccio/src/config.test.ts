import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PluginConfigError, readSettings } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-verdaccio-config-'));
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const keyBody = pem.split('\n')[1]!;
writeFileSync(join(dir, 'org.pem'), pem);
const base = { policy: 'portcullis.json', upstream: 'http://127.0.0.1:4873', signingKey: { file: 'org.pem' } };

function refusal(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    readSettings(raw, dir, env);
  } catch (error) {
    expect(error).toBeInstanceOf(PluginConfigError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('readSettings', () => {
  it('reads the key from a file or an environment variable; the signing key is the first key published', () => {
    const fromFile = readSettings(base, dir, {});
    const fromEnv = readSettings({ ...base, signingKey: { env: 'ORG_KEY' } }, dir, { ORG_KEY: pem });
    expect(fromEnv.signer.keyid).toBe(fromFile.signer.keyid);
    expect(fromFile.keys).toEqual([fromFile.signer.publicKey]);
    expect(fromFile.policy).toBe(join(dir, 'portcullis.json'));
    expect(fromFile.upstream).toBe('http://127.0.0.1:4873/');
  });

  it('lists a retired key with its expiry; a retired key always expires and is never the signing key', () => {
    const retired = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const settings = readSettings({ ...base, retiredKeys: [{ key: retired, expires: '2026-06-01T00:00:00Z' }] }, dir, {});
    expect(settings.keys[1]).toMatchObject({ key: retired, expires: '2026-06-01T00:00:00.000Z' });
    expect(refusal({ ...base, retiredKeys: [{ key: retired }] })).toContain('always expires');
    expect(refusal({ ...base, retiredKeys: [{ key: settings.signer.publicKey.key, expires: '2026-06-01T00:00:00Z' }] })).toContain('is the signing key');
  });

  it('refuses a missing or unusable key without ever quoting key material', () => {
    const messages = [
      refusal({ ...base, signingKey: { env: 'ORG_KEY' } }, {}),
      refusal({ ...base, signingKey: { env: 'ORG_KEY' } }, { ORG_KEY: pem.replace('PRIVATE KEY-----', 'PUBLIC KEY-----') }),
      refusal({ ...base, signingKey: { env: 'ORG_KEY' } }, { ORG_KEY: `${pem.slice(0, 80)}\n-----END PRIVATE KEY-----` }),
      refusal({ ...base, signingKey: { file: 'missing.pem' } }),
      refusal({ ...base, signingKey: pem }),
      refusal({ ...base, policy: undefined }),
      refusal({ ...base, upstream: 'file:///etc' }),
    ];
    for (const message of messages) expect(message).not.toContain(keyBody.slice(0, 12));
    expect(messages[0]).toContain('ORG_KEY');
  });
});
