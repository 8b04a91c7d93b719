/**
 * npm's command words, read as the npm being run reads them (its lib/utils/cmd-list.js `deref`): camelCase to
 * kebab-case, then an exact command, then an alias, then any unique prefix of a command or alias (followed through the
 * aliases). The lists differ between npm majors; each table is npm's own, pinned by
 * packages/e2e/test/npm-command-words.test.ts against the real cmd-list.js of every pinned npm. Then what the wrapper
 * does with each canonical command: gate it, refuse it, or pass it to npm (only commands known to install nothing and
 * to run no dependency code).
 */

/** One npm major's command list and aliases, as its cmd-list.js holds them. */
export interface NpmCommandTable {
  /** The npm release the lists were copied from. */
  measured: string;
  commands: readonly string[];
  aliases: Readonly<Record<string, string>>;
}

/** npm 10.9.9. */
const NPM_10: NpmCommandTable = {
  measured: '10.9.9',
  commands: [
    'access', 'adduser', 'audit', 'bugs', 'cache', 'ci', 'completion', 'config', 'dedupe', 'deprecate', 'diff',
    'dist-tag', 'docs', 'doctor', 'edit', 'exec', 'explain', 'explore', 'find-dupes', 'fund', 'get', 'help',
    'help-search', 'hook', 'init', 'install', 'install-ci-test', 'install-test', 'link', 'll', 'login', 'logout', 'ls',
    'org', 'outdated', 'owner', 'pack', 'ping', 'pkg', 'prefix', 'profile', 'prune', 'publish', 'query', 'rebuild',
    'repo', 'restart', 'root', 'run-script', 'sbom', 'search', 'set', 'shrinkwrap', 'star', 'stars', 'start', 'stop',
    'team', 'test', 'token', 'uninstall', 'unpublish', 'unstar', 'update', 'version', 'view', 'whoami',
  ],
  aliases: {
    author: 'owner', home: 'docs', issues: 'bugs', info: 'view', show: 'view', find: 'search', add: 'install',
    unlink: 'uninstall', remove: 'uninstall', rm: 'uninstall', r: 'uninstall', un: 'uninstall', rb: 'rebuild',
    list: 'ls', ln: 'link', create: 'init', i: 'install', it: 'install-test', cit: 'install-ci-test', up: 'update',
    c: 'config', s: 'search', se: 'search', tst: 'test', t: 'test', ddp: 'dedupe', v: 'view', run: 'run-script',
    'clean-install': 'ci', 'clean-install-test': 'install-ci-test', x: 'exec', why: 'explain', la: 'll',
    verison: 'version', ic: 'ci', innit: 'init', in: 'install', ins: 'install', inst: 'install', insta: 'install',
    instal: 'install', isnt: 'install', isnta: 'install', isntal: 'install', isntall: 'install', 'install-clean': 'ci',
    'isntall-clean': 'ci', hlep: 'help', 'dist-tags': 'dist-tag', upgrade: 'update', udpate: 'update',
    rum: 'run-script', sit: 'install-ci-test', urn: 'run-script', ogr: 'org', 'add-user': 'adduser',
  },
};

/** npm 11.21.2. */
const NPM_11: NpmCommandTable = {
  measured: '11.21.2',
  commands: [
    'access', 'adduser', 'approve-scripts', 'audit', 'bugs', 'cache', 'ci', 'completion', 'config', 'dedupe',
    'deny-scripts', 'deprecate', 'diff', 'dist-tag', 'docs', 'doctor', 'edit', 'exec', 'explain', 'explore',
    'find-dupes', 'fund', 'get', 'help', 'help-search', 'init', 'install', 'install-ci-test', 'install-scripts',
    'install-test', 'link', 'll', 'login', 'logout', 'ls', 'org', 'outdated', 'owner', 'pack', 'ping', 'pkg', 'prefix',
    'profile', 'prune', 'publish', 'query', 'rebuild', 'repo', 'restart', 'root', 'run', 'sbom', 'search', 'set',
    'shrinkwrap', 'stage', 'star', 'stars', 'start', 'stop', 'team', 'test', 'token', 'trust', 'undeprecate',
    'uninstall', 'unpublish', 'unstar', 'update', 'version', 'view', 'whoami',
  ],
  aliases: {
    author: 'owner', home: 'docs', issues: 'bugs', info: 'view', show: 'view', find: 'search', add: 'install',
    unlink: 'uninstall', remove: 'uninstall', rm: 'uninstall', r: 'uninstall', un: 'uninstall', rb: 'rebuild',
    list: 'ls', ln: 'link', create: 'init', i: 'install', it: 'install-test', cit: 'install-ci-test', u: 'update',
    up: 'update', c: 'config', s: 'search', se: 'search', tst: 'test', t: 'test', ddp: 'dedupe', v: 'view',
    'run-script': 'run', 'clean-install': 'ci', 'clean-install-test': 'install-ci-test', x: 'exec', why: 'explain',
    la: 'll', verison: 'version', ic: 'ci', innit: 'init', in: 'install', ins: 'install', inst: 'install',
    insta: 'install', instal: 'install', isnt: 'install', isnta: 'install', isntal: 'install', isntall: 'install',
    'install-clean': 'ci', 'isntall-clean': 'ci', hlep: 'help', 'dist-tags': 'dist-tag', upgrade: 'update',
    udpate: 'update', rum: 'run', sit: 'install-ci-test', urn: 'run', ogr: 'org', 'add-user': 'adduser',
  },
};

/** npm 12.2.3. */
const NPM_12: NpmCommandTable = {
  measured: '12.2.3',
  commands: [
    'access', 'approve-scripts', 'audit', 'bugs', 'cache', 'ci', 'completion', 'config', 'dedupe', 'deny-scripts',
    'deprecate', 'diff', 'dist-tag', 'docs', 'doctor', 'edit', 'exec', 'explain', 'explore', 'find-dupes', 'fund',
    'get', 'help', 'help-search', 'init', 'install', 'install-ci-test', 'install-scripts', 'install-test', 'link',
    'll', 'login', 'logout', 'ls', 'org', 'outdated', 'owner', 'pack', 'patch', 'ping', 'pkg', 'prefix', 'profile',
    'prune', 'publish', 'query', 'rebuild', 'repo', 'restart', 'root', 'run', 'sbom', 'search', 'set', 'stage',
    'start', 'stop', 'team', 'test', 'token', 'trust', 'undeprecate', 'uninstall', 'unpublish', 'update', 'version',
    'view', 'whoami',
  ],
  aliases: {
    author: 'owner', home: 'docs', issues: 'bugs', info: 'view', show: 'view', find: 'search', add: 'install',
    unlink: 'uninstall', remove: 'uninstall', rm: 'uninstall', r: 'uninstall', un: 'uninstall', rb: 'rebuild',
    list: 'ls', ln: 'link', create: 'init', i: 'install', it: 'install-test', cit: 'install-ci-test', u: 'update',
    up: 'update', c: 'config', s: 'search', se: 'search', tst: 'test', t: 'test', ddp: 'dedupe', v: 'view',
    'run-script': 'run', 'clean-install': 'ci', 'clean-install-test': 'install-ci-test', x: 'exec', why: 'explain',
    la: 'll', verison: 'version', ic: 'ci', innit: 'init', in: 'install', ins: 'install', inst: 'install',
    insta: 'install', instal: 'install', isnt: 'install', isnta: 'install', isntal: 'install', isntall: 'install',
    'install-clean': 'ci', 'isntall-clean': 'ci', hlep: 'help', 'dist-tags': 'dist-tag', upgrade: 'update',
    udpate: 'update', rum: 'run', sit: 'install-ci-test', urn: 'run', ogr: 'org',
  },
};


/** The tables by npm major; an npm with no table (a later major, an unknown version) is read with the newest. */
export const NPM_COMMAND_TABLES: Readonly<Record<number, NpmCommandTable>> = { 10: NPM_10, 11: NPM_11, 12: NPM_12 };
const NEWEST = NPM_12;

/** The table for this npm, and whether it is that npm's own (false: a major without a table, or an unknown version). */
export function commandTableFor(version: string | undefined): { table: NpmCommandTable; own: boolean } {
  const major = version === undefined ? Number.NaN : Number.parseInt(version, 10);
  const table = Object.hasOwn(NPM_COMMAND_TABLES, major) ? NPM_COMMAND_TABLES[major] : undefined;
  return table !== undefined ? { table, own: true } : { table: NEWEST, own: false };
}

/** Sets of each table, built once on first use. */
const sets = new WeakMap<NpmCommandTable, Set<string>>();
function commandSet(table: NpmCommandTable): Set<string> {
  let set = sets.get(table);
  if (set === undefined) sets.set(table, (set = new Set(table.commands)));
  return set;
}

/**
 * The canonical command npm runs for `word` (cmd-list.js `deref`), or undefined when npm knows no such command. Cheap
 * for an exact command or alias; only another word is matched against every prefix.
 */
export function derefCommand(word: string | undefined, table: NpmCommandTable): string | undefined {
  if (word === undefined || word === '') return undefined;
  const c = /[A-Z]/.test(word) ? word.replace(/([A-Z])/g, (m) => `-${m.toLowerCase()}`) : word;
  if (commandSet(table).has(c)) return c;
  if (Object.hasOwn(table.aliases, c)) return table.aliases[c];
  // abbrev(): a word that begins exactly one of the commands and alias names stands for it.
  let match: string | undefined;
  for (const name of [...table.commands, ...Object.keys(table.aliases)]) {
    if (!name.startsWith(c) || name === match) continue;
    if (match !== undefined) return undefined;
    match = name;
  }
  let seen = 0;
  while (match !== undefined && Object.hasOwn(table.aliases, match) && seen++ < 8) match = table.aliases[match];
  return match;
}

/** Words npm's `deref` looks up on a plain object, where a name of Object.prototype's answers something that is no command: npm then fails, the wrapper refuses. */
export function isPrototypeWord(word: string): boolean {
  const c = /[A-Z]/.test(word) ? word.replace(/([A-Z])/g, (m) => `-${m.toLowerCase()}`) : word;
  return c in Object.prototype || c === '__proto__';
}
