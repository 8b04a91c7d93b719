import { describe, expect, it } from 'vitest';
import { ENGINE_MARKER, embedEngine, engineFromPnpmfile } from './embed.js';

const engine = '"use strict";\n// a comment line\nvar x = `a\n//b`;\n\nmodule.exports = { hooks: {} };';

describe('the engine inside the pnpmfile', () => {
  it('travels as line comments after the loader and comes back byte for byte (LF or CRLF checkout)', () => {
    const file = embedEngine('const loader = 1;\n', engine);
    expect(file.startsWith(`const loader = 1;\n${ENGINE_MARKER}\n//"use strict";\n`)).toBe(true);
    // Every line after the marker is a comment: Node compiles the loader only.
    for (const line of file.split(`${ENGINE_MARKER}\n`)[1]!.trimEnd().split('\n')) expect(line.startsWith('//')).toBe(true);
    expect(engineFromPnpmfile(file)).toBe(engine);
    expect(engineFromPnpmfile(file.replace(/\n/g, '\r\n'))).toBe(engine);
    expect(() => new Function(file)).not.toThrow();
  });

  it('a pnpmfile without the engine, or with it cut short, has none', () => {
    const file = embedEngine('const loader = 1;', engine);
    expect(engineFromPnpmfile('const loader = 1;\n')).toBeUndefined();
    expect(engineFromPnpmfile(file.slice(0, -1))).toBeUndefined();
    expect(engineFromPnpmfile(file.slice(0, file.indexOf(ENGINE_MARKER) + ENGINE_MARKER.length))).toBeUndefined();
  });

  it('refuses what it could not carry back', () => {
    expect(() => embedEngine('x', 'a\rb')).toThrow(/carriage return/);
    expect(() => embedEngine(`x\n${ENGINE_MARKER}\n`, engine)).toThrow(/marker/);
  });
});
