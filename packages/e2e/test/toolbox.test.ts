import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { npm, pnpm, yarn } from '../src/toolbox.js';

describe('toolbox', () => {
  for (const tool of [npm(10), npm(11), npm(12), pnpm(10), pnpm(11), pnpm(12), yarn(), yarn('4.14'), yarn('4.0')]) {
    it(`${tool.name} ${tool.version} starts`, () => {
      const r = spawnSync(tool.command, [...tool.args, '--version'], { encoding: 'utf8', cwd: tmpdir(), env: { ...process.env, COREPACK_ENABLE_STRICT: '0' } });
      expect(r.stdout.trim()).toBe(tool.version);
    });
  }
});
