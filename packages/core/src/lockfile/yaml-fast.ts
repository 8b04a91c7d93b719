/**
 * A fast reader for the plain block-YAML subset that pnpm (js-yaml's dump) and Yarn (syml) write for
 * lockfiles: block mappings indented with spaces, block sequences of scalars, one-line flow mappings and
 * sequences of scalars, plain and quoted scalars, full-line comments. It gives exactly what the full YAML
 * parser gives for those documents (checked by a differential property test against it), in a fraction of
 * the time (a 3,000-package pnpm-lock.yaml: about a tenth).
 *
 * Anything outside the subset — tabs, CR, documents markers, anchors, aliases, tags, block scalars,
 * multi-line scalars, nested flow collections, trailing comments, duplicate, `__proto__` or `<<` keys, empty values,
 * keys that are not strings — returns undefined, and the caller parses with the full YAML parser, which
 * also reports errors with their positions. Linear time; no recursion beyond one flow level.
 */
import type { SourceLocation } from '../model.js';
import type { LockRecord } from './input.js';

export interface FastYaml {
  data: LockRecord;
  /** Key positions of the top-level mapping. */
  topLocations: Map<string, SourceLocation>;
  /** Key positions of each top-level key's block mapping. */
  locations: Map<string, Map<string, SourceLocation>>;
}

type Schema = 'core' | 'failsafe';
type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

/** YAML 1.1's merge key: left to the full parser, which refuses it where pnpm would merge (yaml.ts). */
const MERGE_KEY = '<<';

/** Thrown inside the reader to abandon the fast path. */
class Unsupported extends Error {}
const unsupported = (): never => {
  throw new Unsupported();
};

interface Frame {
  indent: number;
  node: Record<string, Value> | Value[];
  /** Where this frame's key positions go: the root's, a top-level key's, or nowhere (deeper). */
  positions: Map<string, SourceLocation> | undefined;
  root: boolean;
}

export function parseLockfileYamlFast(text: string, schema: Schema): FastYaml | undefined {
  try {
    return read(text, schema);
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

function read(text: string, schema: Schema): FastYaml {
  if (text.includes('\r') || text.includes('\t')) unsupported();
  const root: Record<string, Value> = {};
  const topLocations = new Map<string, SourceLocation>();
  const locations = new Map<string, Map<string, SourceLocation>>();
  const stack: Frame[] = [{ indent: 0, node: root, positions: topLocations, root: true }];
  /** A key whose value is the block on the following lines. */
  let pending: { parent: Frame; key: string } | undefined;
  // Line by line without splitting the text first (a 3,000-package lockfile has ~22,000 lines): only each line's
  // content is taken out of the text.
  let index = -1;
  for (let start = 0; start <= text.length; ) {
    index++;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let at = start;
    while (at < end && text.charCodeAt(at) === 32) at++;
    const indent = at - start;
    start = end + 1;
    if (at === end) continue; // blank
    if (text.charCodeAt(at) === 35) continue; // `#`: a full-line comment
    const content = text.slice(at, end);
    if (content.startsWith('---') || content.startsWith('...') || content[0] === '%') unsupported();

    if (pending !== undefined) {
      // The pending key's block: deeper than its key, a mapping or a sequence of scalars.
      if (indent <= pending.parent.indent) unsupported(); // an empty value, or a sequence at the key's own indent
      const isSequence = content === '-' || content.startsWith('- ');
      const node: Record<string, Value> | Value[] = isSequence ? [] : {};
      (pending.parent.node as Record<string, Value>)[pending.key] = node;
      let positions: Map<string, SourceLocation> | undefined;
      if (pending.parent.root && !isSequence) locations.set(pending.key, (positions = new Map()));
      stack.push({ indent, node, positions, root: false });
      pending = undefined;
    } else {
      while (stack.length > 1 && stack[stack.length - 1]!.indent > indent) stack.pop();
      if (stack[stack.length - 1]!.indent !== indent) unsupported();
    }

    const frame = stack[stack.length - 1]!;
    if (Array.isArray(frame.node)) {
      if (!content.startsWith('- ')) unsupported();
      const item = content.slice(2);
      if (item.startsWith(' ')) unsupported();
      frame.node.push(value(item, schema));
      continue;
    }
    if (content === '-' || content.startsWith('- ')) unsupported(); // a sequence where a mapping entry belongs

    const { key, rest } = mappingKey(content);
    const map = frame.node;
    if (key === '__proto__' || key === MERGE_KEY || Object.prototype.hasOwnProperty.call(map, key)) unsupported();
    frame.positions?.set(key, { line: index + 1, column: indent + 1 });
    if (rest === '') {
      pending = { parent: frame, key };
      continue;
    }
    const parsed = value(rest, schema);
    // Key positions are kept for block mappings only: a top-level flow mapping is left to the full parser.
    if (frame.root && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length > 0) unsupported();
    map[key] = parsed;
  }
  if (pending !== undefined) unsupported(); // an empty value at the end
  return { data: root as LockRecord, topLocations, locations };
}

const PLAIN_START_FORBIDDEN = new Set(['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', ' ']);

/** `key: value` or `key:` — the key, and the value text after `: ` ('' when the value is a block). */
function mappingKey(content: string): { key: string; rest: string } {
  let key: string;
  let end: number;
  if (content[0] === "'" || content[0] === '"') {
    const quoted = quotedScalar(content, 0);
    key = quoted.value;
    end = quoted.end;
  } else {
    if (PLAIN_START_FORBIDDEN.has(content[0]!)) unsupported();
    const colonSpace = content.indexOf(': ');
    end = colonSpace >= 0 ? colonSpace : content.endsWith(':') ? content.length - 1 : unsupported();
    key = content.slice(0, end);
    if (key.includes(' #') || key.endsWith(' ') || key.includes(': ')) unsupported();
    // A plain key the core schema reads as a number, boolean or null is not a string key.
    if (resolvePlain(key, 'core') !== key) unsupported();
  }
  if (content[end] !== ':') unsupported();
  if (end + 1 === content.length) return { key, rest: '' };
  if (content.charCodeAt(end + 1) !== 32) unsupported();
  // The value's text: from the first character after the spaces to the last before any trailing ones (a line holds
  // no other whitespace: tabs and CR leave the subset).
  let from = end + 2;
  while (content.charCodeAt(from) === 32) from++;
  let to = content.length;
  while (to > from && content.charCodeAt(to - 1) === 32) to--;
  return { key, rest: content.slice(from, to) };
}

/**
 * `text` without the spaces at its end. Spaces are the only white space of the subset (tabs and CR leave it); JavaScript's
 * `trim` would also drop the Unicode spaces (U+00A0, U+3000, U+FEFF, …) that a YAML parser keeps as part of a scalar,
 * and so read another value than pnpm and Yarn read.
 */
function withoutTrailingSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** Whether `text` holds nothing but spaces from `from` on. */
function onlySpacesFrom(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) if (text.charCodeAt(i) !== 32) return false;
  return true;
}

/** A value on one line: quoted, flow collection, or plain scalar. */
function value(text: string, schema: Schema): Value {
  const first = text[0];
  if (first === "'" || first === '"') {
    const quoted = quotedScalar(text, 0);
    if (!onlySpacesFrom(text, quoted.end)) unsupported();
    return quoted.value;
  }
  if (first === '{' || first === '[') {
    const flow = flowCollection(text, 0, schema);
    if (!onlySpacesFrom(text, flow.end)) unsupported();
    return flow.value;
  }
  if (first === undefined || PLAIN_START_FORBIDDEN.has(first)) unsupported();
  const plain = withoutTrailingSpaces(text);
  if (plain.includes(': ') || plain.endsWith(':') || plain.includes(' #')) unsupported();
  return resolvePlain(plain, schema);
}

/** Where a double-quoted scalar's plain run ends: its closing quote or an escape. */
const DOUBLE_QUOTED_STOP = /["\\]/g;

/** A single- or double-quoted scalar starting at `start`; multi-line and rare escapes are unsupported. */
function quotedScalar(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let out = '';
  let i = start + 1;
  if (quote === "'") {
    // Runs up to each quote are taken whole (native search, not a character at a time); `''` is one quote.
    for (;;) {
      const close = text.indexOf("'", i);
      if (close < 0) unsupported();
      out += text.slice(i, close);
      if (text[close + 1] !== "'") return { value: out, end: close + 1 };
      out += "'";
      i = close + 2;
    }
  }
  for (;;) {
    DOUBLE_QUOTED_STOP.lastIndex = i;
    const stop = DOUBLE_QUOTED_STOP.exec(text);
    if (stop === null) unsupported();
    out += text.slice(i, stop!.index);
    i = stop!.index;
    const c = text[i]!;
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const e = text[i + 1];
      const simple: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', ' ': ' ' };
      if (e !== undefined && Object.prototype.hasOwnProperty.call(simple, e)) {
        out += simple[e];
        i += 2;
        continue;
      }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      unsupported();
    }
  }
}

/** A one-line flow mapping or sequence of scalars (no nesting). */
function flowCollection(text: string, start: number, schema: Schema): { value: Value; end: number } {
  const open = text[start];
  const close = open === '{' ? '}' : ']';
  const map: Record<string, Value> = {};
  const list: Value[] = [];
  let i = start + 1;
  const skipSpaces = () => {
    while (text[i] === ' ') i++;
  };
  skipSpaces();
  if (text[i] === close) return { value: open === '{' ? map : list, end: i + 1 };
  for (;;) {
    skipSpaces();
    let key: string | undefined;
    if (open === '{') {
      const parsed = flowScalar(text, i, true);
      if (!parsed.quoted && resolvePlain(parsed.value, 'core') !== parsed.value) unsupported();
      key = parsed.value;
      i = parsed.end;
      if (text[i] !== ':' || text[i + 1] !== ' ') unsupported();
      i += 2;
      skipSpaces();
      if (key === '__proto__' || key === MERGE_KEY || Object.prototype.hasOwnProperty.call(map, key)) unsupported();
    }
    const item = flowScalar(text, i, false);
    const resolved = item.quoted ? item.value : resolvePlain(item.value, schema);
    i = item.end;
    if (key !== undefined) map[key] = resolved;
    else list.push(resolved);
    skipSpaces();
    if (text[i] === ',') {
      i++;
      if (text[i] !== ' ') unsupported();
      continue;
    }
    if (text[i] === close) return { value: open === '{' ? map : list, end: i + 1 };
    unsupported();
  }
}

/**
 * In a plain scalar inside a flow collection: `,` and the closing brackets end it; `{`, `[` and `#` leave the subset; a
 * `:` followed by a space, `,`, a closing bracket or the end of the line ends a key (and leaves the subset in a value).
 */
const FLOW_PLAIN_STOP = /[,}\]{[#]|:(?:[ ,}\]]|$)/g;

/** A quoted or plain scalar inside a flow collection: a plain one ends at `,`, the closing bracket, or (a key) `: `. */
function flowScalar(text: string, start: number, isKey: boolean): { value: string; end: number; quoted: boolean } {
  const first = text[start];
  if (first === "'" || first === '"') {
    const quoted = quotedScalar(text, start);
    return { value: quoted.value, end: quoted.end, quoted: true };
  }
  if (first === undefined || PLAIN_START_FORBIDDEN.has(first)) unsupported();
  // The first character that ends the scalar or leaves the subset, found by a native search.
  FLOW_PLAIN_STOP.lastIndex = start;
  const stop = FLOW_PLAIN_STOP.exec(text);
  const i = stop === null ? text.length : stop.index;
  if (stop !== null) {
    const c = text[i];
    if (c === '{' || c === '[' || c === '#') unsupported();
    if (c === ':' && !isKey) unsupported();
  }
  const raw = text.slice(start, i);
  const trimmed = withoutTrailingSpaces(raw);
  if (trimmed === '' || (isKey && trimmed !== raw)) unsupported();
  return { value: trimmed, end: start + trimmed.length + (raw.length - trimmed.length), quoted: false };
}

const MAY_RESOLVE = /^[~nNtTfF0-9+\-.]/;
const VERSION_START = /^[0-9]+\.[0-9]+\./;
const CORE_NULL = /^(?:~|null|Null|NULL)$/;
const CORE_TRUE = /^(?:true|True|TRUE)$/;
const CORE_FALSE = /^(?:false|False|FALSE)$/;
const CORE_INT = /^[-+]?[0-9]+$/;
const CORE_OCT = /^0o[0-7]+$/;
const CORE_HEX = /^0x[0-9a-fA-F]+$/;
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const CORE_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/**
 * A plain scalar under the schema: failsafe keeps strings; core resolves null, booleans and numbers. The
 * rarer numeric forms (octal, hex, infinities, NaN) are left to the full parser.
 */
function resolvePlain(text: string, schema: Schema): Value {
  if (schema === 'failsafe') return text;
  // Only these first characters can start a null, a boolean or a number (~ null true false, digits, signs, `.`): any
  // other plain scalar is a string, without the eight tests below (most keys and values of a lockfile).
  if (!MAY_RESOLVE.test(text)) return text;
  // A version (`1.0.13`, `4.8.0(react@18.0.0)`): two dots after digits make no null, boolean or number, without the
  // eight tests below (most values of a lockfile's dependency lists).
  if (VERSION_START.test(text)) return text;
  if (CORE_NULL.test(text)) return null;
  if (CORE_TRUE.test(text)) return true;
  if (CORE_FALSE.test(text)) return false;
  if (CORE_OCT.test(text) || CORE_HEX.test(text) || CORE_SPECIAL.test(text)) unsupported();
  if (CORE_INT.test(text) || CORE_FLOAT.test(text)) {
    const n = Number(text);
    if (!Number.isFinite(n) || (CORE_INT.test(text) && !Number.isSafeInteger(n))) unsupported();
    return n;
  }
  return text;
}
