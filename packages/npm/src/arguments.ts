/**
 * npm's command line, read just far enough to know which command runs and with which package
 * arguments. Everything the user typed is passed on to npm unchanged.
 */

/** What the wrapper does with a command. */
export type CommandKind =
  /** Resolves new packages: `install`/`add` (with or without packages), `update`, `dedupe`, `audit fix`. */
  | 'resolve'
  /** Installs exactly the existing lockfile. */
  | 'ci'
  /** Runs install scripts of what is installed. */
  | 'rebuild'
  /** Installs a package into npm's exec cache and runs its bin. */
  | 'exec'
  /** Everything else: npm runs as if the wrapper were not there. */
  | 'passthrough';

export interface NpmCommand {
  kind: CommandKind;
  /** npm's canonical name (`install`, `ci`, `update`, …), or the word as typed for passthrough. */
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
}

const ALIASES: Record<string, string> = {};
function alias(name: string, ...others: string[]): void {
  for (const other of [name, ...others]) ALIASES[other] = name;
}
alias('install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add');
alias('ci', 'clean-install', 'ic', 'install-clean', 'isntall-clean');
alias('install-test', 'it');
alias('install-ci-test', 'cit', 'clean-install-test', 'sit');
alias('update', 'up', 'upgrade', 'udpate');
alias('dedupe', 'ddp');
alias('rebuild', 'rb');
alias('exec', 'x');
alias('audit');

const KINDS: Record<string, CommandKind> = {
  install: 'resolve',
  'install-test': 'resolve',
  update: 'resolve',
  dedupe: 'resolve',
  ci: 'ci',
  'install-ci-test': 'ci',
  rebuild: 'rebuild',
  exec: 'exec',
};

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

/** Reads npm's arguments: the command, its positionals and the options. */
export function parseNpmArguments(argv: readonly string[]): NpmCommand {
  const positionals: string[] = [];
  const optionArgs: string[] = [];
  const options = new Map<string, string | true>();
  const consumedValues: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      // npm exec: everything after `--` belongs to the command being run.
      positionals.push(...argv.slice(i));
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

  let word = positionals[0];
  let canonical = word !== undefined && Object.hasOwn(ALIASES, word) ? ALIASES[word] : undefined;
  // A word read as an option's value may really be the command: never let that skip the gate.
  if (canonical === undefined || KINDS[canonical] === undefined) {
    const hidden = consumedValues.find((v) => Object.hasOwn(ALIASES, v) && KINDS[ALIASES[v]!] !== undefined);
    if (hidden !== undefined) {
      word = hidden;
      canonical = ALIASES[hidden];
      positionals.unshift(hidden);
    }
  }
  const rest = positionals.slice(1);
  let kind: CommandKind = canonical !== undefined ? (KINDS[canonical] ?? 'passthrough') : 'passthrough';
  if (canonical === 'audit') kind = rest[0] === 'fix' ? 'resolve' : 'passthrough';
  return {
    kind,
    command: canonical ?? word,
    positionals: canonical === 'audit' ? rest.slice(1) : rest,
    argv: [...argv],
    optionArgs,
    options,
    thenTest: canonical === 'install-test' || canonical === 'install-ci-test',
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
