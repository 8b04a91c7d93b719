import { it } from 'vitest';
import { readNpmLockfile } from './npm.js';
import { readYarnLockfile } from './yarn.js';
import { readPnpmLockfile } from './pnpm.js';
const o = { path: '/w/a/yarn.lock', projectDir: '/w/a', registryFor: () => 'https://r/' };
const t = (label: string, f: () => unknown) => { const s = performance.now(); try { f(); } catch (e) { console.log(label, 'threw', String(e).slice(0, 120)); } console.log(label, Math.round(performance.now() - s)); };
it('measure', () => {
  for (const n of [10_000, 20_000, 40_000]) {
    const lines = ['__metadata:', '  version: 8'];
    for (let i = 0; i < n; i++) lines.push(`"p${i}@npm:1.0.0":`, '  version: 1.0.0', `  resolution: "p${i}@npm:1.0.0"`);
    t(`yarn ${n}`, () => readYarnLockfile(lines.join('\n'), o));
    const pl = ['lockfileVersion: "9.0"', 'packages:'];
    for (let i = 0; i < n; i++) pl.push(`  p${i}@1.0.0:`, '    resolution: {integrity: sha512-AA==}');
    t(`pnpm yaml ${n}`, () => readPnpmLockfile(pl.join('\n'), o));
    const packages: Record<string, unknown> = { '': {} };
    for (let i = 0; i < n * 5; i++) packages[`node_modules/p${i}`] = { version: '1.0.0', integrity: 'sha512-AAAA' };
    t(`npm ${n * 5}`, () => readNpmLockfile(JSON.stringify({ lockfileVersion: 3, packages }), o));
  }
  const descriptors = Array.from({ length: 50_000 }, (_, i) => `x@npm:^1.${i}`).join(', ');
  t('yarn descriptors', () => readYarnLockfile(`__metadata:\n  version: 8\n"${descriptors}":\n  version: 1.0.0\n  resolution: "x@npm:1.0.0"\n`, o));
  t('npm deep', () => readNpmLockfile(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, o));
  const long = JSON.stringify({ lockfileVersion: 3, packages: { '': {}, [`node_modules/${'a'.repeat(10_000_000)}`]: { version: '1'.repeat(1_000_000) } } });
  t('npm long', () => readNpmLockfile(long, o));
  t('npm integrity', () => readNpmLockfile(JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/x': { version: '1.0.0', integrity: `${'sha1-AAAsha1'.repeat(200_000)}!` } } }), o));
}, 600_000);
