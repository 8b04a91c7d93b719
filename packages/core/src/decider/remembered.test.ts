import { describe, expect, it } from 'vitest';
import { isRememberedVerdict } from './remembered.js';

describe('isRememberedVerdict: a remembered verdict read back is hostile input', () => {
  const step = { id: 'good@1.0.0', name: 'good', version: '1.0.0', path: 'node_modules/good', scripts: ['postinstall'], bindingGyp: false, ownCode: false, inBundle: false };
  const verdict = { findings: [], notices: [], strippedRegistries: [], builds: [], signed: [], decidedAt: 1 };

  it('takes a verdict without a build plan, and one with well-formed build steps', () => {
    expect(isRememberedVerdict(verdict)).toBe(true);
    expect(isRememberedVerdict({ ...verdict, buildSteps: [step] })).toBe(true);
  });

  it('refuses build steps of the wrong shape', () => {
    for (const bad of [{ ...step, scripts: 'postinstall' }, { ...step, bindingGyp: 'yes' }, { ...step, ownCode: undefined }, { ...step, inBundle: 'no' }, { ...step, path: 7 }, null, [step]]) {
      expect(isRememberedVerdict({ ...verdict, buildSteps: [bad] }), JSON.stringify(bad)).toBe(false);
    }
    expect(isRememberedVerdict({ ...verdict, buildSteps: step })).toBe(false);
  });
});
