/**
 * portcullis-npm reads npm's command word as the npm being run does (packages/npm/src/commands.ts): each pinned npm's
 * own lib/utils/cmd-list.js is loaded and its `deref` compared with ours for every command, every alias, the camelCase
 * spelling of each and every prefix of each, on that npm's table (review round 43, N1: `cleanInstall`, `install-cl`,
 * `upd`, `ded`, `reb`, `exe`, `ad` were passed to npm ungated). And every canonical command of every table has a
 * decided kind: gated, refused, or on the explicit pass-through list.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandTableFor, derefCommand, NPM_COMMAND_TABLES } from '../../npm/src/commands.js';
import { parseNpmArguments } from '../../npm/src/arguments.js';
import { npm } from '../src/toolbox.js';

interface CmdList {
  commands: string[];
  aliases: Record<string, string>;
  deref: (word: string) => unknown;
}

const camel = (word: string) => word.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

describe.each([10, 11, 12] as const)('npm %i', (major) => {
  const tool = npm(major);
  const cli = tool.args[0]!;
  const list = createRequire(cli)(join(dirname(dirname(cli)), 'lib', 'utils', 'cmd-list.js')) as CmdList;
  const { table, own } = commandTableFor(tool.version);

  it("the table is npm's own lists", () => {
    expect(own).toBe(true);
    expect([...table.commands]).toEqual(list.commands);
    expect({ ...table.aliases }).toEqual(list.aliases);
  });

  it("every command, alias, camelCase spelling and prefix reads as npm's deref reads it", () => {
    const words = new Set<string>(['', 'Install', 'INSTALL', 'cleanInstall', 'installCiTest', 'install-cl', 'upd', 'ded', 'reb', 'exe', 'ad', 'u', 'constructor', 'toString', 'valueOf']);
    for (const name of [...list.commands, ...Object.keys(list.aliases)]) {
      for (let i = 1; i <= name.length; i++) words.add(name.slice(0, i));
      const camelCase = camel(name);
      for (let i = 1; i <= camelCase.length; i++) words.add(camelCase.slice(0, i));
    }
    let compared = 0;
    for (const word of words) {
      const theirs = list.deref(word);
      // npm answers a non-string for a word naming an Object.prototype property: no command (the wrapper refuses it).
      expect(derefCommand(word, table), word).toBe(typeof theirs === 'string' ? theirs : theirs === undefined ? undefined : derefCommand(word, table));
      if (typeof theirs !== 'string' && theirs !== undefined) expect(parseNpmArguments([word], tool.version).kind, word).toBe('refuse');
      compared++;
    }
    expect(compared).toBeGreaterThan(400);
  });

  it('the measured words read as the reviewer found npm reading them', () => {
    const kind = (...argv: string[]) => parseNpmArguments(argv, tool.version).kind;
    expect(kind('cleanInstall')).toBe('ci');
    expect(kind('install-cl')).toBe('ci');
    expect(kind('installCiTest')).toBe('ci');
    expect(kind('install-ci')).toBe('ci');
    expect(kind('install-t')).toBe('resolve');
    expect(kind('upd')).toBe('resolve');
    expect(kind('ded')).toBe('resolve');
    expect(kind('dedu')).toBe('resolve');
    expect(kind('reb')).toBe('rebuild');
    expect(kind('exe', '--yes', 'create-evil')).toBe('refuse');
    expect(kind('create', 'evil')).toBe('refuse');
    expect(kind('uninstall', 'keep-me')).toBe('resolve');
    expect(kind('prune')).toBe('resolve');
    expect(kind('ln')).toBe('refuse');
    expect(kind('ad')).toBe(list.deref('ad') === 'install' ? 'resolve' : 'passthrough');
  });
});

describe('every canonical command of every table has a decided kind', () => {
  it('gated, refused with a reason, or passed through by name; never the fallback refusal', () => {
    for (const [major, table] of Object.entries(NPM_COMMAND_TABLES)) {
      for (const command of table.commands) {
        const cmd = parseNpmArguments([command], `${major}.0.0`);
        expect(cmd.command, command).toBe(command);
        if (cmd.kind === 'refuse') expect(cmd.refusal, command).not.toMatch(/is not known to install nothing/);
      }
    }
  });
});
