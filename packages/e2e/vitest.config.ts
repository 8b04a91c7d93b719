import { defineConfig } from 'vitest/config';

// Real package managers are slow and CPU-bound: two test files at a time, one per core (a file's installs run one
// after another). Every test builds its own project, home, caches and stores under its own temporary folder, and
// each file starts its own registries on ports the system picks (Verdaccio's is picked by listening on port 0 and
// closing it before Verdaccio takes it: another file could take it in between, not seen so far). turbo starts this suite
// after the other packages' tests (turbo.json), whose bounded-time checks then do not compete with it.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
