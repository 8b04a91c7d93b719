/**
 * What the provenance rule asks of one package version, answered from the policy alone: the decider uses these to
 * choose what to fetch, the evaluator to judge what was fetched.
 */
import { specMatches } from './spec.js';
import type { Policy, PublisherRule } from './types.js';

/** Whether `name@version` must carry verified provenance: a provenance.require entry or a publishers entry covers it. */
export function provenanceRequired(policy: Policy, name: string, version: string): boolean {
  return policy.provenance.require.some((spec) => specMatches(spec, name, version)) || publisherFor(policy, name, version) !== undefined;
}

/**
 * The publishers entry that pins `name@version`. An entry naming the package (with or without a range) beats a
 * `@scope/*` entry, so one package of a scope can be built elsewhere; among equals, the first in the file wins.
 */
export function publisherFor(policy: Policy, name: string, version: string): PublisherRule | undefined {
  const matching = policy.provenance.publishers.filter((rule) => specMatches(rule.spec, name, version));
  return matching.find((rule) => rule.spec.scope === undefined) ?? matching[0];
}

/** Whether a provenance downgrade of `name@version` is refused: noDowngrade is on and allowDowngrade does not cover it. */
export function noDowngradeApplies(policy: Policy, name: string, version: string): boolean {
  return policy.provenance.noDowngrade && !policy.provenance.allowDowngrade.some((spec) => specMatches(spec, name, version));
}
