/**
 * npm's command line, read just far enough to know which command runs and with which package
 * arguments. Everything the user typed is passed on to npm unchanged.
 */
import { commandTableFor, derefCommand, isPrototypeWord } from './commands.js';

/** What the wrapper does with a command. */
export type CommandKind =
  /** Resolves, then installs the lockfile: `install`/`add`, `install-test`, `update`, `dedupe`, `audit fix`, `uninstall`, `prune`. */
  | 'resolve'
  /** Installs exactly the existing lockfile. */
  | 'ci'
  /** Runs install scripts of what is installed. */
  | 'rebuild'
  /** Not gated: refused with `refusal`, nothing run. */
  | 'refuse'
  /** Installs nothing and runs no dependency code (PASS_THROUGH): npm runs as if the wrapper were not there. */
  | 'passthrough';

export interface NpmCommand {
  kind: CommandKind;
  /** npm's canonical name (`install`, `ci`, `update`, …), or the word as typed when npm knows no such command. */
  command: string | undefined;
  /** Positional arguments after the command (package specs for install). */
  positionals: string[];
  /** The arguments exactly as given. */
  argv: string[];
  /** The option arguments (and their values) exactly as given, without the command and positionals. */
  optionArgs: string[];
  /** `--name[=value]` options as given, keyed without dashes (`no-` prefixes kept). */
  options: Map<string, string | true>;
  /** `install-test`/`install-ci-test`: run `npm test` after a successful install. */
  thenTest: boolean;
  /** Why the wrapper refuses the command (kind `refuse`). */
  refusal?: string;
}

/** Canonical commands the gate runs, by what it does with them. */
const GATED: Readonly<Record<string, CommandKind>> = {
  install: 'resolve',
  'install-test': 'resolve',
  update: 'resolve',
  dedupe: 'resolve',
  // Both reify the whole lockfile (installing what is missing), like install: resolved lock-only, judged, installed.
  uninstall: 'resolve',
  prune: 'resolve',
  ci: 'ci',
  'install-ci-test': 'ci',
  rebuild: 'rebuild',
};

const EXEC_REFUSAL = '`npm exec`/`npx` is not gated yet; nothing was run. Install the package in the project with portcullis-npm, then run it.';

/** Canonical commands the wrapper refuses, with why (each installs, or runs dependency code, outside the gate). */
const REFUSED: Readonly<Record<string, string>> = {
  exec: EXEC_REFUSAL,
  link: '`npm link` installs packages (and links global ones) without the gate; nothing was run. Use a `file:` dependency and portcullis-npm install instead.',
  edit: '`npm edit` runs `npm rebuild` of the package after the editor, outside the gate; nothing was run. Edit the files, then run portcullis-npm rebuild.',
  explore: "`npm explore` runs a command inside an installed package's folder with its bins first on PATH; nothing was run. Open the folder yourself instead.",
  patch: '`npm patch` reinstalls packages outside the gate; nothing was run.',
};

/**
 * Canonical commands that install nothing and run no dependency code (the root project's own scripts are the user's):
 * passed straight to npm. Any other canonical command is refused, naming it.
 */
const PASS_THROUGH = new Set([
  'access', 'adduser', 'approve-scripts', 'audit', 'bugs', 'cache', 'completion', 'config', 'deny-scripts', 'deprecate', 'diff',
  'dist-tag', 'docs', 'doctor', 'explain', 'find-dupes', 'fund', 'get', 'help', 'help-search', 'hook', 'init', 'install-scripts',
  'll', 'login', 'logout', 'ls', 'org', 'outdated', 'owner', 'pack', 'ping', 'pkg', 'prefix', 'profile', 'publish', 'query',
  'repo', 'restart', 'root', 'run', 'run-script', 'sbom', 'search', 'set', 'shrinkwrap', 'stage', 'star', 'stars', 'start',
  'stop', 'team', 'test', 'token', 'trust', 'undeprecate', 'unpublish', 'unstar', 'version', 'view', 'whoami',
]);

/** What the wrapper does with canonical command `command` and the words after it. */
function decide(command: string, rest: readonly string[], options: ReadonlyMap<string, string | true>): { kind: CommandKind; refusal?: string } {
  const gated = GATED[command];
  if (gated !== undefined) return { kind: gated };
  if (command === 'audit') return { kind: rest[0] === 'fix' ? 'resolve' : 'passthrough' };
  if (command === 'init') {
    // `npm init <x>` / `npm create <x>` is `npm exec create-<x>`; `npm init --workspace <w>` installs the new workspace.
    if (rest.length > 0) return { kind: 'refuse', refusal: `\`npm init <initializer>\`/\`npm create\` runs \`npm exec create-<initializer>\`, which is not gated yet; nothing was run.` };
    if (['workspace', 'w', 'workspaces'].some((o) => options.has(o))) return { kind: 'refuse', refusal: '`npm init` with a workspace installs it outside the gate; nothing was run. Create the workspace without npm init, then run portcullis-npm install.' };
    return { kind: 'passthrough' };
  }
  if (Object.hasOwn(REFUSED, command)) return { kind: 'refuse', refusal: REFUSED[command]! };
  if (PASS_THROUGH.has(command)) return { kind: 'passthrough' };
  return { kind: 'refuse', refusal: `\`npm ${command}\` is not known to install nothing and run no dependency code, and it is not gated; nothing was run.` };
}

/** Options that never take a value (npm's booleans that commonly precede a command or package). */
const BOOLEAN = new Set([
  'global', 'save', 'save-dev', 'save-optional', 'save-peer', 'save-exact', 'save-bundle', 'no-save', 'dry-run',
  'force', 'legacy-peer-deps', 'strict-peer-deps', 'prefer-offline', 'prefer-online', 'offline', 'ignore-scripts',
  'foreground-scripts', 'package-lock-only', 'package-lock', 'audit', 'fund', 'json', 'parseable', 'long', 'silent',
  'quiet', 'verbose', 'yes', 'no', 'workspaces', 'include-workspace-root', 'install-links', 'global-style', 'legacy-bundling',
  'bin-links', 'progress', 'color', 'unicode', 'usage', 'help', 'version', 'versions', 'dangerously-allow-all-scripts',
  'strict-allow-scripts', 'prefer-dedupe', 'link', 'production', 'all',
]);
/** Short flags that take no value. */
const SHORT_BOOLEAN = new Set(['g', 'D', 'P', 'O', 'E', 'B', 'S', 'f', 'q', 's', 'd', 'y', 'h', 'v', 'l', 'a', 'dd', 'ddd', 'p']);

/** Flags npm expands to `--loglevel <level>`: a following `true`/`false` stays a positional. */
const LOGLEVEL_SHORTHANDS = new Set(['s', 'q', 'd', 'dd', 'ddd', 'silent', 'quiet', 'verbose']);

function optionName(arg: string): string {
  return arg.replace(/^-+/, '').split('=')[0]!;
}

/** Whether `--name` without `=` takes the next argument as its value, as npm's parser would. */
function takesValue(name: string, short: boolean): boolean {
  if (short) return !SHORT_BOOLEAN.has(name);
  if (name.startsWith('no-')) return false;
  return !BOOLEAN.has(name);
}

/** What npm's parser takes as the end of its options: `--`, or any longer run of dashes alone. */
const ENDS_OPTIONS = /^-{2,}$/;

/**
 * Every word npm may read as the command, however it reads the options before it: nopt gives some options the next word
 * where this parser does not (`--no-<option> <word>` for an option that may hold a string), and an option this parser
 * does not know may take none. A word right after an option written without `=` may be its value or the command; the
 * first word after any other word, or after `--`, is a positional whichever way, and ends the list.
 */
export function commandCandidates(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (ENDS_OPTIONS.test(arg)) {
      if (i + 1 < argv.length) out.push(argv[i + 1]!);
      break;
    }
    if (arg !== '-' && arg.startsWith('-')) continue;
    out.push(arg);
    const before = argv[i - 1];
    const mayBeValue = before !== undefined && before !== '-' && before.startsWith('-') && !before.includes('=');
    if (!mayBeValue) break;
  }
  return out;
}

/** The package specs a passed-through command fetches: `pack` and `publish` their arguments, `cache add` its, `diff` its `--diff` values. */
function fetchedSpecs(command: string, rest: readonly string[], argv: readonly string[]): string[] {
  switch (command) {
    case 'pack':
    case 'publish':
      return [...rest];
    case 'cache':
      return rest[0] === 'add' ? rest.slice(1) : [];
    case 'diff': {
      const values: string[] = [];
      for (let i = 0; i < argv.length; i++) {
        const arg = argv[i]!;
        if (ENDS_OPTIONS.test(arg)) break;
        if (arg.startsWith('--diff=')) values.push(arg.slice('--diff='.length));
        else if (arg === '--diff' && argv[i + 1] !== undefined) values.push(argv[++i]!);
      }
      return values;
    }
    default:
      return [];
  }
}

/**
 * A spec npm fetches from the registry (`name`, `@scope/name`, with a version, range or tag) or reads from the disk (a
 * path starting `.`, `/` or `~`, or `file:`): anything else — git, a URL, `owner/repo`, an alias — is not.
 */
export function registryOrLocalSpec(spec: string): boolean {
  if (/^(?:\.|\/|~|file:)/.test(spec)) return true;
  return /^(?:@[^/@\s:]+\/)?[^/@\s:]+(?:@[^/\s:]*)?$/.test(spec) && !spec.endsWith('.git');
}

/** Reads npm's arguments as `version` of npm does: the command (commands.ts), its positionals and the options. */
export function parseNpmArguments(argv: readonly string[], version?: string): NpmCommand {
  const positionals: string[] = [];
  const optionArgs: string[] = [];
  const options = new Map<string, string | true>();
  const consumedValues: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (ENDS_OPTIONS.test(arg)) {
      // npm's parser (nopt) ends its options at `--` (any run of dashes alone) and drops it: every later word is a
      // positional, the first of them the command when none came before (`npm -- ci` is `npm ci`).
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    optionArgs.push(arg);
    const short = !arg.startsWith('--');
    const name = optionName(arg);
    if (arg.includes('=')) {
      options.set(name, arg.slice(arg.indexOf('=') + 1));
      continue;
    }
    const next = argv[i + 1];
    // npm's parser (nopt) gives a boolean option a following `true`/`false` (NPM_QUIRKS.booleanTakesTrueFalse).
    if (!takesValue(name, short) && !LOGLEVEL_SHORTHANDS.has(name) && (next === 'true' || next === 'false')) {
      options.set(name, next);
      optionArgs.push(next);
      if (positionals.length === 0) consumedValues.push(next);
      i++;
      continue;
    }
    // npm's parser gives a string (or unknown) option the next word unless that word is an option itself.
    if (takesValue(name, short) && next !== undefined && !next.startsWith('-')) {
      options.set(name, next);
      optionArgs.push(next);
      if (positionals.length === 0) consumedValues.push(next);
      i++;
      continue;
    }
    options.set(name, true);
  }
  if (options.has('g')) options.set('global', true);

  const { table, own } = commandTableFor(version);
  let word = positionals[0];
  let canonical = derefCommand(word, table);
  let decided = canonical !== undefined ? decide(canonical, positionals.slice(1), options) : undefined;
  // A word read as an option's value may really be the command: never let that skip the gate or a refusal.
  if (decided === undefined || decided.kind === 'passthrough') {
    for (const value of consumedValues) {
      const hiddenCommand = derefCommand(value, table);
      const hidden = hiddenCommand !== undefined ? decide(hiddenCommand, positionals, options) : undefined;
      if (hidden === undefined || hidden.kind === 'passthrough') continue;
      word = value;
      canonical = hiddenCommand;
      decided = hidden;
      positionals.unshift(value);
      break;
    }
  }
  // npm may read another word as the command than this parser did (an option nopt gives the next word to where this
  // parser does not, or the reverse): a command word that would be gated or refused is never passed on as another one.
  if (decided?.kind !== 'refuse') {
    for (const candidate of commandCandidates(argv)) {
      const other = derefCommand(candidate, table);
      if (other === undefined || other === canonical) continue;
      if (decide(other, [], options).kind === 'passthrough') continue;
      decided = { kind: 'refuse', refusal: `npm may read \`${candidate}\` as the command here (a word after an option that npm can read as taking it or not), not \`${word ?? ''}\`; nothing was run. Write the command first, before any option, or give options their values with \`=\`.` };
      break;
    }
  }
  // Commands that fetch the package specs they are given: npm prepares a git one (its `prepare` and `npm install` in the
  // clone: npm 10 whatever --ignore-scripts says), so only a registry name or a local path goes to npm.
  if (decided?.kind === 'passthrough' && canonical !== undefined) {
    const fetched = fetchedSpecs(canonical, positionals.slice(1), argv).find((spec) => !registryOrLocalSpec(spec));
    if (fetched !== undefined) decided = { kind: 'refuse', refusal: `\`npm ${canonical}\` would fetch \`${fetched}\` (not a registry package or a local path) outside the gate, and npm runs a git repository's \`prepare\` while packing it; nothing was run. Install it in a project with portcullis-npm first.` };
  }
  if (word !== undefined && isPrototypeWord(word)) decided = { kind: 'refuse', refusal: `npm cannot read the command \`${word}\`; nothing was run.` };
  // An npm without a table of its own (a later major, an unknown version): a word the newest table cannot read may be a new command.
  if (decided === undefined && word !== undefined && !own) decided = { kind: 'refuse', refusal: `npm ${version ?? '(version unknown)'} is not one portcullis-npm knows the commands of, and \`${word}\` is no command npm 12 has; nothing was run.` };
  const rest = positionals.slice(1);
  return {
    kind: decided?.kind ?? 'passthrough',
    command: canonical ?? word,
    positionals: canonical === 'audit' ? rest.slice(1) : rest,
    argv: [...argv],
    optionArgs,
    options,
    thenTest: canonical === 'install-test' || canonical === 'install-ci-test',
    ...(decided?.refusal !== undefined ? { refusal: decided.refusal } : {}),
  };
}

/**
 * Whether npm reads the boolean option `name` as on: given bare or as `true`, and not also given as
 * `--no-<name>`. Anything else (`=false`, `=0`, a value npm may read either way) counts as off, so that the
 * wrapper takes its gated path; a setting the wrapper relies on it passes itself, last (`withOwnFlags`).
 */
export function optionOn(cmd: NpmCommand, name: string): boolean {
  const value = cmd.options.get(name);
  return (value === true || value === 'true') && !cmd.options.has(`no-${name}`);
}
