/**
 * The files `init` writes (the pnpmfile, the Yarn plugin): carried at the end of the CLI's own file, compressed, as line
 * comments (core's cache/embedded.ts), so that no other command pays for them on every start (as string literals, V8
 * scanned and allocated their ~2.8 MB on every start). Taken back from that file when `init` needs one, and only when it has the
 * hash build.mjs recorded.
 */
import { verifiedSection } from '@portcullis/core/loader';

/** Each text's marker line and hash, defined by build.mjs (undefined when the CLI runs from source). */
declare const PORTCULLIS_TEXTS: Record<string, { marker: string; hash: string }> | undefined;

export type EmbeddedTextName = 'pnpmfile' | 'yarn-plugin';

/**
 * The text the CLI carries under `name`; undefined when this build carries none (the CLI run from source). Throws when
 * the CLI's file does not have it as built.
 */
export function embeddedText(name: EmbeddedTextName): string | undefined {
  if (typeof PORTCULLIS_TEXTS !== 'object' || PORTCULLIS_TEXTS === null || !Object.hasOwn(PORTCULLIS_TEXTS, name)) return undefined;
  const { marker, hash } = PORTCULLIS_TEXTS[name]!;
  const text = verifiedSection(__filename, marker, hash);
  if (text === undefined) throw new Error(`${__filename} is damaged (the ${name} it carries does not match its hash): install @portcullis/cli again`);
  return text;
}
