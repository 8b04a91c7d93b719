/**
 * A small JSON parser that keeps positions, so a malformed portcullis.json can be reported by file,
 * line and column. It builds a syntax tree rather than objects: hostile keys like `__proto__` are
 * just strings here and never touch a prototype.
 */
import type { SourceLocation } from '../model.js';

export type JsonNode =
  | { kind: 'object'; entries: JsonEntry[]; location: SourceLocation }
  | { kind: 'array'; items: JsonNode[]; location: SourceLocation }
  | { kind: 'string'; value: string; location: SourceLocation }
  | { kind: 'number'; value: number; location: SourceLocation }
  | { kind: 'boolean'; value: boolean; location: SourceLocation }
  | { kind: 'null'; location: SourceLocation };

export interface JsonEntry {
  key: string;
  keyLocation: SourceLocation;
  value: JsonNode;
}

/** A JSON syntax error at a position. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly location: SourceLocation,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_DEPTH = 64;

/** Parses JSON text into a located syntax tree; throws JsonSyntaxError with line and column. */
export function parseJsonWithLocations(text: string): JsonNode {
  let pos = 0;
  let line = 1;
  let lineStart = 0;
  // A UTF-8 byte order mark is tolerated, as editors on some systems write one.
  if (text.charCodeAt(0) === 0xfeff) pos = 1, lineStart = 1;

  const here = (): SourceLocation => ({ line, column: pos - lineStart + 1 });
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, here());
  };
  const describe = (): string => (pos >= text.length ? 'end of file' : `'${text[pos]}'`);

  function skipWhitespace(): void {
    while (pos < text.length) {
      const c = text[pos];
      if (c === '\n') {
        pos++;
        line++;
        lineStart = pos;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        pos++;
      } else {
        break;
      }
    }
  }

  function parseValue(depth: number): JsonNode {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH} levels`);
    skipWhitespace();
    const location = here();
    const c = text[pos];
    if (c === '{') return parseObject(depth, location);
    if (c === '[') return parseArray(depth, location);
    if (c === '"') return { kind: 'string', value: parseString(), location };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return { kind: 'number', value: parseNumber(), location };
    if (text.startsWith('true', pos)) return (pos += 4), { kind: 'boolean', value: true, location };
    if (text.startsWith('false', pos)) return (pos += 5), { kind: 'boolean', value: false, location };
    if (text.startsWith('null', pos)) return (pos += 4), { kind: 'null', location };
    return fail(`expected a JSON value but found ${describe()}`);
  }

  function parseObject(depth: number, location: SourceLocation): JsonNode {
    pos++; // {
    const entries: JsonEntry[] = [];
    skipWhitespace();
    if (text[pos] === '}') {
      pos++;
      return { kind: 'object', entries, location };
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') fail(`expected a property name in double quotes but found ${describe()}`);
      const keyLocation = here();
      const key = parseString();
      skipWhitespace();
      if (text[pos] !== ':') fail(`expected ':' after property name "${key}" but found ${describe()}`);
      pos++;
      const value = parseValue(depth + 1);
      entries.push({ key, keyLocation, value });
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        skipWhitespace();
        if (text[pos] === '}') fail(`trailing comma before '}'`);
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        return { kind: 'object', entries, location };
      }
      fail(`expected ',' or '}' but found ${describe()}`);
    }
  }

  function parseArray(depth: number, location: SourceLocation): JsonNode {
    pos++; // [
    const items: JsonNode[] = [];
    skipWhitespace();
    if (text[pos] === ']') {
      pos++;
      return { kind: 'array', items, location };
    }
    for (;;) {
      items.push(parseValue(depth + 1));
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        skipWhitespace();
        if (text[pos] === ']') fail(`trailing comma before ']'`);
        continue;
      }
      if (text[pos] === ']') {
        pos++;
        return { kind: 'array', items, location };
      }
      fail(`expected ',' or ']' but found ${describe()}`);
    }
  }

  function parseString(): string {
    pos++; // opening quote
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string');
      const c = text[pos]!;
      if (c === '"') {
        pos++;
        return out;
      }
      if (c === '\n' || c < ' ') fail('control character in string (strings cannot span lines)');
      if (c === '\\') {
        const e = text[pos + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          pos += 2;
        } else if (e === 'u') {
          const hex = text.slice(pos + 2, pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
        } else {
          fail(`invalid escape '\\${e ?? ''}'`);
        }
        continue;
      }
      out += c;
      pos++;
    }
  }

  function parseNumber(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(pos, pos + 64));
    if (!match) return fail(`invalid number`);
    pos += match[0].length;
    return Number(match[0]);
  }

  const root = parseValue(0);
  skipWhitespace();
  if (pos < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
  return root;
}
