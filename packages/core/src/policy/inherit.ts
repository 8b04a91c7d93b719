/**
 * Policy inheritance: a repository's portcullis.json that `extends` an organisation policy. The most restrictive
 * wins: every requirement of the organisation can only be tightened by the repository, and an allowance (an entry
 * that lets something through) may be added only where the organisation `delegate`s it. A repository that tries
 * to loosen is refused (POLICY_LOOSENED) naming both files and the key; nothing is silently dropped. Pure.
 */
import semver from 'semver';
import { PortcullisError } from '../errors.js';
import type { SourceLocation } from '../model.js';
import { exactVersionOf, scopeOf } from './spec.js';
import type { DelegableKey, PackageSpec, Policy, PublisherRule, RegistryTrust, SettingOrigin } from './types.js';

/** Whether `entry` lets through nothing `allowed` does not: same scope, same name within its range. */
export function specWithin(entry: PackageSpec, allowed: PackageSpec): boolean {
  if (allowed.scope !== undefined) return (entry.scope ?? scopeOf(entry.name)) === allowed.scope;
  if (entry.scope !== undefined || entry.name !== allowed.name) return false;
  if (allowed.range === null) return true;
  if (entry.range === null) return false;
  // Build metadata counts in an allowance (specMatches): `1.0.0+x` is another registry entry, which `1.0.0` does not
  // let in, and `1.0.0+x` lets in nothing but itself; semver.subset ignores build metadata.
  const named = exactVersionOf(entry.range);
  const delegated = exactVersionOf(allowed.range);
  if (named?.includes('+') === true || delegated?.includes('+') === true) return named !== undefined && named === delegated;
  try {
    return semver.subset(entry.range, allowed.range);
  } catch {
    return false;
  }
}

/** Whether the organisation lets a repository add `entry` to the allowance `key`. */
export function isDelegated(organisation: Policy, key: DelegableKey, entry: PackageSpec | string): boolean {
  const delegation = organisation.delegate[key];
  if (delegation === undefined) return false;
  if (delegation === true) return true;
  return (delegation as Array<PackageSpec | string>).some((allowed) =>
    typeof allowed === 'string' || typeof entry === 'string' ? allowed === entry : specWithin(entry, allowed),
  );
}

function sameTrust(a: RegistryTrust | undefined, b: RegistryTrust | undefined): boolean {
  return a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function samePin(a: PublisherRule, b: PublisherRule): boolean {
  return a.publisher.repository.toLowerCase() === b.publisher.repository.toLowerCase() && a.publisher.workflow === b.publisher.workflow && a.publisher.repositoryId === b.publisher.repositoryId && a.publisher.ownerId === b.publisher.ownerId;
}

const where = (location: SourceLocation | undefined) => (location ? `:${location.line}:${location.column}` : '');

/**
 * The effective policy of a repository that extends `organisation`: requirements tightened, delegated allowances
 * added, each line keeping the file it came from. Throws POLICY_LOOSENED at the first loosening.
 */
export function inheritPolicy(organisation: Policy, repository: Policy): Policy {
  const orgFile = organisation.file ?? 'the organisation policy';
  const repoFile = repository.file ?? 'the repository policy';
  const refuse = (key: string, location: SourceLocation | undefined, what: string, fix: string): never => {
    throw new PortcullisError('POLICY_LOOSENED', `${repoFile}${where(location)}: "${key}" ${what}, which loosens the organisation policy ${orgFile} it extends. ${fix}`, {
      file: repoFile,
      ...(location ? { location } : {}),
    });
  };
  const undelegated = (key: DelegableKey, entry: string, location: SourceLocation | undefined): never =>
    refuse(key, location, `adds ${JSON.stringify(entry)}`, `The organisation does not delegate it ("delegate": {"${key}": …} in ${orgFile}): remove the entry, or ask for it in the organisation policy.`);

  /** An allowance list: the organisation's entries, and the repository's that add something only where delegated. */
  const allowance = (key: DelegableKey, org: readonly PackageSpec[], repo: readonly PackageSpec[]): PackageSpec[] => {
    const merged = [...org];
    for (const entry of repo) {
      if (org.some((allowed) => specWithin(entry, allowed))) continue; // lets through nothing the organisation does not
      if (!isDelegated(organisation, key, entry)) undelegated(key, entry.raw, entry.location);
      merged.push(entry);
    }
    return merged;
  };
  /** A requirement list: the union (a repository may require more). */
  const requirement = (org: readonly PackageSpec[], repo: readonly PackageSpec[]): PackageSpec[] => [...org, ...repo.filter((entry) => !org.some((o) => o.raw === entry.raw))];

  const origins: Record<string, SettingOrigin> = Object.assign(Object.create(null) as Record<string, SettingOrigin>, organisation.origins);
  const written = (key: string) => repository.origins[key];
  const take = (key: string) => (origins[key] = repository.origins[key]!);

  // signatures.require: "registry" is the requirement.
  let signaturesRequire = organisation.signatures.require;
  if (written('signatures.require')) {
    if (repository.signatures.require === 'off' && organisation.signatures.require === 'registry') {
      refuse('signatures.require', written('signatures.require')!.location, 'is "off" where the organisation requires "registry"', 'Remove it: registry signatures are required for every repository of the organisation.');
    }
    if (repository.signatures.require === 'registry' && signaturesRequire === 'off') take('signatures.require');
    signaturesRequire = repository.signatures.require === 'registry' ? 'registry' : signaturesRequire;
  }

  // provenance.noDowngrade: true is the requirement.
  let noDowngrade = organisation.provenance.noDowngrade;
  if (written('provenance.noDowngrade')) {
    if (!repository.provenance.noDowngrade && organisation.provenance.noDowngrade) {
      refuse('provenance.noDowngrade', written('provenance.noDowngrade')!.location, 'is false where the organisation refuses provenance downgrades', 'Remove it, or list exceptions in "provenance.allowDowngrade" if the organisation delegates them.');
    }
    if (repository.provenance.noDowngrade && !noDowngrade) take('provenance.noDowngrade');
    noDowngrade = noDowngrade || repository.provenance.noDowngrade;
  }

  // cooldown.minimumReleaseAge: longer is stricter.
  let minimumReleaseAge = organisation.cooldown.minimumReleaseAge;
  const repoAge = repository.cooldown.minimumReleaseAge;
  if (written('cooldown.minimumReleaseAge') && repoAge !== null) {
    if (minimumReleaseAge !== null && repoAge.ms < minimumReleaseAge.ms) {
      refuse('cooldown.minimumReleaseAge', written('cooldown.minimumReleaseAge')!.location, `is ${repoAge.raw} where the organisation requires at least ${minimumReleaseAge.raw}`, `Remove it, or set ${minimumReleaseAge.raw} or longer.`);
    }
    if (minimumReleaseAge === null || repoAge.ms > minimumReleaseAge.ms) {
      minimumReleaseAge = repoAge;
      take('cooldown.minimumReleaseAge');
    }
  }

  // provenance.publishers: a repository may pin more packages, never re-pin one the organisation pinned.
  const publishers = [...organisation.provenance.publishers];
  for (const rule of repository.provenance.publishers) {
    const pinned = organisation.provenance.publishers.find((o) => o.spec.raw === rule.spec.raw);
    if (pinned === undefined) publishers.push(rule);
    else if (!samePin(pinned, rule)) {
      refuse(`provenance.publishers`, rule.spec.location, `pins "${rule.spec.raw}" to ${rule.publisher.repository} (${rule.publisher.workflow}) where the organisation pins ${pinned.publisher.repository} (${pinned.publisher.workflow})`, 'Remove the entry: the organisation decides who builds it.');
    }
  }

  // provenance.trustedRoot: another trust anchor is an allowance.
  let trustedRoot = organisation.provenance.trustedRoot;
  if (written('provenance.trustedRoot')) {
    if (!isDelegated(organisation, 'provenance.trustedRoot', '')) undelegated('provenance.trustedRoot', repository.provenance.trustedRoot ?? '', written('provenance.trustedRoot')!.location);
    trustedRoot = repository.provenance.trustedRoot;
    take('provenance.trustedRoot');
  }

  // registries: trusting keys for a registry is an allowance; restating the organisation's trust is not.
  const registries: Record<string, RegistryTrust> = Object.assign(Object.create(null) as Record<string, RegistryTrust>, organisation.registries);
  for (const [url, trust] of Object.entries(repository.registries)) {
    const origin = written(`registries.${url}`);
    if (origin === undefined || sameTrust(organisation.registries[url], trust)) continue;
    if (!isDelegated(organisation, 'registries', url)) {
      refuse('registries', origin.location, `trusts keys for ${url} the organisation does not`, `The organisation does not delegate it ("delegate": {"registries": …} in ${orgFile}): remove the entry, or ask for the keys in the organisation policy.`);
    }
    registries[url] = trust;
    take(`registries.${url}`);
  }

  // cooldown.exceptions: time-boxed allowances; one the organisation already grants (same spec, no later) adds nothing.
  const exceptions = [...organisation.cooldown.exceptions];
  for (const exception of repository.cooldown.exceptions) {
    const covered = organisation.cooldown.exceptions.some((o) => specWithin(exception.spec, o.spec) && Date.parse(exception.until) <= Date.parse(o.until));
    if (covered) continue;
    if (!isDelegated(organisation, 'cooldown.exceptions', exception.spec)) undelegated('cooldown.exceptions', exception.spec.raw, exception.spec.location);
    exceptions.push(exception);
  }

  // scripts.fingerprints: what was reviewed. A recorded fingerprint widens what a range lets build (any recorded one
  // passes), so for a name the organisation records, its records alone count; the repository's count for other names.
  const organisationNames = new Set(organisation.scripts.fingerprints.map((f) => f.name));
  const fingerprints = [...organisation.scripts.fingerprints, ...repository.scripts.fingerprints.filter((f) => !organisationNames.has(f.name))];

  for (const path of repository.advisories.osv) {
    const key = `advisories.osv.${path}`;
    if (repository.origins[key]) take(key);
  }

  return {
    file: repository.file,
    extends: repository.extends,
    delegate: Object.create(null) as Policy['delegate'],
    origins,
    sources: [...organisation.sources, ...repository.sources],
    scripts: { allow: allowance('scripts.allow', organisation.scripts.allow, repository.scripts.allow), fingerprints },
    signatures: { require: signaturesRequire, allowUnsigned: allowance('signatures.allowUnsigned', organisation.signatures.allowUnsigned, repository.signatures.allowUnsigned) },
    registries,
    provenance: {
      require: requirement(organisation.provenance.require, repository.provenance.require),
      publishers,
      noDowngrade,
      allowDowngrade: allowance('provenance.allowDowngrade', organisation.provenance.allowDowngrade, repository.provenance.allowDowngrade),
      trustedRoot,
    },
    cooldown: { minimumReleaseAge, exclude: allowance('cooldown.exclude', organisation.cooldown.exclude, repository.cooldown.exclude), exceptions },
    advisories: { osv: [...new Set([...organisation.advisories.osv, ...repository.advisories.osv])] },
  };
}
