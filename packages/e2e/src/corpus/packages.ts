/**
 * The bypass corpus' registry content: one package (or small graph) per attack of issue 9, each whose
 * install-time code leaves its own marker file, so one install can hold several cases and every marker
 * still names the case that got through.
 */
import { cleanPackage, fakeNodeGyp, markerFileName, markerScript, withBindingGyp, withPostinstall, type FixtureSpec } from '@portcullis/test-registry';

/** The only package the corpus policy lets build by name: what every impostor poses as. */
export const ALLOWED_NAME = 'esbuild';

/** B1: an install script five levels down (`deep-1` → … → `deep-5`, only the last has a postinstall). */
function deepChain(): FixtureSpec[] {
  const out: FixtureSpec[] = [];
  for (let level = 1; level <= 4; level++) out.push(cleanPackage(`deep-${level}`, '1.0.0', { dependencies: { [`deep-${level + 1}`]: '1.0.0' } }));
  out.push(withPostinstall('deep-5', '1.0.0'));
  return out;
}

/** B3: the registry metadata shows no scripts; the tarball's package.json has a postinstall. */
export function manifestConfusion(name: string, version: string, tarballManifest: Record<string, unknown> = {}): FixtureSpec {
  return cleanPackage(name, version, { tarballManifest: { scripts: { postinstall: markerScript(name, version, 'postinstall') }, ...tarballManifest } });
}

/** B8: a package that bundles `bundled` (with a postinstall) inside its own tarball. */
export function withBundledScript(name: string, bundled: { name: string; version: string; marker?: string }): FixtureSpec {
  const marker = bundled.marker ?? bundled.name;
  const manifest = { name: bundled.name, version: bundled.version, scripts: { postinstall: markerScript(marker, bundled.version, 'postinstall') } };
  return cleanPackage(name, '1.0.0', {
    dependencies: { [bundled.name]: bundled.version },
    bundleDependencies: [bundled.name],
    files: {
      [`node_modules/${bundled.name}/package.json`]: `${JSON.stringify(manifest, null, 2)}\n`,
      [`node_modules/${bundled.name}/index.js`]: 'module.exports = "bundled";\n',
    },
  });
}

/**
 * The scripts cases that share one install (B1, B2, B3, B4, B8, B11, B12, B13) and the positive controls
 * that prove the allowlist works at all (`esbuild@1.0.0`, `twin@1.0.0` must run).
 */
export const scriptsCorpus: FixtureSpec[] = [
  // the allowed package itself (the root's `esbuild` key is the B4 alias); `allowed-tool` is the control that runs
  withPostinstall(ALLOWED_NAME, '1.0.0'),
  withPostinstall('allowed-tool', '1.0.0'),
  ...deepChain(),
  withBindingGyp('gyp-only', '1.0.0'),
  fakeNodeGyp(),
  manifestConfusion('confused', '1.0.0'),
  // B3b (installed on its own: pnpm refuses it from a warm store): the tarball's package.json claims to be the allowed package
  manifestConfusion('confused-name', '1.0.0', { name: ALLOWED_NAME, version: '1.0.0' }),
  withPostinstall('alias-evil', '1.0.0'),
  withBundledScript('bundler', { name: 'bundled-evil', version: '1.0.0' }),
  // what the registry has under that name (Yarn ignores bundles and installs this one)
  cleanPackage('bundled-evil', '1.0.0'),
  // B8b: the bundled copy calls itself the allowed package, at the allowed version
  withBundledScript('bundler-impostor', { name: ALLOWED_NAME, version: '1.0.0', marker: 'bundled-impostor' }),
  withPostinstall('twin', '1.0.0'),
  withPostinstall('twin', '2.0.0'),
  cleanPackage('holder', '1.0.0', { dependencies: { twin: '1.0.0' } }),
  withPostinstall('@evil/esbuild', '1.0.0'),
  withPostinstall('case-evil', '1.0.0'),
  withPostinstall('hijack', '1.0.0'),
  // B13: a hijacked token publishes a patch release with a changed install script
  { ...withPostinstall('hijack', '1.0.1'), scripts: { postinstall: `${markerScript('hijack', '1.0.1', 'postinstall')} && echo exfiltrate` } },
];

/** The root dependencies that install the whole scripts corpus. */
export const scriptsDependencies: Record<string, string> = {
  'allowed-tool': '1.0.0',
  'deep-1': '1.0.0',
  'gyp-only': '1.0.0',
  confused: '1.0.0',
  [ALLOWED_NAME]: 'npm:alias-evil@1.0.0',
  bundler: '1.0.0',
  'bundler-impostor': '1.0.0',
  twin: '2.0.0',
  holder: '1.0.0',
  '@evil/esbuild': '1.0.0',
  hijack: '^1.0.0',
};

/** `scripts.allow` of the corpus: the name every impostor poses as, a name-only control, one twin version, the pinned approval of hijack@1.0.0. */
export const scriptsAllow = [ALLOWED_NAME, 'allowed-tool', 'twin@1.0.0', 'hijack@1.0.0'];

/** Markers that must appear (the positive controls). */
export const expectedMarkers = [markerFileName('allowed-tool', '1.0.0'), markerFileName('twin', '1.0.0')].sort();
/**
 * Markers that may appear: the controls, and the registry's own `esbuild@1.0.0` (allowed), which Yarn and
 * pnpm install for `bundler-impostor`'s dependency instead of its bundled copy. Anything else got through.
 */
export const allowedMarkers = [...expectedMarkers, markerFileName(ALLOWED_NAME, '1.0.0')];

/** Which case each marker of a blocked package belongs to, for the report. */
export const markerCase: Record<string, string> = {
  [markerFileName('deep-5', '1.0.0')]: 'B1',
  [markerFileName('gyp-only', '1.0.0')]: 'B2',
  [markerFileName('confused', '1.0.0')]: 'B3',
  [markerFileName('confused-name', '1.0.0')]: 'B3 (tarball claims the allowed name)',
  [markerFileName('alias-evil', '1.0.0')]: 'B4',
  [markerFileName('bundled-evil', '1.0.0')]: 'B8',
  [markerFileName('bundled-impostor', '1.0.0')]: 'B8 (bundled copy named like the allowed package)',
  [markerFileName('twin', '2.0.0')]: 'B11',
  [markerFileName('@evil/esbuild', '1.0.0')]: 'B12',
  [markerFileName('case-evil', '1.0.0')]: 'B12 (capitalised alias)',
  [markerFileName('hijack', '1.0.1')]: 'B13',
};

/** Signature cases (B9, B10): an allowed package whose tarball is swapped after the lockfile was written. */
export const swapTarget = { name: 'swap-me', version: '1.0.0' };
export const signatureCorpus: FixtureSpec[] = [withPostinstall(swapTarget.name, swapTarget.version), cleanPackage('left-pad-lite', '1.1.0'), withPostinstall('evil-postinstall', '1.0.0'), cleanPackage('tampered-lib', '1.0.0', { signature: 'corrupt' })];
/** What the swapped tarball runs: a marker of its own, so a run of the swapped code is visible. */
export const swappedFiles = { 'package.json': `${JSON.stringify({ name: swapTarget.name, version: swapTarget.version, scripts: { postinstall: markerScript('swapped-payload', '1.0.0', 'postinstall') } }, null, 2)}\n` };
export const swappedMarker = markerFileName('swapped-payload', '1.0.0');

/** Every package the corpus registry serves. */
export const corpusPackages: FixtureSpec[] = [...scriptsCorpus, ...signatureCorpus];
