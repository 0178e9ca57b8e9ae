import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Load suites (`npm run test:load`, the benchmark) and wild models (`npm run test:wild`) are not in `npm test`.
    exclude: ['test/load/**', 'test/wild/**', 'node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep real-model tests from fighting over them.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
