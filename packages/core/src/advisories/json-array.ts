// The elements of a large JSON array, one at a time.
//
// An OSV bundle is one file holding a list of records (100,000 and more). Parsed whole, every record object of the
// file is alive at once next to the index being built from them: measured, that was most of the memory an index
// build took. Here the array is split into its elements' byte ranges first, without decoding or parsing them, and
// each element is decoded and parsed on its own when it is read, so a record is garbage as soon as it has been indexed.

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function skipWhitespace(bytes: Uint8Array, at: number): number {
  let i = at;
  for (let c = bytes[i]; c === SPACE || c === TAB || c === LF || c === CR; c = bytes[++i]);
  return i;
}

/**
 * Where each element of the JSON array that is the whole of `bytes` (UTF-8, from `from`) lies: `[start0, end0,
 * start1, end1, ...]`, byte offsets, or undefined when the text is not an array at the top, or its top level is broken
 * (an unterminated string, an unclosed bracket, a `}` where the array should go on, anything after its `]`). Strings
 * are skipped with their escapes, so brackets and commas inside them do not count. Every byte this looks at is ASCII,
 * and no byte of a multi-byte UTF-8 character is (they are all 0x80 or above), so the file is never decoded whole:
 * each element is decoded when it is read. An element's own text is not checked: `JSON.parse` of each span refuses a
 * malformed one (`[1,,2]` gives an empty middle span). For a text `JSON.parse` accepts, the spans are exactly its
 * elements.
 */
export function jsonArraySpans(bytes: Uint8Array, from = 0): number[] | undefined {
  let i = skipWhitespace(bytes, from);
  if (bytes[i] !== OPEN_ARRAY) return undefined;
  i = skipWhitespace(bytes, i + 1);
  const spans: number[] = [];
  if (bytes[i] === CLOSE_ARRAY) return skipWhitespace(bytes, i + 1) === bytes.length ? spans : undefined;
  const length = bytes.length;
  for (;;) {
    const start = i;
    let depth = 0;
    for (; i < length; i++) {
      const c = bytes[i];
      if (c === QUOTE) {
        for (i++; i < length; i++) {
          const d = bytes[i];
          if (d === BACKSLASH) i++;
          else if (d === QUOTE) break;
        }
        if (i >= length) return undefined;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
      else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (depth === 0) break;
        depth--;
      } else if (c === COMMA && depth === 0) break;
    }
    if (i >= length) return undefined;
    spans.push(start, i);
    const c = bytes[i];
    if (c === COMMA) {
      i++;
      continue;
    }
    // The array's own `]` (a `}` here closes nothing): only whitespace may follow.
    return c === CLOSE_ARRAY && skipWhitespace(bytes, i + 1) === length ? spans : undefined;
  }
}
