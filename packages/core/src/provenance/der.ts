// sigstore-js's DER encoder, in one pass over one buffer.
//
// sigstore-js 3.x encodes a parsed ASN.1 tree back to DER (`ASN1Obj.toDER`) whenever it needs a certificate's bytes:
// the part a signature covers (`tbsCertificate`), a public key, a comparison, a copy. Its encoder builds every node in
// a fresh growable stream of 1 KiB blocks and copies it into its parent's: profiled on 1,000 bundles, that was about
// two fifths of the time a bundle took to verify (its buffer allocations alone a fifth of the samples). `encodeDer`
// writes the same bytes (the same tag byte, the same length encoding, the children's encodings or the node's value)
// into a buffer sized first.
import type { ASN1Obj } from '@sigstore/core';

/** The bytes of a length as sigstore-js's `encodeLength` writes them (short form below 128, else minimal long form). */
function lengthBytes(length: number): number {
  if (length < 128) return 1;
  let bytes = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes++;
  return 1 + bytes;
}

/** The encoded size of every node's contents, children first (one walk; the write reads it back). */
function contentSizes(node: ASN1Obj, sizes: Map<ASN1Obj, number>): number {
  let content = 0;
  if (node.subs.length > 0) {
    for (const sub of node.subs) {
      const inner = contentSizes(sub, sizes);
      content += 1 + lengthBytes(inner) + inner;
    }
  } else content = node.value.length;
  sizes.set(node, content);
  return content;
}

function write(node: ASN1Obj, sizes: Map<ASN1Obj, number>, out: Buffer, at: number): number {
  const content = sizes.get(node)!;
  // The tag as one byte, as sigstore-js's stream stores it (`view[i] = tag.toDER()`).
  out[at++] = node.tag.toDER() & 0xff;
  if (content < 128) out[at++] = content;
  else {
    const bytes = lengthBytes(content) - 1;
    out[at++] = 0x80 | bytes;
    for (let i = bytes - 1, rest = content; i >= 0; i--, rest = Math.floor(rest / 256)) out[at + i] = rest % 256;
    at += bytes;
  }
  if (node.subs.length > 0) for (const sub of node.subs) at = write(sub, sizes, out, at);
  else {
    out.set(node.value, at);
    at += node.value.length;
  }
  return at;
}

/** `node.toDER()`'s bytes (sigstore-js 3.x), written into one buffer. */
export function encodeDer(node: ASN1Obj): Buffer {
  const sizes = new Map<ASN1Obj, number>();
  const content = contentSizes(node, sizes);
  const out = Buffer.allocUnsafe(1 + lengthBytes(content) + content);
  const end = write(node, sizes, out, 0);
  if (end !== out.length) throw new Error(`DER encoding wrote ${end} of ${out.length} bytes`);
  return out;
}

/**
 * Gives the nodes of a certificate's tree that sigstore-js encodes (the whole certificate, its signed part, the parts of
 * that: its key among them) this encoder as their own `toDER`. Only for trees parsed for Portcullis (a certificate
 * object it made): the class itself is not touched, and any other node still encodes as before (the same bytes).
 */
export function encodeWithOneBuffer(root: ASN1Obj): void {
  const signed = root.subs[0];
  for (const node of [root, ...(signed === undefined ? [] : [signed, ...signed.subs])]) {
    Object.defineProperty(node, 'toDER', { value: () => encodeDer(node), configurable: true, writable: true });
  }
}
