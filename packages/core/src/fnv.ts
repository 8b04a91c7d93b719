/**
 * FNV-1a (32 bits) over a text's UTF-16 code units: a fast, well-spread hash for names and slots, not a cryptographic
 * one (what it names is always compared in full after). Node built-ins only, none at all: the loaders bundle it.
 */

/** FNV-1a of `text`, from `basis` (FNV's own offset basis unless another is given, for a second, independent hash). */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
