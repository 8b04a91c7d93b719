/** Pure edits of portcullis.json text, for `portcullis approve` and `portcullis init`. */
import { NPM_REGISTRY_URL } from '../registry-url.js';
import { parsePolicy } from './load.js';

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
 * Adds entries to scripts.allow, keeping every other setting; entries already present are skipped.
 * The text is validated first, so approve never builds on a broken policy.
 */
export function addScriptApprovals(text: string, file: string, entries: readonly string[]): { text: string; added: string[] } {
  parsePolicy(text, file);
  const doc = JSON.parse(text) as { scripts?: { allow?: string[] } };
  const scripts = (doc.scripts ??= {});
  const allow = (scripts.allow ??= []);
  const added = entries.filter((entry, i) => !allow.includes(entry) && entries.indexOf(entry) === i);
  allow.push(...added);
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  const out = `${JSON.stringify(doc, null, indent)}\n`;
  parsePolicy(out, file);
  return { text: out, added };
}
