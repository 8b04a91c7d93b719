/** Pure edits of portcullis.json text, for `portcullis approve` and `portcullis init`. */
import { PortcullisError } from '../errors.js';
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { parsePolicy } from './load.js';
import { fingerprintJson } from './fingerprint.js';
import { parsePackageSpec } from './spec.js';
import type { PublisherPin, ScriptFingerprint } from './types.js';

/** The starter policy `init` writes when there is none. */
export function starterPolicyText(allow: readonly string[] = []): string {
  return `${JSON.stringify(
    {
      $schema: './node_modules/@portcullis/cli/dist/schema.json',
      scripts: { allow: [...allow] },
      signatures: { require: 'registry', allowUnsigned: [] },
      registries: { [NPM_REGISTRY_URL]: { keys: 'npm' } },
    },
    null,
    2,
  )}\n`;
}

/**
 * One edit of policy text: validated before (never build on a broken policy) and after, written back with the
 * file's own indentation, every other setting kept.
 */
function editPolicy<D, R>(text: string, file: string, change: (doc: D) => R): { text: string; result: R } {
  parsePolicy(text, file);
  const doc = JSON.parse(text) as D;
  const result = change(doc);
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  const out = `${JSON.stringify(doc, null, indent)}\n`;
  parsePolicy(out, file);
  return { text: out, result };
}

/**
 * Adds entries to scripts.allow, keeping every other setting; entries already present are skipped. With
 * `fingerprints` (`name@version` → what it runs), records each in scripts.fingerprints, replacing an older record of
 * that version; keys stay sorted, so two branches approving different versions add lines apart from each other.
 * The text is validated first, so approve never builds on a broken policy.
 */
export function addScriptApprovals(text: string, file: string, entries: readonly string[], fingerprints: ReadonlyArray<{ entry: string; fingerprint: ScriptFingerprint }> = []): { text: string; added: string[]; recorded: string[] } {
  const edited = editPolicy(text, file, (doc: { scripts?: { allow?: string[]; fingerprints?: Record<string, Record<string, string>> } }) => {
    const scripts = (doc.scripts ??= {});
    const allow = (scripts.allow ??= []);
    const added = entries.filter((entry, i) => !allow.includes(entry) && entries.indexOf(entry) === i);
    allow.push(...added);
    const recorded: string[] = [];
    if (fingerprints.length > 0) {
      const table = (scripts.fingerprints ??= {});
      for (const { entry, fingerprint } of fingerprints) {
        const parsed = parsePackageSpec(entry);
        if (typeof parsed === 'string' || parsed.range === null) throw new PortcullisError('USAGE', `cannot record the install scripts of "${entry}": expected "name@version"`);
        const value = fingerprintJson(fingerprint);
        const before = Object.prototype.hasOwnProperty.call(table, entry) ? JSON.stringify(table[entry]) : undefined;
        if (before === JSON.stringify(value)) continue;
        // defineProperty: a key such as "__proto__@1.0.0" becomes a plain entry, never a prototype write.
        Object.defineProperty(table, entry, { value, enumerable: true, writable: true, configurable: true });
        if (!recorded.includes(entry)) recorded.push(entry);
      }
      const sorted: Record<string, Record<string, string>> = {};
      for (const key of Object.keys(table).sort()) Object.defineProperty(sorted, key, { value: table[key], enumerable: true, writable: true, configurable: true });
      scripts.fingerprints = sorted;
    }
    return { added, recorded };
  });
  return { text: edited.text, ...edited.result };
}

/**
 * Sets provenance.publishers entries (for `portcullis approve --publisher`), keeping every other setting; an
 * entry already pinned to exactly that publisher is left alone. Validated before and after, like approvals.
 */
export function setPublisherPins(text: string, file: string, pins: ReadonlyArray<{ spec: string; publisher: PublisherPin }>): { text: string; changed: string[] } {
  const edited = editPolicy(text, file, (doc: { provenance?: { publishers?: Record<string, PublisherPin> } }) => {
    const publishers = ((doc.provenance ??= {}).publishers ??= {});
    const changed: string[] = [];
    for (const { spec, publisher } of pins) {
      const parsed = parsePackageSpec(spec);
      if (typeof parsed === 'string') throw new PortcullisError('USAGE', `cannot pin the publisher of "${spec}": ${parsed}`);
      // Fields in a fixed order, and only these: nothing from the caller's object rides along.
      const pin: PublisherPin = { repository: publisher.repository, workflow: publisher.workflow };
      if (publisher.repositoryId !== undefined) pin.repositoryId = publisher.repositoryId;
      if (publisher.ownerId !== undefined) pin.ownerId = publisher.ownerId;
      const before = Object.prototype.hasOwnProperty.call(publishers, spec) ? JSON.stringify(publishers[spec]) : undefined;
      if (before === JSON.stringify(pin)) continue;
      // defineProperty: a key such as "constructor" becomes a plain entry, never a prototype write.
      Object.defineProperty(publishers, spec, { value: pin, enumerable: true, writable: true, configurable: true });
      if (!changed.includes(spec)) changed.push(spec);
    }
    return changed;
  });
  return { text: edited.text, changed: edited.result };
}

/**
 * Adds time-boxed cooldown exceptions (`portcullis approve --cooldown`): `spec → until` in cooldown.exceptions, keeping
 * every other setting; a later `until` for an existing spec replaces an earlier one. Validated before and after.
 */
export function addCooldownExceptions(text: string, file: string, exceptions: ReadonlyArray<{ spec: string; until: string }>): { text: string; changed: string[] } {
  const edited = editPolicy(text, file, (doc: { cooldown?: { exceptions?: Record<string, string> } }) => {
    const table = ((doc.cooldown ??= {}).exceptions ??= {});
    const changed: string[] = [];
    for (const { spec, until } of exceptions) {
      const parsed = parsePackageSpec(spec);
      if (typeof parsed === 'string') throw new PortcullisError('USAGE', `cannot add a cooldown exception for "${spec}": ${parsed}`);
      const before = Object.prototype.hasOwnProperty.call(table, spec) ? table[spec] : undefined;
      if (before !== undefined && Date.parse(before) >= Date.parse(until)) continue;
      Object.defineProperty(table, spec, { value: until, enumerable: true, writable: true, configurable: true });
      changed.push(spec);
    }
    return changed;
  });
  return { text: edited.text, changed: edited.result };
}
