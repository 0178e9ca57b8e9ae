// Preloaded (node --import) into every CLI run of the hostile harness: at exit, reports the process's own
// peak RSS (getrusage ru_maxrss, kB) on fd 3 when the harness opened it. Exact where sampling is not: a
// spike between two samples still counts.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  try {
    writeSync(3, `maxrss-kb ${process.resourceUsage().maxRSS}\n`);
  } catch {
    // fd 3 not open (run outside the harness): nothing to report
  }
});
