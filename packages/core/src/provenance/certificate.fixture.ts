// Test-only: a minimal DER certificate carrying chosen Fulcio extensions (unsigned: for identity parsing only).

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const seq = (...content: Buffer[]) => tlv(0x30, ...content);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

/** Fulcio extensions by their last OID arc: numbers below 8 are written raw (v1), 8 and up as DER UTF8String (v2). */
export type FulcioExtensions = Record<number, string>;

/** A DER X.509 certificate with the given Fulcio extensions and, optionally, a URI subject alternative name. */
export function fulcioCertificate(extensions: FulcioExtensions, san?: string, raw: Record<number, Buffer> = {}): Buffer {
  const exts: Buffer[] = [];
  if (san !== undefined) exts.push(seq(oid('2.5.29.17'), tlv(0x04, seq(tlv(0x86, Buffer.from(san, 'latin1'))))));
  for (const [arc, value] of Object.entries(extensions)) {
    const n = Number(arc);
    exts.push(seq(oid(`1.3.6.1.4.1.57264.1.${n}`), tlv(0x04, n < 8 ? Buffer.from(value, 'utf8') : utf8(value))));
  }
  for (const [arc, value] of Object.entries(raw)) exts.push(seq(oid(`1.3.6.1.4.1.57264.1.${arc}`), tlv(0x04, value)));
  const ecdsa = seq(oid('1.2.840.10045.4.3.3'));
  const time = tlv(0x17, Buffer.from('230101000000Z'));
  const spki = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, Buffer.from([0, 4, ...new Array(64).fill(1)])));
  const tbs = seq(tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([1])), ecdsa, seq(), seq(time, time), seq(), spki, tlv(0xa3, seq(...exts)));
  return seq(tbs, ecdsa, tlv(0x03, Buffer.from([0, 0x30, 0])));
}

/** The Fulcio extensions of a v2 GitHub Actions certificate for `repo` (owner/repo) built by `workflow` at `ref`. */
export function githubExtensions(repo: string, workflow: string, ref: string, extra: FulcioExtensions = {}): FulcioExtensions {
  return {
    8: 'https://token.actions.githubusercontent.com',
    9: `https://github.com/${repo}/${workflow}@${ref}`,
    11: 'github-hosted',
    12: `https://github.com/${repo}`,
    13: '0123456789abcdef0123456789abcdef01234567',
    14: ref,
    15: '42',
    17: '7',
    18: `https://github.com/${repo}/${workflow}@${ref}`,
    20: 'push',
    ...extra,
  };
}
