/**
 * `exray --max NAME=VALUE`: a resource limit set for one run from the command line, the same as its
 * EXRAY_MAX_* variable (docs/limits.md); checked before the model loads; a bad name or value is one line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LIMIT_ENV } from '../src/limits.ts';
import { MODELS, SAMPLES, runCli } from './helpers.ts';

const saved = { ...process.env };
afterEach(() => {
  for (const k of Object.values(LIMIT_ENV)) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe('--max', () => {
  it('lowers a limit for this run, by name or by variable, repeatable', async () => {
    const args = ['trace', `${MODELS}/emotion`, '--image', `${SAMPLES}/chelsea.png`, '--runs', '10', '--warmup', '3', '--out', '/nonexistent-dir/x.exray'];
    const r = await runCli(['--max', 'runs=5', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^exray: --runs: 10 timed runs is over the limit of 5/m);
    const w = await runCli(['--max', 'EXRAY_MAX_RUNS=50', '--max', 'warmup=1', ...args]);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/^exray: --warmup: 3 warm-up runs is over the limit of 1/m);
  });

  it('refuses an unknown limit or a value that is not a count, in one line', async () => {
    for (const [spec, msg] of [['bogus=5', /unknown limit bogus \(one of fileBytes, imagePixels/], ['runs=-1', /runs must be a non-negative integer, got "-1"/], ['runs', /expected NAME=VALUE/]] as const) {
      const r = await runCli(['--max', spec, 'inspect', 'none.exray']);
      expect(r.code, spec).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(msg);
    }
  });
});
