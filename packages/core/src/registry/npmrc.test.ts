import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { RegistryCredentials, createRegistryConfig } from './config.js';
import { expandEnv, loadNpmConfig, loadNpmSettings, npmCacache, npmConfigFromEnv, parseNpmrc, registryConfigFromNpmrc } from './npmrc.js';
import { redactUrl } from '../registry-url.js';

describe('parseNpmrc', () => {
  it('reads key=value lines, skips comments and sections, and strips quotes and inline comments', () => {
    const values = parseNpmrc(
      [
        '; a comment',
        '# another',
        '  registry = https://npm.example.test/  ',
        '@corp:registry="https://corp.example.test/npm/"',
        "quoted='a;b'",
        'inline=value ; trailing comment',
        'escaped=a\\;b',
        'flag',
        '[section]',
        'registry=https://ignored.example.test/',
      ].join('\r\n'),
    );
    expect(Object.fromEntries(values)).toEqual({
      registry: 'https://npm.example.test/',
      '@corp:registry': 'https://corp.example.test/npm/',
      quoted: 'a;b',
      inline: 'value',
      escaped: 'a;b',
      flag: 'true',
    });
  });

  it('lets later lines win', () => {
    expect(parseNpmrc('registry=https://a.test/\nregistry=https://b.test/').get('registry')).toBe('https://b.test/');
  });

  it('expands ${ENV} in keys and values from the given env only', () => {
    const values = parseNpmrc('//${HOST}/:_authToken=${TOKEN}\nother=${UNSET}\noptional=${UNSET?}', { HOST: 'h.test', TOKEN: 's3cret' });
    expect(values.get('//h.test/:_authToken')).toBe('s3cret');
    expect(values.get('other')).toBe('${UNSET}');
    expect(values.get('optional')).toBe('');
  });

  it('treats a key named __proto__ as a plain key', () => {
    const values = parseNpmrc('__proto__=x\nconstructor=y');
    expect(values.get('__proto__')).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('expandEnv', () => {
  it('honours backslash escapes as npm does', () => {
    expect(expandEnv('\\${A}', { A: '1' })).toBe('${A}');
    expect(expandEnv('\\\\${A}', { A: '1' })).toBe('\\1');
    expect(expandEnv('x${A}y${B}', { A: '1', B: '2' })).toBe('x1y2');
  });

  it('does not read inherited properties of the env object', () => {
    expect(expandEnv('${toString}', {})).toBe('${toString}');
  });
});

describe('npmConfigFromEnv', () => {
  it('maps npm_config_* like npm, lower case winning over upper case', () => {
    const values = npmConfigFromEnv({
      NPM_CONFIG_REGISTRY: 'https://upper.test/',
      npm_config_registry: 'https://lower.test/',
      npm_config_fetch_timeout: '1',
      'npm_config_//h.test/:_authToken': 'tok',
      npm_config_empty: '',
      OTHER: 'x',
    });
    expect(Object.fromEntries(values)).toEqual({
      registry: 'https://lower.test/',
      'fetch-timeout': '1',
      '//h.test/:_authToken': 'tok',
    });
  });
});

describe('registryConfigFromNpmrc', () => {
  const config = registryConfigFromNpmrc(
    parseNpmrc(
      [
        'registry=https://npm.example.test/',
        '@corp:registry=https://corp.example.test/npm/',
        '//npm.example.test/:_authToken=root-token',
        '//corp.example.test/npm/:_authToken=corp-token',
        '//corp.example.test/npm/private/:_authToken=private-token',
        `//basic.example.test/:_auth=${Buffer.from('user:pa55word').toString('base64')}`,
        '//userpass.example.test/:username=alice',
        `//userpass.example.test/:_password=${Buffer.from('hunter22').toString('base64')}`,
        '_authToken=unscoped-token',
      ].join('\n'),
    ),
  );

  it('uses the scope registry first, else the default', () => {
    expect(config.defaultRegistry).toBe('https://npm.example.test/');
    expect(config.registryFor('@corp/lib')).toBe('https://corp.example.test/npm/');
    expect(config.registryFor('@other/lib')).toBe('https://npm.example.test/');
    expect(config.registryFor('plain')).toBe('https://npm.example.test/');
    expect(config.registryFor('@corp')).toBe('https://npm.example.test/');
  });

  it('picks the longest //host/path/ prefix of the request URL', () => {
    expect(config.authFor('https://corp.example.test/npm/@corp%2flib')?.authorization()).toBe('Bearer corp-token');
    expect(config.authFor('https://corp.example.test/npm/private/pkg')?.authorization()).toBe('Bearer private-token');
    expect(config.authFor('https://npm.example.test/pkg')?.authorization()).toBe('Bearer root-token');
    expect(config.authFor('https://NPM.EXAMPLE.TEST/a/b/c')?.authorization()).toBe('Bearer root-token');
  });

  it('never hands credentials to another host, port or a path outside the prefix', () => {
    expect(config.authFor('https://corp.example.test/other/pkg')).toBeNull();
    expect(config.authFor('https://evil.example.test/npm/pkg')).toBeNull();
    expect(config.authFor('https://npm.example.test.evil.test/pkg')).toBeNull();
    expect(config.authFor('https://npm.example.test:8443/pkg')).toBeNull();
    expect(config.authFor('https://evil.test/npm.example.test/pkg')).toBeNull();
    expect(config.authFor('not a url')).toBeNull();
  });

  it('ignores unscoped _authToken, which would follow the registry setting to any host', () => {
    const unscoped = registryConfigFromNpmrc(parseNpmrc('registry=https://a.test/\n_authToken=t0ken'));
    expect(unscoped.authFor('https://a.test/pkg')).toBeNull();
  });

  it('builds basic credentials from _auth and from username + base64 _password', () => {
    expect(config.authFor('https://basic.example.test/x')?.authorization()).toBe(`Basic ${Buffer.from('user:pa55word').toString('base64')}`);
    expect(config.authFor('https://userpass.example.test/x')?.authorization()).toBe(`Basic ${Buffer.from('alice:hunter22').toString('base64')}`);
  });

  it('prefers a token over _auth for the same prefix', () => {
    const both = registryConfigFromNpmrc(parseNpmrc(`//h.test/:_auth=${Buffer.from('u:p').toString('base64')}\n//h.test/:_authToken=tok1`));
    expect(both.authFor('https://h.test/x')?.authorization()).toBe('Bearer tok1');
  });

  it('never prints a secret when the config is logged or serialized', () => {
    const printed = `${inspect(config, { depth: 5 })} ${JSON.stringify(config)}`;
    for (const secret of ['root-token', 'corp-token', 'private-token', 'hunter22', 'pa55word', Buffer.from('user:pa55word').toString('base64')]) {
      expect(printed).not.toContain(secret);
    }
    expect(printed).toContain('***');
  });

  it('redacts configured secrets and URL credentials from any text', () => {
    expect(config.redact('failed with corp-token at https://user:pw@h.test/x?token=abc')).toBe('failed with *** at https://***@h.test/x?token=***');
  });

  it('names the file of a bad registry URL without echoing credentials', () => {
    const bad = parseNpmrc('registry=ftp://user:s3cretpw@h.test/');
    let error: unknown;
    try {
      registryConfigFromNpmrc(bad, () => '/project/.npmrc');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PortcullisError);
    expect((error as PortcullisError).code).toBe('USAGE');
    expect((error as Error).message).toContain('/project/.npmrc');
    expect((error as Error).message).not.toContain('s3cretpw');
  });
});

describe('createRegistryConfig', () => {
  it('defaults to the npm registry and normalizes URLs', () => {
    const config = createRegistryConfig({ scopes: { corp: 'HTTPS://Corp.Example.Test/npm' } });
    expect(config.defaultRegistry).toBe(NPM_REGISTRY_URL);
    expect(config.registryFor('@corp/x')).toBe('https://corp.example.test/npm/');
  });

  it('accepts full URLs as credential keys', () => {
    const config = createRegistryConfig({ auth: { 'https://h.test:443/npm': RegistryCredentials.bearer('abcd') } });
    expect(config.authFor('https://h.test/npm/pkg')?.authorization()).toBe('Bearer abcd');
    expect(Object.keys(config.auth)).toEqual(['//h.test/npm/']);
  });
});

describe('redactUrl', () => {
  it('masks user-info and query values', () => {
    expect(redactUrl('https://user:secret@h.test/path?token=abc&x=1')).toBe('https://***@h.test/path?token=***&x=***');
    expect(redactUrl('https://h.test/path')).toBe('https://h.test/path');
  });
});

describe('loadNpmConfig', () => {
  let dir: string;
  let project: string;
  let home: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-npmrc-'));
    project = join(dir, 'project');
    home = join(dir, 'home');
    await mkdir(project);
    await mkdir(home);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('layers env over project over user', async () => {
    await writeFile(join(home, '.npmrc'), 'registry=https://user.test/\n@u:registry=https://user-scope.test/\n//user.test/:_authToken=${USER_TOKEN}\n');
    await writeFile(join(project, '.npmrc'), 'registry=https://project.test/\n@p:registry=https://project-scope.test/\n');
    const env = { USER_TOKEN: 'from-env-var' };

    const fromFiles = await loadNpmConfig({ projectDir: project, homeDir: home, env });
    expect(fromFiles.defaultRegistry).toBe('https://project.test/');
    expect(fromFiles.registryFor('@u/x')).toBe('https://user-scope.test/');
    expect(fromFiles.registryFor('@p/x')).toBe('https://project-scope.test/');
    expect(fromFiles.authFor('https://user.test/x')?.authorization()).toBe('Bearer from-env-var');

    const withEnv = await loadNpmConfig({ projectDir: project, homeDir: home, env: { ...env, NPM_CONFIG_REGISTRY: 'https://env.test/' } });
    expect(withEnv.defaultRegistry).toBe('https://env.test/');
  });

  it('reads the user config from npm_config_userconfig instead of ~/.npmrc', async () => {
    await writeFile(join(home, '.npmrc'), 'registry=https://home.test/\n');
    await writeFile(join(dir, 'custom-npmrc'), 'registry=https://custom.test/\n');
    const config = await loadNpmConfig({ projectDir: project, homeDir: home, env: { npm_config_userconfig: join(dir, 'custom-npmrc') } });
    expect(config.defaultRegistry).toBe('https://custom.test/');
  });

  it('reads a global config below the user config', async () => {
    await writeFile(join(dir, 'global-npmrc'), 'registry=https://global.test/\n@g:registry=https://g.test/\n');
    await writeFile(join(home, '.npmrc'), '@g:registry=https://user-g.test/\n');
    const config = await loadNpmConfig({ projectDir: project, homeDir: home, env: {}, globalConfigFile: join(dir, 'global-npmrc') });
    expect(config.defaultRegistry).toBe('https://global.test/');
    expect(config.registryFor('@g/x')).toBe('https://user-g.test/');
  });

  it('defaults to the npm registry when nothing is configured', async () => {
    const config = await loadNpmConfig({ projectDir: project, homeDir: home, env: {} });
    expect(config.defaultRegistry).toBe(NPM_REGISTRY_URL);
    expect(Object.keys(config.auth)).toEqual([]);
  });

  it('reports a bad registry URL with the file it came from', async () => {
    await writeFile(join(project, '.npmrc'), 'registry=not a url\n');
    await expect(loadNpmConfig({ projectDir: project, homeDir: home, env: {} })).rejects.toThrow(join(project, '.npmrc'));
  });
});

describe("npm's cache folder", () => {
  it('is the `cache` setting (~ expanded, relative to the project), else npm’s default, with _cacache inside', () => {
    expect(npmCacache(new Map([['cache', '/var/npm']]), '/p', {}, '/home/u', 'linux')).toBe(join('/var/npm', '_cacache'));
    expect(npmCacache(new Map([['cache', '~/c']]), '/p', {}, '/home/u', 'linux')).toBe(join('/home/u/c', '_cacache'));
    expect(npmCacache(new Map([['cache', 'rel']]), '/p', {}, '/home/u', 'linux')).toBe(join('/p/rel', '_cacache'));
    expect(npmCacache(new Map(), '/p', {}, '/home/u', 'linux')).toBe(join('/home/u/.npm', '_cacache'));
    expect(npmCacache(new Map(), '/p', { LOCALAPPDATA: 'C:/L' }, '/home/u', 'win32')).toBe(join('C:/L', 'npm-cache', '_cacache'));
  });

  it('comes from the same merged settings as the registries (npm_config_cache beats the .npmrc files)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-npmrc-cache-'));
    writeFileSync(join(dir, '.npmrc'), 'cache=/from/project\n');
    const { values } = await loadNpmSettings({ projectDir: dir, env: {}, homeDir: dir });
    expect(npmCacache(values, dir, {}, dir, 'linux')).toBe(join('/from/project', '_cacache'));
    const fromEnv = await loadNpmSettings({ projectDir: dir, env: { npm_config_cache: '/from/env' }, homeDir: dir });
    expect(npmCacache(fromEnv.values, dir, {}, dir, 'linux')).toBe(join('/from/env', '_cacache'));
  });
});
