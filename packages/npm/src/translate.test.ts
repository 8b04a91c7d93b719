import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryConfig, PortcullisError } from '@portcullis/core';
import { describe, expect, it } from 'vitest';
import { optionOn, parseNpmArguments, type NpmCommand } from './arguments.js';
import { configEnv, globalByConfiguration, globalInstall, installPaths, linkedStrategy, npmSettings, lockfileIsCurrent, lockfilePackages, lockfileText, withOwnFlags } from './translate.js';

const cmd = (...argv: string[]) => parseNpmArguments(argv);

/** A command with exactly these options (as the parser would have stored them), for values the parser may not produce. */
function withOptions(options: Array<[string, string | true]>): NpmCommand {
  return { kind: 'resolve', command: 'install', positionals: [], argv: ['install'], optionArgs: [], options: new Map(options), thenTest: false };
}

function tree(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'portcullis-npm-translate-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

const npmEnv = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([key]) => key.toLowerCase().startsWith('npm_config_')));

describe('configEnv', () => {
  it('passes registry, userconfig, globalconfig and @scope:registry from the command line as npm_config_*', () => {
    const out = configEnv(
      cmd('install', '--registry=https://r.example/', '--userconfig', '/u/.npmrc', '--globalconfig=/g/npmrc', '--@acme:registry=https://acme.example/'),
      {},
    );
    expect(npmEnv(out)).toEqual({
      npm_config_registry: 'https://r.example/',
      npm_config_userconfig: '/u/.npmrc',
      npm_config_globalconfig: '/g/npmrc',
      'npm_config_@acme:registry': 'https://acme.example/',
    });
  });

  it('passes no other option: not cache, prefix, credentials, a scope key that is not a scope, or any boolean', () => {
    const out = configEnv(
      cmd('install', '--cache=/c', '--prefix', '/p', '--//r.example/:_authToken=secret', '--@a/b:registry=https://x.example/', '--registry-x=https://y.example/', '--save-dev'),
      {},
    );
    expect(npmEnv(out)).toEqual({});
    // An option given without a value is `true` in the parsed command: not a registry.
    expect(npmEnv(configEnv(withOptions([['registry', true], ['userconfig', true], ['@acme:registry', true]]), {}))).toEqual({});
  });

  it('keeps the environment, the command line winning, and leaves the given environment untouched', () => {
    const env = { PATH: '/bin', npm_config_registry: 'https://env.example/', npm_config_cache: '/c' };
    const out = configEnv(cmd('install', '--registry=https://cli.example/'), env);
    expect(out).toEqual({ PATH: '/bin', npm_config_registry: 'https://cli.example/', npm_config_cache: '/c' });
    expect(env.npm_config_registry).toBe('https://env.example/');
    expect(out).not.toBe(env);
  });
});

describe('optionOn', () => {
  it('on only when given bare or as true, and not also as --no-<name>', () => {
    expect(optionOn(cmd('install', '--dry-run'), 'dry-run')).toBe(true);
    expect(optionOn(cmd('install', '--dry-run=true'), 'dry-run')).toBe(true);
    expect(optionOn(cmd('install', '--dry-run', 'true', 'a'), 'dry-run')).toBe(true);
    expect(optionOn(cmd('install'), 'dry-run')).toBe(false);
    expect(optionOn(cmd('install', '--dry-run=false'), 'dry-run')).toBe(false);
    expect(optionOn(cmd('install', '--dry-run', 'false', 'a'), 'dry-run')).toBe(false);
    expect(optionOn(cmd('install', '--dry-run=0'), 'dry-run')).toBe(false);
    expect(optionOn(cmd('install', '--dry-run', '--dry-run=false'), 'dry-run')).toBe(false);
    expect(optionOn(cmd('install', '--dry-run', '--no-dry-run'), 'dry-run')).toBe(false);
    expect(optionOn(cmd('install', '--no-dry-run', '--dry-run'), 'dry-run')).toBe(false);
  });
});

describe('withOwnFlags', () => {
  it("puts the wrapper's flags after the user's arguments, before a `--`", () => {
    expect(withOwnFlags(['install', 'a', '--dry=false'], ['--dry-run'])).toEqual(['install', 'a', '--dry=false', '--dry-run']);
    expect(withOwnFlags(['install', '--', 'a'], ['--ignore-scripts', '--no-audit'])).toEqual(['install', '--ignore-scripts', '--no-audit', '--', 'a']);
    expect(withOwnFlags([], ['--x'])).toEqual(['--x']);
  });
});

describe('globalInstall', () => {
  it('-g, --global, --location=global and --location global are global', () => {
    for (const argv of [['install', '-g', 'a'], ['install', '--global', 'a'], ['install', '--location=global', 'a'], ['--location', 'global', 'install', 'a']]) {
      expect(globalInstall(cmd(...argv), {}), argv.join(' ')).toBe(true);
    }
  });

  it('an abbreviation npm expands to --location (--locat, --locati, --locatio) with global is global; --loca is --local', () => {
    for (const argv of [['install', '--locat=global', 'a'], ['install', '--locati', 'global', 'a'], ['--locatio=global', 'install', 'a']]) {
      expect(globalInstall(cmd(...argv), {}), argv.join(' ')).toBe(true);
    }
    expect(globalInstall(cmd('install', '--loca=global', 'a'), {})).toBe(false);
    expect(globalInstall(cmd('install', '--locat=user', 'a'), {})).toBe(false);
    expect(globalInstall(cmd('install', '--tag=global', 'a'), {})).toBe(false);
  });

  it('a local install, or another location, is not', () => {
    expect(globalInstall(cmd('install', 'a'), {})).toBe(false);
    expect(globalInstall(cmd('install', '--location=user', 'a'), {})).toBe(false);
    expect(globalInstall(cmd('install', '--location=project', 'a'), {})).toBe(false);
  });

  it('npm_config_global from the environment in any case of its name, unless empty or false', () => {
    for (const key of ['npm_config_global', 'NPM_CONFIG_GLOBAL', 'Npm_Config_Global']) {
      expect(globalInstall(cmd('install'), { [key]: 'true' }), key).toBe(true);
      expect(globalInstall(cmd('install'), { [key]: '1' }), key).toBe(true);
      expect(globalInstall(cmd('install'), { [key]: 'false' }), key).toBe(false);
      expect(globalInstall(cmd('install'), { [key]: '' }), key).toBe(false);
    }
    expect(globalInstall(cmd('install'), { npm_config_global: undefined })).toBe(false);
  });

  it('npm_config_location=global from the environment in any case of its name; other locations are not global', () => {
    for (const key of ['npm_config_location', 'NPM_CONFIG_LOCATION', 'npm_Config_LOCATION']) {
      expect(globalInstall(cmd('install'), { [key]: 'global' }), key).toBe(true);
      expect(globalInstall(cmd('install'), { [key]: 'user' }), key).toBe(false);
      expect(globalInstall(cmd('install'), { [key]: '' }), key).toBe(false);
    }
    // Other settings that merely mention global are not a global install.
    expect(globalInstall(cmd('install'), { npm_config_globalconfig: '/etc/npmrc', npm_config_global_style: 'true' })).toBe(false);
  });
});

const INTEGRITY_A = 'sha512-' + 'A'.repeat(86) + '==';
const INTEGRITY_B = 'sha512-' + 'B'.repeat(86) + '==';

describe('lockfilePackages', () => {
  const registryConfig = createRegistryConfig({ defaultRegistry: 'https://mirror.example/npm/', scopes: { '@acme': 'https://acme.example/' } });

  it('reads the package-lock.json in the folder into PackageNodes, registries from the given RegistryConfig', () => {
    const dir = tree({
      'package-lock.json': {
        name: 'app',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'app', version: '1.0.0', dependencies: { a: '^1.0.0', '@acme/b': '^2.0.0' } },
          // npm's own registry URL is fetched from the configured registry (replace-registry-host)
          'node_modules/a': { version: '1.2.3', resolved: 'https://registry.npmjs.org/a/-/a-1.2.3.tgz', integrity: INTEGRITY_A, hasInstallScript: true },
          // no `resolved` (omit-lockfile-registry-resolved): the registry npm is configured with for the name
          'node_modules/@acme/b': { version: '2.0.1', integrity: INTEGRITY_B },
        },
      },
    });
    const { lockfile } = lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig);
    expect(lockfile.kind).toBe('npm');
    expect(lockfile.path).toBe(join(dir, 'package-lock.json'));
    const byName = new Map(lockfile.packages.map((p) => [p.name, p]));
    expect(byName.get('a')).toMatchObject({ name: 'a', version: '1.2.3', source: 'registry', registry: 'https://mirror.example/npm/', integrity: INTEGRITY_A, hasInstallScript: true, paths: ['node_modules/a'] });
    expect(byName.get('@acme/b')).toMatchObject({ name: '@acme/b', version: '2.0.1', source: 'registry', registry: 'https://acme.example/', integrity: INTEGRITY_B });
  });

  it('an npm-shrinkwrap.json wins over package-lock.json on npm 10 and 11; npm 12 reads package-lock.json only', () => {
    const lock = (version: string) => ({ lockfileVersion: 3, packages: { '': { name: 'app' }, 'node_modules/a': { version, integrity: INTEGRITY_A } } });
    const dir = tree({ 'package-lock.json': lock('1.0.0'), 'npm-shrinkwrap.json': lock('9.9.9') });
    for (const npm of ['10.9.9', '11.21.2']) {
      const { lockfile } = lockfilePackages(lockfileText(dir, npm), registryConfig);
      expect(lockfile.path).toBe(join(dir, 'npm-shrinkwrap.json'));
      expect(lockfile.packages.find((p) => p.name === 'a')?.version).toBe('9.9.9');
    }
    for (const npm of ['12.0.0', '12.2.3', '13.0.0']) {
      const { lockfile } = lockfilePackages(lockfileText(dir, npm), registryConfig);
      expect(lockfile.path).toBe(join(dir, 'package-lock.json'));
      expect(lockfile.packages.find((p) => p.name === 'a')?.version).toBe('1.0.0');
    }
    // Only the shrinkwrap: npm 12 has no lockfile there.
    const only = tree({ 'npm-shrinkwrap.json': lock('9.9.9') });
    expect(() => lockfileText(only, '12.2.3')).toThrow(/npm wrote no lockfile/);
    expect(lockfileText(only, '11.21.2').file).toBe(join(only, 'npm-shrinkwrap.json'));
  });

  it('an npm-shrinkwrap.json and an npm of unknown version: PROJECT_AMBIGUOUS, whichever other lockfile there is', () => {
    const lock = { lockfileVersion: 3, packages: { '': { name: 'app' } } };
    for (const files of [{ 'npm-shrinkwrap.json': lock }, { 'npm-shrinkwrap.json': lock, 'package-lock.json': lock }]) {
      const dir = tree(files);
      for (const npm of [undefined, '', 'unknown']) {
        let thrown: unknown;
        try {
          lockfileText(dir, npm);
        } catch (error) {
          thrown = error;
        }
        expect((thrown as PortcullisError).code, String(npm)).toBe('PROJECT_AMBIGUOUS');
      }
    }
    // Without a shrinkwrap the version does not matter.
    expect(lockfileText(tree({ 'package-lock.json': lock }), undefined).file).toMatch(/package-lock\.json$/);
  });

  it('reuses the packages read before only for the same file with the same text, byte for byte', () => {
    const lock = (version: string) => ({ lockfileVersion: 3, packages: { '': { name: 'app' }, 'node_modules/a': { version, integrity: INTEGRITY_A } } });
    const dir = tree({ 'package-lock.json': lock('1.0.0') });
    const first = lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig);
    expect(lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig, first)).toBe(first);
    // npm rewrote it: one more space is another text, read again
    writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock('1.0.0'))} `);
    const respaced = lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig, first);
    expect(respaced).not.toBe(first);
    // the same length, another version
    writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock('2.0.0'))} `);
    expect(lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig, respaced).lockfile.packages.find((p) => p.name === 'a')?.version).toBe('2.0.0');
    // a shrinkwrap appears beside the same package-lock.json text: npm reads the shrinkwrap
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock('1.0.0')));
    const again = lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig);
    writeFileSync(join(dir, 'npm-shrinkwrap.json'), JSON.stringify(lock('1.0.0')));
    const shrinkwrap = lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig, again);
    expect(shrinkwrap).not.toBe(again);
    expect(shrinkwrap.lockfile.path).toBe(join(dir, 'npm-shrinkwrap.json'));
  });

  it('no lockfile: PortcullisError LOCKFILE_NOT_FOUND naming the folder', () => {
    const dir = tree({ 'package.json': { name: 'app' } });
    let thrown: unknown;
    try {
      lockfilePackages(lockfileText(dir, '11.21.2'), registryConfig);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PortcullisError);
    expect((thrown as PortcullisError).code).toBe('LOCKFILE_NOT_FOUND');
    expect((thrown as PortcullisError).message).toContain(dir);
  });
});

describe('installPaths', () => {
  const registryConfig = createRegistryConfig({});

  it('every install path of every package the lockfile lists (workspaces, links, nested copies), without translating it', () => {
    const dir = tree({
      'package-lock.json': {
        lockfileVersion: 3,
        packages: {
          '': { name: 'app', workspaces: ['packages/*'] },
          'packages/ws': { name: 'ws', version: '1.0.0' },
          'node_modules/ws': { resolved: 'packages/ws', link: true },
          'node_modules/a': { version: '1.0.0', integrity: INTEGRITY_A },
          'node_modules/a/node_modules/b': { version: '2.0.0', integrity: INTEGRITY_B },
          'packages/ws/node_modules/b': { version: '3.0.0', integrity: INTEGRITY_B },
        },
      },
    });
    const text = lockfileText(dir, '11.21.2');
    const paths = new Set(installPaths(text));
    const read = lockfilePackages(text, registryConfig).lockfile.packages.flatMap((p) => p.paths);
    expect(read.length).toBeGreaterThanOrEqual(4);
    expect(read.filter((path) => !paths.has(path))).toEqual([]);
  });

  it('a lockfile without `packages` (v1) or text that does not parse: none (nothing is remembered)', () => {
    expect(installPaths({ file: '/p/package-lock.json', text: JSON.stringify({ lockfileVersion: 1, dependencies: {} }) })).toBeUndefined();
    expect(installPaths({ file: '/p/package-lock.json', text: '{' })).toBeUndefined();
    expect(installPaths({ file: '/p/package-lock.json', text: JSON.stringify({ packages: ['node_modules/a'] }) })).toBeUndefined();
  });
});

describe('lockfileIsCurrent', () => {
  const manifest = { name: 'app', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { d: '~3.0.0' } };
  const installed = {
    'node_modules/a': { version: '1.2.3', resolved: 'https://registry.npmjs.org/a/-/a-1.2.3.tgz', integrity: INTEGRITY_A },
    'node_modules/d': { version: '3.0.4', resolved: 'https://registry.npmjs.org/d/-/d-3.0.4.tgz', integrity: INTEGRITY_B, dev: true },
  };
  const lock = { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { d: '~3.0.0' } }, ...installed } };
  const hidden = { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: installed };
  const project = (over: Record<string, unknown> = {}) =>
    tree(Object.fromEntries(Object.entries({ 'package.json': manifest, 'package-lock.json': lock, 'node_modules/.package-lock.json': hidden, ...over }).filter(([, v]) => v !== undefined)));

  it('a bare install whose hidden lockfile lists what the lockfile does, and whose package.json asks what the root entry records', () => {
    const dir = project();
    expect(lockfileIsCurrent(dir, cmd('install'))).toBe(true);
    expect(lockfileIsCurrent(dir, cmd('i'))).toBe(true);
  });

  it("npm's own layout (two-space indent, a final newline) is read as text; any other layout is parsed: the same answers", () => {
    const npmLayout = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
    for (const layout of [npmLayout, (value: unknown) => JSON.stringify(value), (value: unknown) => JSON.stringify(value, null, '\t')]) {
      expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': layout(hidden) }), cmd('install'))).toBe(true);
      // The same entries in another order: the same packages.
      const reordered = { ...hidden, packages: { 'node_modules/d': installed['node_modules/d'], 'node_modules/a': installed['node_modules/a'] } };
      expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': layout(reordered) }), cmd('install'))).toBe(true);
      const other = { ...hidden, packages: { ...installed, 'node_modules/a': { ...installed['node_modules/a'], integrity: INTEGRITY_B } } };
      expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': layout(other) }), cmd('install'))).toBe(false);
      expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': layout({ ...hidden, packages: { ...installed, 'node_modules/extra': { version: '1.0.0' } } }) }), cmd('install'))).toBe(false);
      expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': layout({ ...hidden, lockfileVersion: 2 }) }), cmd('install'))).toBe(false);
      // The lockfile's root entry is not an installed package: a hidden lockfile listing it differs.
      expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': layout(lock) }), cmd('install'))).toBe(false);
    }
    // A duplicate key: the text is not npm's serialisation, and the data parsed from it (the last one wins) is compared.
    const text = npmLayout(hidden);
    const duplicated = text.replace('"packages": {', `"packages": {\n    "node_modules/a": ${JSON.stringify({ ...installed['node_modules/a'], version: '9.9.9' })},`);
    expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': duplicated }), cmd('install'))).toBe(true);
    const duplicatedLast = text.replace(/\n  \}\n\}\n$/, `,\n    "node_modules/a": ${JSON.stringify({ ...installed['node_modules/a'], version: '9.9.9' })}\n  }\n}\n`);
    expect(duplicatedLast).not.toBe(text);
    expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': duplicatedLast }), cmd('install'))).toBe(false);
  });

  it('any option, any package, or another command: not current', () => {
    const dir = project();
    expect(lockfileIsCurrent(dir, cmd('install', '--no-audit'))).toBe(false);
    expect(lockfileIsCurrent(dir, cmd('install', '--registry=https://r.example/'))).toBe(false);
    expect(lockfileIsCurrent(dir, cmd('install', 'a'))).toBe(false);
    expect(lockfileIsCurrent(dir, cmd('update'))).toBe(false);
    expect(lockfileIsCurrent(dir, cmd('dedupe'))).toBe(false);
    expect(lockfileIsCurrent(dir, cmd('install-test'))).toBe(false);
  });

  it('workspaces, overrides or bundled dependencies in package.json: not current', () => {
    for (const extra of [{ workspaces: ['packages/*'] }, { overrides: { a: '1.2.3' } }, { bundleDependencies: ['a'] }, { bundledDependencies: ['a'] }]) {
      expect(lockfileIsCurrent(project({ 'package.json': { ...manifest, ...extra } }), cmd('install')), JSON.stringify(extra)).toBe(false);
    }
  });

  it('an npm-shrinkwrap.json: not current', () => {
    expect(lockfileIsCurrent(project({ 'npm-shrinkwrap.json': lock }), cmd('install'))).toBe(false);
  });

  it('a hidden lockfile that differs from the lockfile, or none: not current', () => {
    const other = { ...installed, 'node_modules/a': { ...installed['node_modules/a'], version: '1.2.4' } };
    expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': { ...hidden, packages: other } }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': { ...hidden, packages: { 'node_modules/a': installed['node_modules/a'] } } }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': { ...hidden, lockfileVersion: 2 } }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'node_modules/.package-lock.json': undefined }), cmd('install'))).toBe(false);
  });

  it('a package.json that asks for something else than the root entry records: not current', () => {
    expect(lockfileIsCurrent(project({ 'package.json': { ...manifest, dependencies: { a: '^2.0.0' } } }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'package.json': { ...manifest, optionalDependencies: { o: '1.0.0' } } }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'package.json': { ...manifest, peerDependencies: { p: '*' } } }), cmd('install'))).toBe(false);
    const { devDependencies: _dropped, ...withoutDev } = manifest;
    expect(lockfileIsCurrent(project({ 'package.json': withoutDev }), cmd('install'))).toBe(false);
  });

  it('an old lockfile version, no packages section or no root entry: not current', () => {
    expect(lockfileIsCurrent(project({ 'package-lock.json': { ...lock, lockfileVersion: 1 }, 'node_modules/.package-lock.json': { ...hidden, lockfileVersion: 1 } }), cmd('install'))).toBe(false);
    const { packages: _p, ...noPackages } = lock;
    expect(lockfileIsCurrent(project({ 'package-lock.json': noPackages }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'package-lock.json': { ...lock, packages: installed } }), cmd('install'))).toBe(false);
  });

  it('an unreadable or missing package.json, package-lock.json or hidden lockfile: not current (never throws)', () => {
    for (const file of ['package.json', 'package-lock.json', 'node_modules/.package-lock.json']) {
      expect(lockfileIsCurrent(project({ [file]: '{ not json' }), cmd('install')), file).toBe(false);
      expect(lockfileIsCurrent(project({ [file]: 'null' }), cmd('install')), `${file}: null`).toBe(false);
    }
    expect(lockfileIsCurrent(project({ 'package.json': undefined }), cmd('install'))).toBe(false);
    expect(lockfileIsCurrent(project({ 'package-lock.json': undefined }), cmd('install'))).toBe(false);
  });
});

describe('globalByConfiguration: a global install set in npm\'s configuration', () => {
  const cmd = (...argv: string[]) => parseNpmArguments(argv, '11.21.2');
  it('is found in the project .npmrc (global or location), with where it was set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npm-global-'));
    const env = { HOME: dir, npm_config_userconfig: join(dir, 'none') };
    writeFileSync(join(dir, '.npmrc'), 'global=true\n');
    const { globalFrom } = await npmSettings(dir, cmd('install'), env);
    expect(globalByConfiguration(cmd('install'), globalFrom)).toBe(`global=true in ${join(dir, '.npmrc')}`);
    writeFileSync(join(dir, '.npmrc'), 'location=global\n');
    expect(globalByConfiguration(cmd('ci'), (await npmSettings(dir, cmd('ci'), env)).globalFrom)).toBe(`location=global in ${join(dir, '.npmrc')}`);
    writeFileSync(join(dir, '.npmrc'), 'global=false\nlocation=user\n');
    expect(globalByConfiguration(cmd('install'), (await npmSettings(dir, cmd('install'), env)).globalFrom)).toBeUndefined();
  });
  it('the command line beats it, as it beats every .npmrc', () => {
    const global = { global: 'global=true in /p/.npmrc', location: undefined };
    const location = { global: undefined, location: 'location=global in /p/.npmrc' };
    expect(globalByConfiguration(cmd('install', '--no-global'), global)).toBeUndefined();
    expect(globalByConfiguration(cmd('install', '--global=false'), global)).toBeUndefined();
    expect(globalByConfiguration(cmd('install', '--location=user'), global)).toBe(global.global);
    expect(globalByConfiguration(cmd('install', '--location=user'), location)).toBeUndefined();
    expect(globalByConfiguration(cmd('install', '--location=global'), location)).toBe(location.location);
    expect(globalByConfiguration(cmd('install', '--no-global'), location)).toBe(location.location);
  });
});

describe('linkedStrategy: npm installing with install-strategy=linked', () => {
  const cmd = (...argv: string[]) => parseNpmArguments(argv, '11.21.2');
  it('from npm\'s configuration, unless the command line says otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-npm-linked-'));
    writeFileSync(join(dir, '.npmrc'), 'install-strategy=linked\n');
    const { linkedFrom } = await npmSettings(dir, cmd('ci'), { HOME: dir, npm_config_userconfig: join(dir, 'none') });
    expect(linkedStrategy(cmd('ci'), linkedFrom)).toBe(`install-strategy=linked in ${join(dir, '.npmrc')}`);
    expect(linkedStrategy(cmd('ci', '--install-strategy=hoisted'), linkedFrom)).toBeUndefined();
    expect(linkedStrategy(cmd('ci', '--install-strategy', 'linked'), undefined)).toBe('install-strategy=linked on the command line');
    expect(linkedStrategy(cmd('ci'), undefined)).toBeUndefined();
  });
});
