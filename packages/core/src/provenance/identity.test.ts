import { describe, expect, it } from 'vitest';
import { fulcioCertificate, githubExtensions } from './certificate.fixture.js';
import { IdentityError, identityFromCertificate, workflowPathOf } from './identity.js';
import { attestationVector, leafCertificate } from './vectors.fixture.js';

const identityOf = (extensions: Record<number, string>, san?: string) => identityFromCertificate(fulcioCertificate(extensions, san));
const refusal = (extensions: Record<number, string>, san?: string) => {
  try {
    identityOf(extensions, san);
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityError);
    return (error as Error).message;
  }
  throw new Error('the certificate was accepted');
};

describe('identityFromCertificate on real Fulcio certificates', () => {
  it('reads the v2 extensions of @playwright/cli@0.1.1 (ids, workflow from the build config URI)', () => {
    expect(identityFromCertificate(leafCertificate(attestationVector('@playwright/cli', '0.1.1')))).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'github.com/microsoft/playwright-cli',
      repositoryUri: 'https://github.com/microsoft/playwright-cli',
      repositoryId: '273562379',
      ownerId: '6154722',
      workflow: '.github/workflows/publish.yml',
      ref: 'refs/tags/v0.1.1',
      trigger: 'release',
      runnerEnvironment: 'github-hosted',
      commit: 'd1c6d1113932ddcee243e8b111b6d4aea553df20',
    });
  });

  it('reads the legacy v1 extensions of sigstore@0.4.0 (workflow from the SAN, no ids)', () => {
    expect(identityFromCertificate(leafCertificate(attestationVector('sigstore', '0.4.0')))).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'github.com/sigstore/sigstore-js',
      repositoryUri: 'https://github.com/sigstore/sigstore-js',
      workflow: '.github/workflows/publish.yml',
      ref: 'refs/tags/v0.4.0',
      trigger: 'release',
      commit: '8a2ee2fd20dda58ffa4a8d808a65cb1e04711c03',
    });
  });

  it('refuses bytes that are not a certificate', () => {
    expect(() => identityFromCertificate(Buffer.from('not a certificate'))).toThrow(IdentityError);
    expect(() => identityFromCertificate(new Uint8Array())).toThrow(IdentityError);
  });
});

describe('identityFromCertificate: exact values, no prefix or suffix matching', () => {
  it('release.yml.attacker.yml is its own workflow, not release.yml', () => {
    const id = identityOf(githubExtensions('acme/lib', '.github/workflows/release.yml.attacker.yml', 'refs/heads/main'));
    expect(id.workflow).toBe('.github/workflows/release.yml.attacker.yml');
    expect(id.repository).toBe('github.com/acme/lib');
  });

  it('a tag with @ in it: the workflow path ends where the ref begins, not at the last @', () => {
    const id = identityOf(githubExtensions('acme/mono', '.github/workflows/release.yml', 'refs/tags/pkg@1.2.3'));
    expect(id).toMatchObject({ workflow: '.github/workflows/release.yml', ref: 'refs/tags/pkg@1.2.3' });
  });

  it('a branch named main@refs/heads/x is that branch, with the real workflow', () => {
    const id = identityOf(githubExtensions('acme/lib', '.github/workflows/release.yml', 'refs/heads/main@refs/heads/x'));
    expect(id).toMatchObject({ workflow: '.github/workflows/release.yml', ref: 'refs/heads/main@refs/heads/x' });
  });

  it('the repository is lower-cased host/owner/repo; a look-alike repository stays itself', () => {
    expect(identityOf(githubExtensions('Acme/Lib', '.github/workflows/r.yml', 'refs/heads/main')).repository).toBe('github.com/acme/lib');
    expect(identityOf(githubExtensions('acme/lib-evil', '.github/workflows/r.yml', 'refs/heads/main')).repository).toBe('github.com/acme/lib-evil');
  });

  it('a build config outside the source repository is refused (a prefix is not enough)', () => {
    const ext = githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main', { 18: 'https://github.com/acme/lib-evil/.github/workflows/r.yml@refs/heads/main' });
    expect(refusal(ext)).toContain('is not in the source repository https://github.com/acme/lib');
  });

  it('a build config whose ref is not the certificate\'s ref is refused', () => {
    const ext = githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main', { 18: 'https://github.com/acme/lib/.github/workflows/r.yml@refs/heads/dev' });
    expect(refusal(ext)).toContain("does not end with the certificate's ref");
  });

  it('a GitHub workflow outside .github/workflows/ is refused', () => {
    for (const workflow of ['evil.yml', '.github/workflows/sub/r.yml', '.github/workflows/../../x.yml', '.github/actions/r.yml']) {
      expect(() => identityOf(githubExtensions('acme/lib', workflow, 'refs/heads/main')), workflow).toThrow(IdentityError);
    }
  });

  it('v1 and v2 extensions that disagree are refused', () => {
    expect(refusal({ ...githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main'), 6: 'refs/heads/other' })).toContain('ref extensions disagree');
    expect(refusal({ ...githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main'), 5: 'acme/other' })).toContain('repository extensions disagree');
  });

  it('.8 is the issuer, .1 its fallback for old certificates', () => {
    const { 8: _issuer, ...withoutV2Issuer } = githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main');
    expect(refusal(withoutV2Issuer)).toBe('the certificate names no OIDC issuer');
    expect(identityOf({ ...withoutV2Issuer, 1: 'https://token.actions.githubusercontent.com' }).issuer).toBe('https://token.actions.githubusercontent.com');
  });

  it('a v2 value that is not a DER UTF8String is refused', () => {
    const der = fulcioCertificate(githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main', {}), undefined, {});
    expect(identityFromCertificate(der).workflow).toBe('.github/workflows/r.yml');
    const { 20: _trigger, ...rest } = githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main');
    const raw = fulcioCertificate(rest, undefined, { 20: Buffer.from('push') });
    expect(() => identityFromCertificate(raw)).toThrow(/build trigger is not/);
  });

  it('a Fulcio extension present twice is refused (which one would count?)', () => {
    const ext = githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main');
    const twice = fulcioCertificate(ext, undefined, { 12: Buffer.concat([Buffer.from([0x0c, 24]), Buffer.from('https://github.com/evil/x')]) });
    expect(() => identityFromCertificate(twice)).toThrow('holds Fulcio extension 1.3.6.1.4.1.57264.1.12 twice');
  });

  it('control characters in a value are refused', () => {
    expect(refusal(githubExtensions('acme/lib', '.github/workflows/r.yml', 'refs/heads/main\nfake'))).toContain('control character');
  });
});

describe('identityFromCertificate: legacy certificates (workflow from the SAN)', () => {
  const legacy = (san: string, extra: Record<number, string> = {}) => ({
    extensions: { 1: 'https://token.actions.githubusercontent.com', 2: 'push', 3: 'abc', 5: 'acme/lib', 6: 'refs/tags/v1@x', ...extra },
    san,
  });

  it('reads the workflow from a GitHub workflow SAN, ref with @ included', () => {
    const { extensions, san } = legacy('https://github.com/acme/lib/.github/workflows/release.yml@refs/tags/v1@x');
    expect(identityOf(extensions, san)).toMatchObject({ repository: 'github.com/acme/lib', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1@x' });
  });

  it('refuses a SAN that is not a GitHub workflow of that repository', () => {
    for (const san of [
      'mailto:someone@example.com',
      'https://github.com/acme/lib-evil/.github/workflows/release.yml@refs/tags/v1@x',
      'https://gitlab.com/acme/lib/.github/workflows/release.yml@refs/tags/v1@x',
      'https://github.com/acme/lib/release.yml@refs/tags/v1@x',
      'https://github.com/acme/lib/.github/workflows/release.yml@refs/tags/v2',
    ]) {
      const { extensions } = legacy(san);
      expect(() => identityOf(extensions, san), san).toThrow(IdentityError);
    }
    const { extensions } = legacy('');
    expect(refusal(extensions)).toContain('no workflow');
  });

  it('refuses a legacy certificate from another issuer or with a malformed repository', () => {
    const san = 'https://github.com/acme/lib/.github/workflows/release.yml@refs/tags/v1@x';
    expect(refusal(legacy(san, { 1: 'https://accounts.example.com' }).extensions, san)).toBe('the certificate names no source repository');
    expect(refusal(legacy(san, { 5: 'acme/lib/extra' }).extensions, san)).toContain('is not owner/repo');
  });
});

describe('workflowPathOf', () => {
  it('cuts the certificate\'s ref off the end whole', () => {
    expect(workflowPathOf('https://github.com/o/r/.github/workflows/a.yml@refs/tags/x@1', 'https://github.com/o/r', 'refs/tags/x@1', true)).toBe('.github/workflows/a.yml');
  });
  it('without a known ref, splits at the first @ after the repository, never the last', () => {
    expect(workflowPathOf('https://github.com/o/r/.github/workflows/a.yml@refs/tags/x@1', 'https://github.com/o/r', undefined, true)).toBe('.github/workflows/a.yml');
  });
  it("reads GitLab's project//path form", () => {
    expect(workflowPathOf('https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main', 'https://gitlab.com/g/p', 'refs/heads/main', false)).toBe('.gitlab-ci.yml');
  });
});
