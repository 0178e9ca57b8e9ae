import { defineConfig } from 'vitest/config';

/** `npm run test:load`: the slow load suites (not in `npm test`; the benchmark runs them too). */
export default defineConfig({
  test: {
    include: ['test/load/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
