/** User-facing text of every finding: what happened, to which package, and the exact fix. */
import type { Finding, FindingCode, Rule } from '../finding.js';
import type { PackageNode } from '../model.js';
import { describeFingerprint, type CurrentFingerprint } from '../policy/fingerprint.js';
import type { PublisherPin, ScriptFingerprint } from '../policy/types.js';
import type { ProvenanceDowngrade, PublisherIdentity, UnreadablePackage } from './evidence.js';

export type FindingDetail =
  /** `patch`: why a patch pnpm applies may give it install-time code (evaluation/patches.ts). */
  | { code: 'SCRIPT_NOT_ALLOWED'; scripts: string[]; bindingGyp: boolean; patch?: string }
  /** `entry`: the scripts.allow entry that covers it; `approved`: the recorded version compared with. */
  | { code: 'SCRIPT_CHANGED'; entry: string; approved: string; before: ScriptFingerprint; now: CurrentFingerprint; changed: readonly string[] }
  | { code: 'UNSIGNED' }
  | { code: 'BAD_SIGNATURE'; keyid: string }
  | { code: 'UNKNOWN_KEY'; keyid: string }
  | { code: 'KEY_EXPIRED'; keyid: string; expires: string; published: string | null }
  | { code: 'UNTRUSTED_REGISTRY' }
  | { code: 'UNSIGNED_SOURCE' }
  /** `unreadable`: the package whose own tarball cannot be read safely (no later run decides it). */
  | { code: 'METADATA_UNAVAILABLE'; reason: string; rule?: Rule; unreadable?: UnreadablePackage }
  | { code: 'INTEGRITY_MISSING' }
  /** `list`/`entry`: the policy entry that requires it (`provenance.require` or `provenance.publishers`). */
  | { code: 'PROVENANCE_MISSING'; list: 'require' | 'publishers'; entry: string }
  | { code: 'PROVENANCE_INVALID'; reason: string }
  | { code: 'TRUST_ROOT_STALE'; reason: string; trustedRoot: string | null }
  | { code: 'PUBLISHER_MISMATCH'; entry: string; expected: PublisherPin; actual: PublisherIdentity; differences: ReadonlyArray<keyof PublisherPin>; remembered?: true }
  | { code: 'PROVENANCE_DOWNGRADE'; earlier: string; repository: string; now: ProvenanceDowngrade['now'] }
  | { code: 'RELEASE_TOO_NEW'; published: string; ageMs: number; limit: string; installableAt: string }
  | { code: 'KNOWN_MALICIOUS'; advisories: ReadonlyArray<{ id: string; summary: string }> };

/** `3 h 12 min`, `2 days 4 h`: an age for a message. */
function describeAge(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days ${hours % 24} h`;
}

/** Where Sigstore publishes its current trusted root (the `trusted_root.json` target of its TUF repository). */
const SIGSTORE_TUF_REPOSITORY = 'https://tuf-repo-cdn.sigstore.dev';

const SOURCE_NAMES: Record<PackageNode['source'], string> = {
  registry: 'a registry',
  git: 'a git repository',
  tarball: 'a remote tarball URL',
  directory: 'a directory outside the project',
  workspace: 'the workspace',
};

/** Builds the finding for one package and one detail. */
export function findingFor(pkg: PackageNode, detail: FindingDetail): Finding {
  const who = `${pkg.name}@${pkg.version}`;
  const alias = pkg.aliases.length > 0 ? ` (installed as ${pkg.aliases.map((a) => `"${a}"`).join(', ')})` : '';
  const registry = pkg.registry ?? 'its registry';
  const rule = ruleOf(detail);
  let message: string;
  let fix: string;
  switch (detail.code) {
    case 'SCRIPT_NOT_ALLOWED': {
      const what = detail.scripts.length > 0 ? detail.scripts.join(', ') : detail.bindingGyp ? 'node-gyp rebuild (binding.gyp)' : 'install scripts';
      const bundler = pkg.bundledBy === undefined ? undefined : `${pkg.bundledBy.name}@${pkg.bundledBy.version}`;
      const patched = detail.patch === undefined ? '' : detail.scripts.length > 0 || detail.bindingGyp ? ` (and ${detail.patch})` : ` (${detail.patch}: pnpm builds it from the patched files)`;
      message = `${who}${alias}${bundler ? ` (bundled in ${bundler})` : ''} wants to run ${what}${patched} at install time, and scripts.allow does not cover it${bundler ? ' (a bundled copy needs its bundler allowed too)' : ''}`;
      fix = `portcullis approve ${bundler ? `${bundler} ` : ''}${who}`;
      break;
    }
    case 'SCRIPT_CHANGED': {
      const bundler = pkg.bundledBy === undefined ? undefined : `${pkg.bundledBy.name}@${pkg.bundledBy.version}`;
      const now = detail.now.commands === undefined ? (detail.now.commit !== undefined ? `commit ${detail.now.commit}` : 'unknown') : describeFingerprint({ ...detail.now, commands: detail.now.commands });
      message = `${who}${alias} runs different install-time code (${detail.changed.join(', ')}) than ${pkg.name}@${detail.approved} did when it was approved (scripts.fingerprints); scripts.allow "${detail.entry}" covers it, so it must run the reviewed code — was: ${describeFingerprint(detail.before)}; now: ${now}`;
      // Approving pins this version and records what it runs now (read the new command lines above first).
      fix = `portcullis approve ${bundler ? `${bundler} ` : ''}${who}`;
      break;
    }
    case 'UNSIGNED':
      message = `${who}${alias} has no registry signature: ${registry} served it without dist.signatures`;
      fix = `add "${who}" to signatures.allowUnsigned in portcullis.json only if you trust it unsigned`;
      break;
    case 'BAD_SIGNATURE':
      message = `${who}${alias} failed registry signature verification (key ${detail.keyid}): the integrity being installed is not what ${registry} signed`;
      fix = `do not install it: delete its lockfile entry and the cached tarball, reinstall from ${registry}, and report it if it fails again`;
      break;
    case 'UNKNOWN_KEY':
      message = `${who}${alias} is signed only by key ${detail.keyid}, which is not among the trusted keys of ${registry}`;
      fix = `add the key ${detail.keyid} from ${registry}-/npm/v1/keys to registries["${registry}"].keys in portcullis.json`;
      break;
    case 'KEY_EXPIRED':
      message = `${who}${alias} is signed by key ${detail.keyid}, which expired on ${detail.expires}, and it was published ${detail.published ? `on ${detail.published}, after that` : 'at an unknown time'}`;
      fix = `upgrade ${pkg.name} to a version signed by a current key of ${registry}`;
      break;
    case 'UNTRUSTED_REGISTRY':
      message = `${who}${alias} comes from ${registry}, which has no trusted signing keys configured, so its signature cannot be verified`;
      fix = `add "registries": { "${registry}": { "keys": [<the keys from ${registry}-/npm/v1/keys>] } } to portcullis.json (or "keys": "npm" if it passes the npm registry's signatures through)`;
      break;
    case 'UNSIGNED_SOURCE':
      message = `${who}${alias} comes from ${SOURCE_NAMES[pkg.source]}${pkg.resolved ? ` (${pkg.resolved})` : ''}, which carries no registry signature`;
      fix = `add "${pkg.name}" to signatures.allowUnsigned in portcullis.json if you trust that source`;
      break;
    case 'INTEGRITY_MISSING':
      message = `${who}${alias} has no integrity in the lockfile: it does not say which bytes get installed, so no signature can vouch for them (whatever ${registry} or a mirror serves would be installed)`;
      fix = `restore the "integrity" of ${who} in the lockfile (git checkout it), or delete its entry and install again so the package manager records the integrity ${registry} signed`;
      break;
    case 'METADATA_UNAVAILABLE':
      message = `could not decide on ${who}${alias}: ${detail.reason}`;
      fix =
        detail.unreadable !== undefined
          ? `remove ${detail.unreadable.name} from your dependencies or move to another version of it: the tarball of ${detail.unreadable.name}@${detail.unreadable.version} cannot be read safely, and running again will not change that`
          : `make ${registry} reachable and run again (or use --offline after one successful run)`;
      break;
    case 'PROVENANCE_MISSING':
      message = `${who}${alias} has no SLSA provenance: ${registry} serves no provenance attestation for it, and provenance.${detail.list} entry "${detail.entry}" requires one`;
      fix = `install a version of ${pkg.name} published with provenance; remove "${detail.entry}" from provenance.${detail.list} in portcullis.json only if ${pkg.name} does not publish provenance`;
      break;
    case 'PROVENANCE_INVALID':
      message = `${who}${alias} has a provenance attestation that does not verify or does not match this package: ${detail.reason}`;
      fix = `do not install it: delete its lockfile entry and the cached tarball, reinstall from ${registry}, and report it to the maintainers of ${pkg.name} if it fails again`;
      break;
    case 'TRUST_ROOT_STALE':
      message = `${who}${alias} has provenance that cannot be checked against ${detail.trustedRoot ? `the trusted root ${detail.trustedRoot}` : 'the Sigstore trusted root this Portcullis ships'}: ${detail.reason} (the root is out of date; this is not a forgery)`;
      fix = `point "provenance": { "trustedRoot": "<path to a current trusted_root.json>" } in portcullis.json at a current root (the trusted_root.json target of Sigstore's TUF repository, ${SIGSTORE_TUF_REPOSITORY}), or upgrade Portcullis`;
      break;
    case 'PUBLISHER_MISMATCH': {
      const describe = (fields: { repository: string; workflow: string; repositoryId?: string | undefined; ownerId?: string | undefined }) =>
        [`repository ${fields.repository}`, `workflow ${fields.workflow}`, ...(fields.repositoryId !== undefined ? [`repository id ${fields.repositoryId}`] : []), ...(fields.ownerId !== undefined ? [`owner id ${fields.ownerId}`] : [])].join(', ');
      const actual: Record<string, string> = { repository: detail.actual.repository, workflow: detail.actual.workflow };
      if (detail.expected.repositoryId !== undefined && detail.actual.repositoryId !== undefined) actual.repositoryId = detail.actual.repositoryId;
      if (detail.expected.ownerId !== undefined && detail.actual.ownerId !== undefined) actual.ownerId = detail.actual.ownerId;
      if (detail.remembered) {
        message = `${who}${alias} was built by ${describe(detail.actual)}, but earlier installs of this project saw ${pkg.name} built from ${describe(detail.expected)} (differs in: ${detail.differences.join(', ')}): a repository or owner deleted and registered again under the same name by someone else looks like this`;
        fix = `do not install it; only if the maintainers of ${pkg.name} re-created the repository themselves, pin it: portcullis approve --publisher ${pkg.name}`;
      } else {
        message = `${who}${alias} was built by ${describe(detail.actual)}, but provenance.publishers entry "${detail.entry}" expects ${describe(detail.expected)} (differs in: ${detail.differences.join(', ')})`;
        fix = `do not install it; only if the maintainers of ${pkg.name} moved its release on purpose, set provenance.publishers "${detail.entry}" to ${JSON.stringify(actual)} in portcullis.json`;
      }
      break;
    }
    case 'RELEASE_TOO_NEW':
      message = `${who}${alias} was published ${describeAge(detail.ageMs)} ago (${detail.published}), and cooldown.minimumReleaseAge is ${detail.limit}: it becomes installable at ${detail.installableAt}`;
      fix = `use a version published before the cooldown (pin the previous one), or wait until ${detail.installableAt}; to take it now: portcullis approve --cooldown ${who} (a time-boxed exception), or add "${pkg.name}" to cooldown.exclude in portcullis.json`;
      break;
    case 'KNOWN_MALICIOUS': {
      // A bundled copy comes with its bundler's tarball: the bundler is what the project can remove or move.
      const bundler = pkg.bundledBy === undefined ? undefined : `${pkg.bundledBy.name}@${pkg.bundledBy.version}`;
      message = `${who}${alias}${bundler ? ` (bundled in ${bundler})` : ''} is known malicious: ${detail.advisories.map((a) => `${a.id}${a.summary ? ` (${a.summary})` : ''}`).join('; ')}`;
      fix = bundler
        ? `do not install it: remove ${pkg.bundledBy!.name} or move to a version that does not bundle ${who}, and treat any machine that installed ${bundler} as compromised (rotate its credentials)`
        : `do not install it: remove ${pkg.name} or move to a version the advisory does not list, and treat any machine that installed ${who} as compromised (rotate its credentials)`;
      break;
    }
    case 'PROVENANCE_DOWNGRADE': {
      const now =
        detail.now === 'none'
          ? 'this one has none'
          : detail.now === 'invalid'
            ? 'the provenance of this one does not verify'
            : detail.now === 'unverifiable'
              ? 'the provenance of this one cannot be checked against the trusted root'
              : `this one was built from ${detail.now.repository}`;
      message = `${who}${alias} is a provenance downgrade: the earlier ${pkg.name}@${detail.earlier} of the same release line had verified provenance from ${detail.repository}; ${now}`;
      fix = `pin ${pkg.name}@${detail.earlier} (the previous version with provenance); add "${who}" to provenance.allowDowngrade in portcullis.json only if the maintainers of ${pkg.name} moved on purpose`;
      break;
    }
  }
  const finding: Finding = { package: pkg.name, version: pkg.version, rule, code: detail.code as FindingCode, message, fix, id: pkg.id };
  if (pkg.registry !== undefined) finding.registry = pkg.registry;
  return finding;
}

function ruleOf(detail: FindingDetail): Rule {
  switch (detail.code) {
    case 'SCRIPT_NOT_ALLOWED':
    case 'SCRIPT_CHANGED':
      return 'scripts';
    case 'PROVENANCE_MISSING':
    case 'PROVENANCE_INVALID':
    case 'TRUST_ROOT_STALE':
    case 'PUBLISHER_MISMATCH':
    case 'PROVENANCE_DOWNGRADE':
      return 'provenance';
    case 'RELEASE_TOO_NEW':
      return 'cooldown';
    case 'KNOWN_MALICIOUS':
      return 'advisories';
    case 'METADATA_UNAVAILABLE':
      return detail.rule ?? 'signatures';
    default:
      return 'signatures';
  }
}

/**
 * A finding on a dependency judged before it is fetched (evaluateBeforeFetch): its version is not known, so it is named
 * by where it comes from, and only a name entry can allow it.
 */
export function beforeFetchFinding(finding: Finding, pkg: PackageNode): Finding {
  const where = `${pkg.name} (${SOURCE_NAMES[pkg.source]}${pkg.resolved ? `, ${pkg.resolved}` : ''})`;
  switch (finding.code) {
    case 'SCRIPT_NOT_ALLOWED':
      return {
        ...finding,
        message: `${where} is built by the package manager when it fetches it, while it resolves and before its version is known (its prepare, prepack, postpack and install scripts run, and its own dependencies are installed), and no scripts.allow entry covers every version of ${pkg.name}`,
        fix: `add "${pkg.name}" to scripts.allow in portcullis.json only if you trust every line of code in that repository`,
      };
    case 'UNSIGNED_SOURCE':
      return {
        ...finding,
        message: `${where} carries no registry signature, and no signatures.allowUnsigned entry covers every version of ${pkg.name}`,
        fix: `add "${pkg.name}" to signatures.allowUnsigned in portcullis.json if you trust that source`,
      };
    default:
      return finding;
  }
}
