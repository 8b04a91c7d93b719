// The elements of a large JSON array, one at a time.
//
// An OSV bundle is one file holding a list of records (100,000 and more). Parsed whole, every record object of the
// file is alive at once next to the index being built from them: measured, that was most of the memory an index
// build took. Here the array is split into its elements' texts first, without parsing them, and each element is
// parsed on its own when it is read, so a record is garbage as soon as it has been indexed.

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

function skipWhitespace(text: string, at: number): number {
  let i = at;
  for (let c = text.charCodeAt(i); c === SPACE || c === TAB || c === LF || c === CR; c = text.charCodeAt(++i));
  return i;
}

/**
 * Where each element of the JSON array that is the whole of `text` lies: `[start0, end0, start1, end1, ...]`, or
 * undefined when `text` is not an array at the top, or its top level is broken (an unterminated string, an unclosed
 * bracket, a `}` where the array should go on, anything after its `]`). Strings are skipped with their escapes, so
 * brackets and commas inside them do not count. An element's own text is not checked: `JSON.parse` of each span
 * refuses a malformed one (`[1,,2]` gives an empty middle span). For a text `JSON.parse` accepts, the spans are
 * exactly its elements.
 */
export function jsonArraySpans(text: string): number[] | undefined {
  let i = skipWhitespace(text, 0);
  if (text.charCodeAt(i) !== OPEN_ARRAY) return undefined;
  i = skipWhitespace(text, i + 1);
  const spans: number[] = [];
  if (text.charCodeAt(i) === CLOSE_ARRAY) return skipWhitespace(text, i + 1) === text.length ? spans : undefined;
  const length = text.length;
  for (;;) {
    const start = i;
    let depth = 0;
    for (; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        for (i++; i < length; i++) {
          const d = text.charCodeAt(i);
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
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    // The array's own `]` (a `}` here closes nothing): only whitespace may follow.
    return c === CLOSE_ARRAY && skipWhitespace(text, i + 1) === length ? spans : undefined;
  }
}
