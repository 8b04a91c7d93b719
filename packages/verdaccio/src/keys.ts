/** `GET /-/npm/v1/keys`: the organisation's keys in the registry keys format, the signing key first. */
import type { RegistryKey } from '@portcullis/core';

export const KEYS_PATH = '/-/npm/v1/keys';

/** The keys document: the key that signs now (`expires: null`) and retired keys with their `expires`. */
export function keysDocument(keys: readonly RegistryKey[]): { keys: RegistryKey[] } {
  return { keys: keys.map((k) => ({ keyid: k.keyid, keytype: k.keytype, scheme: k.scheme, key: k.key, expires: k.expires })) };
}

interface Response {
  setHeader(name: string, value: string): void;
  status(code: number): Response;
  end(body: string): void;
}

/** An Express handler serving the keys document (public keys only: nothing here is secret). */
export function keysHandler(keys: readonly RegistryKey[]): (req: unknown, res: Response) => void {
  const body = JSON.stringify(keysDocument(keys));
  return (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'max-age=300');
    res.status(200).end(body);
  };
}
