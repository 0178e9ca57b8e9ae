/**
 * Prints the plain closing line `N passed, N failed[, N skipped]` after Vitest's own report, so any
 * CI log reader sees the count in one standard form, and the ten slowest tests (what to trim when
 * the suite grows: it must stay well under 30 minutes on CI's two cores). A file that fails outside any
 * test (a hook, its import) counts as one failure and is named.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const times: { name: string; ms: number }[] = [];
    const brokenModules: string[] = [];
    for (const m of testModules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const ms = t.diagnostic()?.duration;
        if (ms !== undefined) times.push({ name: `${m.moduleId.replace(/^.*?\/(test|src)\//, '$1/')} › ${t.name}`, ms });
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') {
          failed++;
          failedHere++;
        } else skipped++;
      }
      // A file that failed outside any test (its import, a beforeAll/afterAll hook) counts as one failure:
      // its tests show as skipped, and the closing line must not read "0 failed".
      if (m.state() === 'failed' && failedHere === 0) {
        failed++;
        brokenModules.push(m.moduleId.replace(/^.*?\/(test|src)\//, '$1/'));
      }
    }
    times.sort((a, b) => b.ms - a.ms);
    const slowest = times.slice(0, 10).map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.name}`);
    if (slowest.length) process.stdout.write(`\nslowest tests:\n${slowest.join('\n')}\n`);
    if (brokenModules.length) process.stdout.write(`\nfailed outside a test (import or hook):\n${brokenModules.map((f) => `  ${f}`).join('\n')}\n`);
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
