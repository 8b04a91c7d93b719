import { defineConfig } from 'vitest/config';

// Real package managers are slow and share two cores: run test files one at a time, with room to breathe.
export default defineConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
