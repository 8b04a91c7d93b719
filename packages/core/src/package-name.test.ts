import { describe, expect, it } from 'vitest';
import { registryPackageOf } from './package-name.js';

describe('registryPackageOf', () => {
  it('names the registry package behind npm, pnpm and Yarn dependency specs', () => {
    expect(registryPackageOf('left-pad', '^1.2.0')).toBe('left-pad');
    expect(registryPackageOf('left-pad', 'npm:^1.2.0')).toBe('left-pad');
    expect(registryPackageOf('pad', 'npm:left-pad@^1.2.0')).toBe('left-pad');
    expect(registryPackageOf('logger', 'npm:@acme/logger@2.1.0')).toBe('@acme/logger');
    expect(registryPackageOf('@acme/logger', 'latest')).toBe('@acme/logger');
  });

  it('is undefined for sources without registry metadata, and for invalid names', () => {
    for (const spec of ['workspace:*', 'file:../x', 'link:../x', 'git+https://h/x.git', 'https://h/x.tgz', 'user/repo', 'patch:x@npm%3A1.0.0#./p.patch', 'github:user/repo']) {
      expect(registryPackageOf('x', spec), spec).toBeUndefined();
    }
    expect(registryPackageOf('x', 'npm:../evil@1.0.0')).toBeUndefined();
    expect(registryPackageOf('../evil', '1.0.0')).toBeUndefined();
  });
});
