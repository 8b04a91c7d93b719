/** Pure edits `portcullis init yarn` makes: register a plugin in `.yarnrc.yml`, read `dependenciesMeta.*.built`. */
import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq } from 'yaml';
import { PortcullisError } from '../errors.js';
import { parsePackageSpec } from '../policy/spec.js';

/** One entry of `plugins:` as `yarn plugin import` writes it (keys in Yarn's order). */
export interface YarnPluginEntry {
  /** sha512 (hex) of the plugin file. */
  checksum: string;
  /** Project-relative path of the plugin file. */
  path: string;
  spec: string;
}

/** Adds (or replaces, by path) a plugin entry in `.yarnrc.yml` text, keeping every other setting and comment. */
export function registerYarnPlugin(text: string, entry: YarnPluginEntry, file = '.yarnrc.yml'): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new PortcullisError('USAGE', `${file} is not valid YAML: ${doc.errors[0]!.message}`, { file });
  if (doc.contents === null) doc.contents = new YAMLMap() as never;
  if (!isMap(doc.contents)) throw new PortcullisError('USAGE', `${file} is not a mapping of settings`, { file });
  let plugins = doc.get('plugins');
  if (plugins === undefined || plugins === null) {
    plugins = new YAMLSeq();
    doc.set('plugins', plugins);
  }
  if (!isSeq(plugins)) throw new PortcullisError('USAGE', `${file}: "plugins" is not a list`, { file });
  const node = doc.createNode({ checksum: entry.checksum, path: entry.path, spec: entry.spec });
  const same = (item: unknown) => (isMap(item) && item.get('path') === entry.path) || (isScalar(item) && item.value === entry.path);
  // Replaced where it stands (a second init leaves the file as it was); new entries go last.
  const at = plugins.items.findIndex(same);
  plugins.items = plugins.items.filter((item, i) => i === at || !same(item));
  if (at < 0) plugins.items.push(node);
  else plugins.items[plugins.items.findIndex(same)] = node;
  return doc.toString();
}

/** `scripts.allow` entries for the packages a Yarn manifest marks `dependenciesMeta.<name>.built: true`. */
export function builtDependencies(manifestText: string, file = 'package.json'): { allow: string[]; skipped: string[] } {
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch (error) {
    throw new PortcullisError('USAGE', `${file} is not valid JSON: ${(error as Error).message}`, { file });
  }
  const meta = (manifest as { dependenciesMeta?: unknown })?.dependenciesMeta;
  const allow: string[] = [];
  const skipped: string[] = [];
  if (typeof meta !== 'object' || meta === null) return { allow, skipped };
  for (const [key, value] of Object.entries(meta)) {
    if ((value as { built?: unknown })?.built !== true) continue;
    // Keys are `name` or `name@version`, the same shapes scripts.allow takes.
    // Yarn reads a key literally: `@acme/*` names no package there, so it must not become a wildcard here.
    const spec = parsePackageSpec(key);
    if (typeof spec === 'string' || spec.scope !== undefined) skipped.push(key);
    else allow.push(key);
  }
  return { allow: allow.sort(), skipped };
}
