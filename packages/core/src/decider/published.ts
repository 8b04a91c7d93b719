/**
 * The edge that collects publish times for the cooldown: the registry's `time[version]` from the full packument
 * (abbreviated documents have none), fetched only for the versions the cooldown applies to, and remembered
 * (authenticated) once known — a version's publish time never changes. A fetch that fails is "unavailable";
 * a missing or unreadable time is null: never "old enough".
 */
import type { AuthenticatedMemo } from '../cache/authenticated-memo.js';
import { isOwnCode, type PackageNode } from '../model.js';
import { createSpecMatcher } from '../policy/spec.js';
import type { Policy } from '../policy/types.js';
import type { RegistryClient } from '../registry/client.js';

export interface PublishedGatherOptions {
  policy: Policy;
  client: RegistryClient;
  /** Packages already undecidable, or bundled copies (their parent's age covers them): skipped. */
  skip: (pkg: PackageNode) => boolean;
  memo?: AuthenticatedMemo<string>;
}

/** A remembered publish time: an ISO date string the registry gave. */
export function isPublishTime(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && !Number.isNaN(Date.parse(value));
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Publish times of the registry versions the cooldown applies to, and the ids that could not be decided. */
export async function gatherPublishTimes(packages: readonly PackageNode[], options: PublishedGatherOptions): Promise<{ published: Map<string, string | null>; unavailable: Map<string, string> }> {
  const published = new Map<string, string | null>();
  const unavailable = new Map<string, string>();
  if (options.policy.cooldown.minimumReleaseAge === null) return { published, unavailable };
  const excluded = createSpecMatcher(options.policy.cooldown.exclude);
  await Promise.all(
    packages.map(async (pkg) => {
      if (isOwnCode(pkg) || pkg.source !== 'registry' || pkg.registry === undefined || options.skip(pkg) || excluded(pkg.name, pkg.version)) return;
      const key = JSON.stringify([pkg.registry, pkg.name, pkg.version]);
      const known = options.memo?.get(key);
      if (known !== undefined) {
        published.set(pkg.id, known);
        return;
      }
      try {
        const full = await options.client.getPackument(pkg.name, { registry: pkg.registry, version: pkg.version, full: true });
        const time = full.time.get(pkg.version);
        const valid = time !== undefined && isPublishTime(time) ? time : null;
        published.set(pkg.id, valid);
        if (valid !== null) options.memo?.set(key, valid);
      } catch (error) {
        unavailable.set(pkg.id, `cannot tell how old it is: ${reasonOf(error)}`);
      }
    }),
  );
  return { published, unavailable };
}
