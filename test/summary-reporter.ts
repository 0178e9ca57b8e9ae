/**
 * Prints the plain closing line `N passed, N failed[, N skipped]` after Vitest's own report, so any
 * CI log reader sees the count in one standard form, and the ten slowest tests (what to trim when
 * the suite grows: it must stay well under 30 minutes on CI's two cores).
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const times: { name: string; ms: number }[] = [];
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const ms = t.diagnostic()?.duration;
        if (ms !== undefined) times.push({ name: `${m.moduleId.replace(/^.*?\/(test|src)\//, '$1/')} › ${t.name}`, ms });
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    times.sort((a, b) => b.ms - a.ms);
    const slowest = times.slice(0, 10).map((t) => `  ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.name}`);
    if (slowest.length) process.stdout.write(`\nslowest tests:\n${slowest.join('\n')}\n`);
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
