/** Just enough semver for a registry: validate versions and order them (for `latest` and `time`). */

const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

interface Parsed {
  release: [number, number, number];
  prerelease: string[];
}

function parse(version: string): Parsed {
  const match = VERSION.exec(version);
  if (!match) throw new Error(`not a semver version: ${JSON.stringify(version)}`);
  return { release: [Number(match[1]), Number(match[2]), Number(match[3])], prerelease: match[4] ? match[4].split('.') : [] };
}

/** True for a valid semver 2.0 version string. */
export function isVersion(version: string): boolean {
  return VERSION.test(version);
}

/** True when the version has a prerelease part (`1.0.0-beta.1`). */
export function isPrerelease(version: string): boolean {
  return parse(version).prerelease.length > 0;
}

/** Semver precedence: negative when a < b, 0 when equal (build metadata ignored), positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const diff = x.release[i]! - y.release[i]!;
    if (diff !== 0) return diff;
  }
  // A release outranks any of its prereleases.
  if (!x.prerelease.length || !y.prerelease.length) return y.prerelease.length - x.prerelease.length;
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const p = x.prerelease[i];
    const q = y.prerelease[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1; // numeric identifiers sort before alphanumeric ones
    return p < q ? -1 : 1;
  }
  return 0;
}
