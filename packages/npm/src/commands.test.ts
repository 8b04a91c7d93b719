import { describe, expect, it } from 'vitest';
import { commandCandidates, parseNpmArguments, registryOrLocalSpec } from './arguments.js';
import { commandTableFor, derefCommand, NPM_COMMAND_TABLES } from './commands.js';

// Parity with each pinned npm's own cmd-list.js: packages/e2e/test/npm-command-words.test.ts.
const kind = (version: string | undefined, ...argv: string[]) => parseNpmArguments(argv, version).kind;

describe('derefCommand', () => {
  const npm12 = NPM_COMMAND_TABLES[12]!;
  const npm10 = NPM_COMMAND_TABLES[10]!;
  it('camelCase, exact command, alias, unique prefix followed through the aliases', () => {
    expect(derefCommand('cleanInstall', npm12)).toBe('ci');
    expect(derefCommand('install-cl', npm12)).toBe('ci');
    expect(derefCommand('installCiTest', npm12)).toBe('install-ci-test');
    expect(derefCommand('upd', npm12)).toBe('update');
    expect(derefCommand('reb', npm12)).toBe('rebuild');
    expect(derefCommand('rb', npm12)).toBe('rebuild');
    expect(derefCommand('i', npm12)).toBe('install');
  });
  it('an ambiguous prefix, an empty or unknown word: no command', () => {
    expect(derefCommand('in', npm12)).toBe('install');
    expect(derefCommand('ins', npm12)).toBe('install');
    expect(derefCommand('un', npm12)).toBe('uninstall');
    expect(derefCommand('d', npm12)).toBeUndefined();
    expect(derefCommand('', npm12)).toBeUndefined();
    expect(derefCommand(undefined, npm12)).toBeUndefined();
    expect(derefCommand('frobnicate', npm12)).toBeUndefined();
  });
  it('the tables differ where npm does: `u` is update from npm 11, ambiguous on npm 10', () => {
    expect(derefCommand('u', npm12)).toBe('update');
    expect(derefCommand('u', npm10)).toBeUndefined();
    expect(kind('10.9.9', 'u')).toBe('passthrough');
    expect(kind('12.2.3', 'u')).toBe('resolve');
  });
});

describe('commandTableFor', () => {
  it("each pinned major's own table; a later or unknown npm: the newest, not its own", () => {
    expect(commandTableFor('10.9.9')).toEqual({ table: NPM_COMMAND_TABLES[10], own: true });
    expect(commandTableFor('11.21.2').own).toBe(true);
    for (const version of ['13.0.0', '9.9.4', undefined, 'latest']) expect(commandTableFor(version), String(version)).toEqual({ table: NPM_COMMAND_TABLES[12], own: false });
  });
});

describe('parseNpmArguments: kinds', () => {
  it('installing commands are gated, under any spelling', () => {
    for (const word of ['install', 'add', 'isntall', 'update', 'upgrade', 'dedupe', 'ddp', 'uninstall', 'r', 'rm', 'unlink', 'remove', 'prune', 'install-test', 'installTest']) expect(kind('12.2.3', word), word).toBe('resolve');
    for (const word of ['ci', 'clean-install', 'cleanInstall', 'install-ci-test', 'cit', 'sit']) expect(kind('12.2.3', word), word).toBe('ci');
    expect(kind('11.21.2', 'audit', 'fix')).toBe('resolve');
    expect(kind('11.21.2', 'audit', 'signatures')).toBe('passthrough');
  });

  it('exec, init/create with an initializer or a workspace, link, edit, explore, patch: refused, naming the command', () => {
    for (const argv of [['exec', 'x'], ['x', 'y'], ['exe', 'y'], ['create', 'evil'], ['init', 'evil'], ['innit', 'evil'], ['init', '-w', 'pkgs/a'], ['init', '--workspace=a'], ['link'], ['ln', 'x'], ['edit', 'x'], ['explore', 'x'], ['patch', 'x']]) {
      const cmd = parseNpmArguments(argv, '12.2.3');
      expect(cmd.kind, argv.join(' ')).toBe('refuse');
      expect(cmd.refusal, argv.join(' ')).toMatch(/nothing was run/);
    }
    expect(parseNpmArguments(['ln'], '10.9.9').refusal).toContain('npm link');
  });

  it('commands on the pass-through list go to npm; plain `init` too', () => {
    for (const argv of [['view', 'x'], ['run', 'build'], ['test'], ['init'], ['init', '--yes'], ['ls'], ['install-scripts', 'ls'], ['approve-scripts', 'x'], ['--version'], []]) expect(kind('12.2.3', ...argv), argv.join(' ')).toBe('passthrough');
  });

  it('a word npm cannot read: to npm (it says so) on a pinned npm; refused on an npm without a table', () => {
    expect(kind('12.2.3', 'frobnicate')).toBe('passthrough');
    expect(kind('13.0.0', 'frobnicate')).toBe('refuse');
    expect(kind(undefined, 'frobnicate')).toBe('refuse');
    expect(kind('13.0.0', 'install')).toBe('resolve');
    expect(kind('13.0.0', 'view', 'x')).toBe('passthrough');
  });

  it('a word npm reads as a property of Object.prototype is refused', () => {
    for (const word of ['constructor', '__proto__']) expect(kind('12.2.3', word), word).toBe('refuse');
  });

  it('a command hidden as an option value is still gated or refused', () => {
    expect(parseNpmArguments(['--some-option', 'cleanInstall'], '12.2.3')).toMatchObject({ kind: 'ci', command: 'ci' });
    expect(parseNpmArguments(['--some-option', 'exe', 'view'], '12.2.3').kind).toBe('refuse');
    expect(parseNpmArguments(['--loglevel', 'silly', 'view'], '12.2.3').kind).toBe('passthrough');
  });

  it('`--` ends the options as npm reads it: the next word is the command, and `--` is no package spec', () => {
    for (const dashes of ['--', '---']) expect(parseNpmArguments([dashes, 'ci'], '11.21.2')).toMatchObject({ kind: 'ci', command: 'ci' });
    expect(parseNpmArguments(['install', '--', 'lodash'], '11.21.2')).toMatchObject({ kind: 'resolve', positionals: ['lodash'] });
    expect(parseNpmArguments(['run', 'build', '--', '--watch'], '11.21.2')).toMatchObject({ kind: 'passthrough', positionals: ['build', '--watch'] });
  });

  it('a word npm may take as the command where this parser took another is never passed on (`--no-<option> <word>`)', () => {
    for (const argv of [['--no-browser', 'test', 'ci'], ['--no-script-shell', 'ls', 'install'], ['--prefix', 'ci', 'install']]) {
      const cmd = parseNpmArguments(argv, '12.2.3');
      expect(cmd.kind, argv.join(' ')).toBe('refuse');
      expect(cmd.refusal).toContain('may read');
    }
    expect(kind('12.2.3', '--NO-workspace', 'docs', 'exe', 'x')).toBe('refuse');
    // Everyday command lines stay as they were.
    expect(kind('12.2.3', '-w', 'docs', 'install')).toBe('resolve');
    expect(kind('12.2.3', '-w', 'docs', 'run', 'build')).toBe('passthrough');
    expect(kind('12.2.3', '--loglevel', 'warn', 'ci')).toBe('ci');
    expect(kind('12.2.3', '--silent', 'ci')).toBe('ci');
    expect(kind('12.2.3', 'i', '--save-dev', 'ci-info')).toBe('resolve');
    expect(kind('12.2.3', 'test', '--', 'ci')).toBe('passthrough');
  });

  it('commandCandidates: each word that may be the command, up to the first that surely is', () => {
    expect(commandCandidates(['--no-browser', 'test', 'ci', 'x'])).toEqual(['test', 'ci']);
    expect(commandCandidates(['--a=b', 'ci', 'install'])).toEqual(['ci']);
    expect(commandCandidates(['-g', '-w', 'x', 'y', 'z'])).toEqual(['x', 'y']);
    expect(commandCandidates(['--', 'ci', 'x'])).toEqual(['ci']);
    expect(commandCandidates(['--flag'])).toEqual([]);
  });

  it('pack, publish, cache add and diff take only registry packages and local paths: a git spec is prepared (its code run)', () => {
    for (const argv of [['pack', 'git+https://h/x.git'], ['pack', 'owner/repo'], ['pack', 'github:o/r'], ['publish', 'https://h/x.tgz'], ['cache', 'add', 'git+ssh://git@h/x.git'], ['diff', '--diff=git+file:///tmp/x.git', '--diff=lodash@1'], ['diff', '--diff', 'o/r'], ['pack', 'x@npm:y@1']]) {
      const cmd = parseNpmArguments(argv, '10.9.9');
      expect(cmd.kind, argv.join(' ')).toBe('refuse');
      expect(cmd.refusal).toContain('would fetch');
    }
    for (const argv of [['pack'], ['pack', 'lodash@4.17.21'], ['pack', '@scope/name@^1'], ['pack', './dir'], ['publish', '../x.tgz'], ['publish', 'file:x'], ['cache', 'add', 'lodash'], ['cache', 'clean', '--force'], ['diff'], ['diff', '--diff=1.0.0', '--diff=lodash@2']]) {
      expect(kind('10.9.9', ...argv), argv.join(' ')).toBe('passthrough');
    }
    expect(registryOrLocalSpec('name.git')).toBe(false);
    expect(registryOrLocalSpec('~/x')).toBe(true);
  });
});
