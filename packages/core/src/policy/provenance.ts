/**
 * What the provenance rule asks of one package version, answered from the policy alone: the decider uses these to
 * choose what to fetch, the evaluator to judge what was fetched. The spec lists are indexed once per policy
 * (by name and scope), so a policy that lists thousands of names costs a lookup per package, not a scan.
 */
import { createSpecMatcher } from './spec.js';
import type { PackageSpec, Policy, PublisherRule } from './types.js';

type Matcher = (name: string, version: string) => PackageSpec | undefined;

interface Matchers {
  require: Matcher;
  /** publishers entries naming a package (with or without a range) */
  named: Matcher;
  /** publishers entries for a whole scope */
  scoped: Matcher;
  ruleOf: Map<PackageSpec, PublisherRule>;
  allowDowngrade: Matcher;
}

const indexed = new WeakMap<Policy, Matchers>();

function matchersOf(policy: Policy): Matchers {
  let known = indexed.get(policy);
  if (known === undefined) {
    const rules = policy.provenance.publishers;
    known = {
      require: createSpecMatcher(policy.provenance.require, 'requires'),
      named: createSpecMatcher(rules.filter((rule) => rule.spec.scope === undefined).map((rule) => rule.spec), 'requires'),
      scoped: createSpecMatcher(rules.filter((rule) => rule.spec.scope !== undefined).map((rule) => rule.spec), 'requires'),
      ruleOf: new Map(rules.map((rule) => [rule.spec, rule])),
      allowDowngrade: createSpecMatcher(policy.provenance.allowDowngrade),
    };
    indexed.set(policy, known);
  }
  return known;
}

/** Whether `name@version` must carry verified provenance: a provenance.require entry or a publishers entry covers it. */
export function provenanceRequired(policy: Policy, name: string, version: string): boolean {
  return matchersOf(policy).require(name, version) !== undefined || publisherFor(policy, name, version) !== undefined;
}

/**
 * The publishers entry that pins `name@version`. An entry naming the package (with or without a range) beats a
 * `@scope/*` entry, so one package of a scope can be built elsewhere; among equals, the first in the file wins.
 */
export function publisherFor(policy: Policy, name: string, version: string): PublisherRule | undefined {
  const matchers = matchersOf(policy);
  const spec = matchers.named(name, version) ?? matchers.scoped(name, version);
  return spec === undefined ? undefined : matchers.ruleOf.get(spec);
}

/** Whether a provenance downgrade of `name@version` is refused: noDowngrade is on and allowDowngrade does not cover it. */
export function noDowngradeApplies(policy: Policy, name: string, version: string): boolean {
  return policy.provenance.noDowngrade && matchersOf(policy).allowDowngrade(name, version) === undefined;
}
