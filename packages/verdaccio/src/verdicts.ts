/**
 * Verdicts remembered per `name@version` + integrity (and policy): bounded, in memory, each for a limited time so
 * a new advisory or a changed policy is met within `recheckMs`. What is remembered only saves work: an instance
 * that remembers nothing gives the same answers (several instances behind a load balancer agree).
 */
import type { VersionVerdict } from './packument.js';

export class VerdictCache {
  readonly #entries = new Map<string, { verdict: VersionVerdict; until: number }>();
  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static key(policy: string, name: string, version: string, integrity: string): string {
    return `${policy}\n${name}@${version}\n${integrity}`;
  }

  get(key: string): VersionVerdict | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    // Most recently used last: the first entries are the ones evicted.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.verdict;
  }

  set(key: string, verdict: VersionVerdict): void {
    this.#entries.delete(key);
    this.#entries.set(key, { verdict, until: this.now() + this.ttlMs });
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
