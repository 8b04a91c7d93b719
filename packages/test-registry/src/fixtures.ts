/**
 * The fixture model: a package version described in code (`FixtureSpec`), packed into a tarball and
 * the packument entry a registry would publish for it, plus builders for the packages tests need
 * again and again (install scripts that leave a marker file, a bare `binding.gyp`).
 */
import { signVersion, testKeys } from './keys.js';
import { isVersion } from './semver.js';
import type { ProvenanceSpec } from './sigstore.js';
import { integrityOf, packTarball, shasumOf, type TarballEntry } from './tarball.js';

/** How the registry signs a version (`dist.signatures`). */
export type SignatureKind =
  /** Signed by the active key (the default). */
  | 'valid'
  /** No `dist.signatures` at all. */
  | 'none'
  /** Active keyid, but the signature is over a different message: well-formed, does not verify. */
  | 'corrupt'
  /** Signed by a key the registry does not serve in `/-/npm/v1/keys`. */
  | 'unknown-key'
  /** Signed by the expired key: valid only when `publishedAt` is before its expiry. */
  | 'expired-key'
  /** Active keyid, `sig` is not base64 DER at all. */
  | 'garbage'
  /** Two entries by the active key, two separately made signatures, both valid. */
  | 'duplicate';

/** One package version, described in code. */
export interface FixtureSpec {
  /** Package name; scoped names (`@acme/logger`) allowed. */
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  /** Names to bundle; their files must be given under `node_modules/<name>/` in `files`. */
  bundleDependencies?: string[];
  bin?: Record<string, string>;
  /** E.g. `{ postinstall: 'node -e "..."' }`. */
  scripts?: Record<string, string>;
  /** Extra files by package-relative path (`index.js`, `binding.gyp`); `package.json` here replaces the generated one. */
  files?: Record<string, string | Buffer>;
  /** Fields present ONLY in the tarball's package.json (manifest confusion). */
  tarballManifest?: Record<string, unknown>;
  /** Fields present ONLY in the packument version; they override computed ones (including `hasInstallScript`). */
  metadata?: Record<string, unknown>;
  /** `time[version]`; default: FIXTURE_PUBLISHED_AT plus one minute per version rank. */
  publishedAt?: string;
  /** Default `'valid'`. */
  signature?: SignatureKind;
  /** Dist-tags pointing at this version (`latest` otherwise goes to the highest release). */
  tags?: string[];
  /**
   * Built by GitHub Actions with npm provenance: the registry serves a test-Sigstore SLSA provenance bundle
   * for it (`dist.attestations`, `/-/npm/v1/attestations/<name>@<version>`). Default: none.
   */
  provenance?: ProvenanceSpec;
  /** The tarball's bytes as served and signed, instead of packing `files` (a hostile tarball: `packRawTarball`). */
  tarball?: Buffer;
}

/** Default publish time of fixtures: a fixed recent date, after the expired test key's expiry. */
export const FIXTURE_PUBLISHED_AT = '2026-06-01T12:00:00.000Z';

/** A fixture packed: tarball bytes, digests, and the packument version entry without `dist`. */
export interface PackedVersion {
  name: string;
  version: string;
  /** The version entry of the full packument, without `dist` (added by the registry, which knows its URL). */
  manifest: Record<string, unknown>;
  /** Files of the tarball (package-relative), kept so a tarball can be swapped file by file. */
  entries: TarballEntry[];
  tarball: Buffer;
  integrity: string;
  shasum: string;
  fileCount: number;
  unpackedSize: number;
  publishedAt: string | undefined;
  signature: SignatureKind;
  tags: string[];
  provenance: ProvenanceSpec | undefined;
}

const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall'] as const;

/** True for a name npm would accept for a new package (lowercase, URL-safe, optionally scoped). */
export function isPackageName(name: string): boolean {
  return typeof name === 'string' && name.length <= 214 && NAME.test(name);
}

/** Throws with a clear message unless the spec names a valid package and version. */
export function checkSpec(spec: FixtureSpec): void {
  if (!spec || typeof spec !== 'object') throw new Error('fixture spec must be an object');
  if (!isPackageName(spec.name)) throw new Error(`invalid package name in fixture: ${JSON.stringify(spec.name)}`);
  if (typeof spec.version !== 'string' || !isVersion(spec.version)) {
    throw new Error(`invalid version for ${spec.name}: ${JSON.stringify(spec.version)}`);
  }
  if (spec.publishedAt !== undefined && Number.isNaN(Date.parse(spec.publishedAt))) {
    throw new Error(`invalid publishedAt for ${spec.name}@${spec.version}: ${JSON.stringify(spec.publishedAt)}`);
  }
}

/** The last path segment of a name: `@acme/logger` → `logger` (tarball file names use it). */
export function basenameOf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/**
 * npm's rule: a version has an install script when its scripts include preinstall, install or
 * postinstall, or when it ships a `binding.gyp` (npm then implies `install: node-gyp rebuild`).
 */
export function hasInstallScript(scripts: Record<string, unknown> | undefined, fileNames: Iterable<string>): boolean {
  if (scripts && INSTALL_HOOKS.some((hook) => typeof scripts[hook] === 'string')) return true;
  for (const file of fileNames) if (file === 'binding.gyp') return true;
  return false;
}

/** The scripts a registry advertises: npm adds `install: node-gyp rebuild` for a bare binding.gyp at publish. */
function advertisedScripts(scripts: Record<string, string> | undefined, fileNames: string[]): Record<string, string> | undefined {
  const gyp = fileNames.includes('binding.gyp') && !scripts?.install && !scripts?.preinstall;
  if (!gyp) return scripts;
  return { ...scripts, install: 'node-gyp rebuild' };
}

function toBuffer(content: string | Buffer): Buffer {
  return Buffer.isBuffer(content) ? content : Buffer.from(String(content), 'utf8');
}

/** `./bin/cli.js` → `bin/cli.js`, as npm normalizes bin targets. */
function normalizeFilePath(path: string): string {
  return path.replace(/^(\.\/)+/, '');
}

/** Packs one fixture: its tarball (package.json + files + generated bins) and its packument entry. */
export function packFixture(spec: FixtureSpec): PackedVersion {
  checkSpec(spec);
  const { name, version } = spec;
  const declared: Record<string, unknown> = { name, version, description: `${name} — a Portcullis test fixture` };
  if (spec.dependencies) declared.dependencies = { ...spec.dependencies };
  if (spec.optionalDependencies) declared.optionalDependencies = { ...spec.optionalDependencies };
  if (spec.peerDependencies) declared.peerDependencies = { ...spec.peerDependencies };
  if (spec.bundleDependencies) declared.bundleDependencies = [...spec.bundleDependencies];
  if (spec.bin) declared.bin = { ...spec.bin };
  if (spec.scripts) declared.scripts = { ...spec.scripts };
  declared.license = 'MIT';

  const files = new Map<string, Buffer>();
  for (const [path, content] of Object.entries(spec.files ?? {})) files.set(normalizeFilePath(path), toBuffer(content));
  const binTargets = new Set(Object.values(spec.bin ?? {}).map(normalizeFilePath));
  for (const target of binTargets) {
    if (!files.has(target)) files.set(target, Buffer.from(`#!/usr/bin/env node\nconsole.log(${JSON.stringify(`${name}@${version}`)});\n`));
  }
  if (!files.has('index.js')) files.set('index.js', Buffer.from(`module.exports = ${JSON.stringify({ name, version })};\n`));
  if (!files.has('package.json')) {
    files.set('package.json', Buffer.from(`${JSON.stringify({ ...declared, ...spec.tarballManifest }, null, 2)}\n`));
  }

  const entries: TarballEntry[] = [...files].map(([path, content]) => ({ path, content, mode: binTargets.has(path) ? 0o755 : 0o644 }));
  const fileNames = [...files.keys()];
  const scripts = advertisedScripts(spec.scripts, fileNames);
  const manifest: Record<string, unknown> = { ...declared, _id: `${name}@${version}` };
  if (scripts) manifest.scripts = scripts;
  if (fileNames.includes('binding.gyp')) manifest.gypfile = true;
  if (hasInstallScript(spec.scripts, fileNames)) manifest.hasInstallScript = true;
  manifest._hasShrinkwrap = files.has('npm-shrinkwrap.json');
  Object.assign(manifest, spec.metadata);
  if (manifest.hasInstallScript !== true) delete manifest.hasInstallScript; // npm omits it rather than writing false
  return packedFrom(name, version, manifest, entries, spec, spec.tarball);
}

/** Wraps tarball entries and a manifest into a PackedVersion (also used for `npm publish` uploads). */
export function packedFrom(
  name: string,
  version: string,
  manifest: Record<string, unknown>,
  entries: TarballEntry[],
  spec: Pick<FixtureSpec, 'publishedAt' | 'signature' | 'tags' | 'provenance'>,
  tarball: Buffer = packTarball(entries),
): PackedVersion {
  return {
    name,
    version,
    manifest,
    entries,
    tarball,
    integrity: integrityOf(tarball),
    shasum: shasumOf(tarball),
    fileCount: entries.length,
    unpackedSize: entries.reduce((sum, entry) => sum + entry.content.length, 0),
    publishedAt: spec.publishedAt,
    signature: spec.signature ?? 'valid',
    tags: spec.tags ?? [],
    provenance: spec.provenance ? { ...spec.provenance } : undefined,
  };
}

/** The `dist.signatures` a registry publishes for a version signed the way `kind` says. */
export function signaturesFor(kind: SignatureKind, name: string, version: string, integrity: string): Array<{ keyid: string; sig: string }> | undefined {
  switch (kind) {
    case 'none':
      return undefined;
    case 'valid':
      return [signVersion(testKeys.active, name, version, integrity)];
    case 'duplicate':
      // ECDSA signatures are randomized: two calls give two different, equally valid signatures.
      return [signVersion(testKeys.active, name, version, integrity), signVersion(testKeys.active, name, version, integrity)];
    case 'corrupt':
      // A real signature by the right key, over a different integrity: it parses but never verifies.
      return [signVersion(testKeys.active, name, version, `${integrity.slice(0, -4)}AAA=`)];
    case 'unknown-key':
      return [signVersion(testKeys.unknown, name, version, integrity)];
    case 'expired-key':
      return [signVersion(testKeys.expired, name, version, integrity)];
    case 'garbage':
      return [{ keyid: testKeys.active.record.keyid, sig: 'not-a-signature!' }];
    default:
      throw new Error(`unknown signature kind: ${String(kind)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Builders for common fixtures

/** Environment variable naming the directory where marker scripts record that they ran. */
export const MARKER_DIR_ENV = 'PORTCULLIS_MARKER_DIR';

/** The marker file a fixture's script writes: `<name>@<version>.ran`, with `/` of a scope as `+`. */
export function markerFileName(name: string, version: string): string {
  return `${name.replace('/', '+')}@${version}.ran`;
}

/**
 * A `node -e` one-liner that writes `$PORTCULLIS_MARKER_DIR/<marker>` (content: the hook name) and
 * does nothing when the variable is unset. Only single quotes inside, no `$`, backslash or backtick:
 * it survives sh, cmd and Yarn's shell unchanged.
 */
export function markerScript(name: string, version: string, hook: string): string {
  const file = markerFileName(name, version);
  const code =
    `const d=process.env.${MARKER_DIR_ENV};` +
    `if(d){const fs=require('fs');fs.mkdirSync(d,{recursive:true});` +
    `fs.appendFileSync(require('path').join(d,'${file}'),'${hook.replace(/[^a-z0-9:-]/gi, '')}'+require('os').EOL)}`;
  return `node -e "${code}"`;
}

type BuilderOptions = Omit<FixtureSpec, 'name' | 'version'>;

/** A plain package: no scripts, signed by the active key. */
export function cleanPackage(name: string, version: string, opts: BuilderOptions = {}): FixtureSpec {
  return { name, version, ...opts };
}

/**
 * An organisation policy package (`extends` in portcullis.json): no dependencies, no scripts, its policy as
 * `portcullis.json` at the package root.
 */
export function organisationPolicyPackage(name: string, version: string, policy: object, opts: BuilderOptions = {}): FixtureSpec {
  return { name, version, ...opts, files: { 'portcullis.json': `${JSON.stringify(policy, null, 2)}\n`, ...opts.files } };
}

/** A package whose `hook` (preinstall, install or postinstall) writes a marker file when it runs. */
export function withInstallScript(hook: 'preinstall' | 'install' | 'postinstall', name: string, version: string, opts: BuilderOptions = {}): FixtureSpec {
  return { name, version, ...opts, scripts: { ...opts.scripts, [hook]: markerScript(name, version, hook) } };
}

/** A package whose postinstall writes `<name>@<version>.ran` into `$PORTCULLIS_MARKER_DIR`. */
export function withPostinstall(name: string, version: string, opts: BuilderOptions = {}): FixtureSpec {
  return withInstallScript('postinstall', name, version, opts);
}

/**
 * A package whose postinstall writes `<name>@<version>.ran` like `withPostinstall`, but whose command line does not
 * name the version: every version built with the same `variant` has the same postinstall, and another `variant` a
 * different one (script drift compares command lines). The marker's content is `postinstall-<variant>`.
 */
export function withStablePostinstall(name: string, version: string, variant = 'a', opts: BuilderOptions = {}): FixtureSpec {
  const tag = variant.replace(/[^a-z0-9-]/gi, '');
  const code =
    `const d=process.env.${MARKER_DIR_ENV};` +
    `if(d){const fs=require('fs');const p=require('./package.json');fs.mkdirSync(d,{recursive:true});` +
    `fs.appendFileSync(require('path').join(d,p.name.replace('/','+')+'@'+p.version+'.ran'),'postinstall-${tag}'+require('os').EOL)}`;
  return { name, version, ...opts, scripts: { ...opts.scripts, postinstall: `node -e "${code}"` } };
}

/**
 * A package with no scripts but a `binding.gyp`: package managers imply `node-gyp rebuild`.
 * The gyp file has no C++ target, only an action that runs `gyp-marker.js`, which writes the marker
 * (content `node-gyp`) — so the build takes well under a second and compiles nothing. node-gyp still
 * wants Node headers: tests must pass `npm_config_nodedir=/usr` (or `--nodedir`) so it reads them
 * from disk instead of downloading them. Yarn resolves an implicit `node-gyp@latest` dependency for
 * it: serve `fakeNodeGyp()` too when Yarn installs this.
 */
export function withBindingGyp(name: string, version: string, opts: BuilderOptions = {}): FixtureSpec {
  const file = markerFileName(name, version);
  const gyp = {
    targets: [
      {
        target_name: 'portcullis_marker',
        type: 'none',
        actions: [
          {
            action_name: 'write_marker',
            inputs: ['gyp-marker.js'],
            outputs: ['<(INTERMEDIATE_DIR)/marker.stamp'],
            action: ['node', 'gyp-marker.js', '<@(_outputs)'],
          },
        ],
      },
    ],
  };
  const marker = [
    "const fs = require('fs');",
    "const path = require('path');",
    `const dir = process.env.${MARKER_DIR_ENV};`,
    `if (dir) { fs.mkdirSync(dir, { recursive: true }); fs.appendFileSync(path.join(dir, ${JSON.stringify(file)}), 'node-gyp\\n'); }`,
    '// make wants the declared output to exist',
    'const stamp = process.argv[2];',
    "if (stamp) { fs.mkdirSync(path.dirname(stamp), { recursive: true }); fs.writeFileSync(stamp, ''); }",
    '',
  ].join('\n');
  return { name, version, ...opts, files: { 'binding.gyp': `${JSON.stringify(gyp, null, 2)}\n`, 'gyp-marker.js': marker, ...opts.files } };
}

/**
 * A stand-in `node-gyp` package for Yarn, which adds `node-gyp@latest` as an implicit dependency of
 * any package whose scripts call node-gyp and then runs its bin. `node-gyp rebuild` here just runs the
 * package's `gyp-marker.js` (as the real gyp action would), so Yarn's build path is offline and instant.
 */
export function fakeNodeGyp(version = '10.0.0'): FixtureSpec {
  const bin = [
    '#!/usr/bin/env node',
    "const { existsSync } = require('fs');",
    "const { spawnSync } = require('child_process');",
    "const path = require('path');",
    "if (process.argv[2] !== 'rebuild') { console.error('portcullis fake node-gyp: only rebuild is supported'); process.exit(1); }",
    "const marker = path.resolve('gyp-marker.js');",
    'if (!existsSync(marker)) process.exit(0);',
    "const stamp = path.resolve('build', 'marker.stamp');",
    "process.exit(spawnSync(process.execPath, [marker, stamp], { stdio: 'inherit' }).status ?? 1);",
    '',
  ].join('\n');
  return { name: 'node-gyp', version, bin: { 'node-gyp': 'bin/node-gyp.js' }, files: { 'bin/node-gyp.js': bin } };
}
