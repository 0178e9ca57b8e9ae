import { defineConfig } from 'vitest/config';

/**
 * `npm run test:wild`: models a user brings from npm packages exray does not bundle (human models,
 * ESRGAN slim, Silero legacy, ISNet int8/fp16). Slow and memory-hungry, so not in `npm test`; one file
 * at a time so peak RSS figures are the model's own.
 */
export default defineConfig({
  test: {
    include: ['test/wild/**/*.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
