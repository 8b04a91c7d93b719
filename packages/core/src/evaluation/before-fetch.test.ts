import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../policy/load.js';
import { evaluateBeforeFetch } from './before-fetch.js';

const policy = (json: object) => parsePolicy(JSON.stringify(json), '/p/portcullis.json');
const GIT = { name: 'git-thing', source: 'git' as const, resolved: 'git+https://git.example/git-thing.git#commit=abc' };
const codes = (json: object) => evaluateBeforeFetch(policy(json), GIT).map((f) => f.code);

describe('evaluateBeforeFetch: a dependency whose fetch runs its code, judged before its version is known', () => {
  it('needs both signatures.allowUnsigned and scripts.allow, by name', () => {
    expect(codes({})).toEqual(['SCRIPT_NOT_ALLOWED', 'UNSIGNED_SOURCE']);
    expect(codes({ signatures: { allowUnsigned: ['git-thing'] } })).toEqual(['SCRIPT_NOT_ALLOWED']);
    expect(codes({ scripts: { allow: ['git-thing'] } })).toEqual(['UNSIGNED_SOURCE']);
    expect(codes({ scripts: { allow: ['git-thing'] }, signatures: { allowUnsigned: ['git-thing'] } })).toEqual([]);
    expect(codes({ scripts: { allow: ['git-thing'] }, signatures: { require: 'off' } })).toEqual([]);
  });

  it('a ranged entry cannot cover a version not known yet; a scope wildcard covers every version', () => {
    expect(codes({ scripts: { allow: ['git-thing@^1.0.0'] }, signatures: { allowUnsigned: ['git-thing@*'] } })).toEqual(['SCRIPT_NOT_ALLOWED', 'UNSIGNED_SOURCE']);
    const scoped = { ...GIT, name: '@acme/git-thing' };
    expect(evaluateBeforeFetch(policy({ scripts: { allow: ['@acme/*'] }, signatures: { allowUnsigned: ['@acme/*'] } }), scoped)).toEqual([]);
  });

  it('names the package by its origin, says why, and fixes with a name entry (never an approve of a version)', () => {
    const [scripts, unsigned] = evaluateBeforeFetch(policy({}), GIT);
    expect(scripts).toMatchObject({ package: 'git-thing', version: GIT.resolved, id: `git-thing@${GIT.resolved}`, rule: 'scripts', fix: 'add "git-thing" to scripts.allow in portcullis.json only if you trust every line of code in that repository' });
    expect(scripts!.message).toBe(
      `git-thing (a git repository, ${GIT.resolved}) is built by the package manager when it fetches it, while it resolves and before its version is known (its prepare, prepack, postpack and install scripts run, and its own dependencies are installed), and no scripts.allow entry covers every version of git-thing`,
    );
    expect(unsigned).toMatchObject({ rule: 'signatures', fix: 'add "git-thing" to signatures.allowUnsigned in portcullis.json if you trust that source' });
    expect(unsigned!.message).toContain('git-thing (a git repository, git+https://git.example/git-thing.git#commit=abc) carries no registry signature');
  });

  it('the user\'s own code is exempt', () => {
    expect(evaluateBeforeFetch(policy({}), { name: 'mine', source: 'directory', resolved: 'file:packages/mine', insideProject: true })).toEqual([]);
  });
});
