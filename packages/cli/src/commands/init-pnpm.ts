/**
 * `portcullis init pnpm`: writes the self-contained `.pnpmfile.cjs` (embedded in this CLI at build time)
 * and, if there is none, a starter portcullis.json that keeps the builds pnpm already allows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { approvalsFromPnpmSettings, findPolicyFile, PortcullisError, starterPolicyText, writeFileAtomic } from '@portcullis/core';
import { embeddedText } from '../embedded-texts.js';

/**
 * First line of every pnpmfile Portcullis writes: lets a later init upgrade it, and never touch anyone else's. ASCII,
 * like the rest of the file: one non-ASCII character makes Node hold the whole ~1 MB source as a two-byte string,
 * which cost each of pnpm 12's hook workers ~4 ms to load it (measured: a median 24.2 → 20.4 ms).
 */
export const PNPMFILE_HEADER = '// Portcullis pnpmfile - written by `portcullis init pnpm`; enforces portcullis.json. Do not edit: run init again to upgrade.';
/** The header of earlier versions (an em dash): still ours, so init upgrades such a file. */
const EARLIER_HEADERS = ['// Portcullis pnpmfile \u2014 written by `portcullis init pnpm`; enforces portcullis.json. Do not edit: run init again to upgrade.'];

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** pnpm's part of the gate: the self-contained `.pnpmfile.cjs` (refuses to replace anyone else's pnpmfile). */
export function enforcePnpm(dir: string): { changed: boolean; line: string } {
  // The built `packages/pnpm/dist/pnpmfile.cjs`, carried by the CLI's file (build.mjs).
  const carried = embeddedText('pnpmfile');
  if (carried === undefined) throw new PortcullisError('USAGE', 'this build of portcullis has no pnpmfile embedded; build packages/pnpm first');
  if (!existsSync(join(dir, 'package.json'))) throw new PortcullisError('USAGE', `${dir} has no package.json: run init in the project root (the folder of pnpm-lock.yaml), or pass --dir`);
  if (existsSync(join(dir, '.pnpmfile.mjs'))) {
    throw new PortcullisError('USAGE', `${join(dir, '.pnpmfile.mjs')} exists, and pnpm 11+ loads it instead of .pnpmfile.cjs: merge it into a .pnpmfile.cjs first`);
  }
  const pnpmfile = join(dir, '.pnpmfile.cjs');
  const existing = readIfExists(pnpmfile);
  if (existing !== undefined && ![PNPMFILE_HEADER, ...EARLIER_HEADERS].some((header) => existing.startsWith(header))) {
    throw new PortcullisError('USAGE', `${pnpmfile} exists and was not written by Portcullis; move its hooks elsewhere (or load Portcullis as a config dependency, see docs/pnpm.md) and run init again`);
  }
  const text = `${PNPMFILE_HEADER}\n${carried}`;
  if (existing !== text) writeFileAtomic(pnpmfile, text);
  return { changed: existing !== text, line: `${existing === undefined ? 'wrote' : existing === text ? 'unchanged' : 'upgraded'} ${pnpmfile}` };
}

/** The one step after setting pnpm up. */
export const PNPM_NEXT_STEP = "run `pnpm install` once (pnpm-lock.yaml records the pnpmfile's checksum; a --frozen-lockfile install fails until it does), then commit .pnpmfile.cjs, portcullis.json and pnpm-lock.yaml";

export async function initPnpm(dir: string): Promise<number> {
  process.stdout.write(`${enforcePnpm(dir).line}\n`);

  if (findPolicyFile(dir, process.env) === null) {
    const imported = approvalsFromPnpmSettings({
      ...(readIfExists(join(dir, 'pnpm-workspace.yaml')) !== undefined ? { workspaceYaml: readIfExists(join(dir, 'pnpm-workspace.yaml'))! } : {}),
      ...(readIfExists(join(dir, 'package.json')) !== undefined ? { packageJson: readIfExists(join(dir, 'package.json'))! } : {}),
    });
    const policyFile = join(dir, 'portcullis.json');
    writeFileAtomic(policyFile, starterPolicyText(imported.allow));
    process.stdout.write(`wrote ${policyFile}${imported.allow.length > 0 ? ` (scripts.allow from pnpm's settings: ${imported.allow.join(', ')})` : ''}\n`);
    for (const entry of imported.skipped) process.stdout.write(`not carried over: ${entry}\n`);
  }
  process.stdout.write(
    [
      'Commit .pnpmfile.cjs and portcullis.json. Then run `pnpm install` once so that pnpm-lock.yaml records the',
      "pnpmfile's checksum (a --frozen-lockfile install fails until the lockfile matches the pnpmfile).",
      '',
    ].join('\n'),
  );
  return 0;
}
