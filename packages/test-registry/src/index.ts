/** @portcullis/test-registry: a real npm registry on 127.0.0.1 with fixture packages built from code. */
export { startRegistry, type Fault, type LoggedRequest, type RegistryOptions, type TestRegistry } from './server.js';
export {
  FIXTURE_PUBLISHED_AT,
  MARKER_DIR_ENV,
  basenameOf,
  cleanPackage,
  fakeNodeGyp,
  hasInstallScript,
  markerFileName,
  markerScript,
  organisationPolicyPackage,
  packFixture,
  signaturesFor,
  withBindingGyp,
  withInstallScript,
  withPostinstall,
  withStablePostinstall,
  type FixtureSpec,
  type PackedVersion,
  type SignatureKind,
} from './fixtures.js';
export { EXPIRED_KEY_EXPIRES, keyIdOf, servedKeys, signVersion, signedMessage, testKeys, type RegistryKey, type SigningKey } from './keys.js';
export { NPM_PACK_MTIME, integrityOf, packRawTarball, packTar, packTarball, readTarball, type RawTarEntry, shasumOf, type TarballEntry } from './tarball.js';
export { acmeWidgetProvenance, demo, demoDependencies, fixtureSets, provenanceSet, syntheticGraph, type SyntheticGraph } from './sets.js';
export {
  BUNDLE_MEDIA_TYPE,
  GITHUB_ACTIONS_ISSUER,
  SLSA_PROVENANCE_V1,
  TEST_SIGSTORE,
  TRUSTED_ROOT_MEDIA_TYPE,
  buildSignerUri,
  commitOf,
  provenanceBundle,
  provenanceStatement,
  purlOf,
  repositoryUri,
  staleTrustedRoot,
  testTrustedRoot,
  type ProvenanceSpec,
  type ProvenanceSubject,
  type ProvenanceTamper,
  type StaleRootLack,
} from './sigstore.js';
export { ATTESTATIONS_PREFIX, attestationsPath } from './attestations.js';
