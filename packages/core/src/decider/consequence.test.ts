import { describe, expect, it } from 'vitest';
import type { Finding } from '../finding.js';
import { consequenceOf } from './consequence.js';

const finding = (code: Finding['code'], name = 'x'): Finding => ({ package: name, version: '1.0.0', rule: code === 'SCRIPT_NOT_ALLOWED' ? 'scripts' : 'signatures', code, message: '', fix: '', id: `${name}@1.0.0` });
const install = { purpose: 'install', strict: false } as const;

describe('consequenceOf', () => {
  it('installs past script findings, stops on signature findings', () => {
    const out = consequenceOf([finding('SCRIPT_NOT_ALLOWED'), finding('UNSIGNED', 'y')], install);
    expect(out.skipped.map((f) => f.code)).toEqual(['SCRIPT_NOT_ALLOWED']);
    expect(out.blocking.map((f) => f.code)).toEqual(['UNSIGNED']);
    expect(out.exitCode).toBe(1);
  });

  it('strict makes a skipped script a block; undecidable is exit 3', () => {
    expect(consequenceOf([finding('SCRIPT_NOT_ALLOWED')], { ...install, strict: true }).exitCode).toBe(1);
    expect(consequenceOf([finding('SCRIPT_NOT_ALLOWED')], install).exitCode).toBe(0);
    expect(consequenceOf([finding('METADATA_UNAVAILABLE'), finding('UNSIGNED')], install).exitCode).toBe(3);
  });

  it('a check counts every finding; a script the package manager cannot skip blocks', () => {
    expect(consequenceOf([finding('SCRIPT_NOT_ALLOWED')], { purpose: 'check', strict: false })).toMatchObject({ exitCode: 1, skipped: [] });
    const unskippable = consequenceOf([finding('SCRIPT_NOT_ALLOWED', 'git-dep'), finding('SCRIPT_NOT_ALLOWED', 'reg')], { ...install, scriptsUnskippable: new Set(['git-dep@1.0.0']) });
    expect(unskippable.blocking.map((f) => f.package)).toEqual(['git-dep']);
    expect(unskippable.skipped.map((f) => f.package)).toEqual(['reg']);
    expect(unskippable.exitCode).toBe(1);
  });

  it('SCRIPT_CHANGED (an approved package whose install scripts changed) stops an install even without strict mode', () => {
    const changed: Finding = { ...finding('SCRIPT_CHANGED', 'lib'), rule: 'scripts' };
    expect(consequenceOf([changed, finding('SCRIPT_NOT_ALLOWED', 'other')], install)).toMatchObject({ blocking: [changed], exitCode: 1 });
  });
});

describe('patched packages a package manager builds unasked (pnpm 10)', () => {
  it('are those a patch may give scripts whose own files have none', async () => {
    const { patchedBuiltUnasked } = await import('./consequence.js');
    const node = (name: string, patched: boolean) => ({ id: `${name}@1.0.0`, name, version: '1.0.0', source: 'registry' as const, aliases: [], paths: [], dependents: [], ...(patched ? { patches: [{ hash: 'h', files: [] }] } : {}) });
    const none = { hasInstallScript: false, scripts: [], bindingGyp: false, source: 'metadata' as const };
    const own = { hasInstallScript: true, scripts: ['postinstall'], bindingGyp: false, source: 'metadata' as const };
    const packages = [node('adds', true), node('benign', true), node('own', true), node('unread', true), node('plain', false)];
    const evidence = {
      scripts: new Map([['adds@1.0.0', none], ['benign@1.0.0', none], ['own@1.0.0', own], ['unread@1.0.0', none], ['plain@1.0.0', none]]),
      patches: new Map([['adds@1.0.0', { mayAddScripts: true, reason: 'r' }], ['benign@1.0.0', { mayAddScripts: false, reason: 'r' }], ['own@1.0.0', { mayAddScripts: true, reason: 'r' }]]),
    };
    // `own` has scripts of its own: pnpm 10 asks its allowBuilds list for it, so it is skipped like any other.
    expect([...patchedBuiltUnasked(packages, evidence)]).toEqual(['adds@1.0.0', 'unread@1.0.0']);
    // r43b: patched by the settings alone (no patch in the lockfile): its evidence decides.
    const bySettings = { ...evidence, patches: new Map([...evidence.patches, ['plain@1.0.0', { mayAddScripts: true, reason: 'r' }]]) };
    expect([...patchedBuiltUnasked(packages, bySettings)]).toEqual(['adds@1.0.0', 'unread@1.0.0', 'plain@1.0.0']);
  });
});
