/**
 * A bounded pool of farm cells: at most `jobs` at once, each attempt under a timeout, errors retried
 * up to `retries` times unless the error says retrying is pointless (a lost or unreachable device). A
 * task never rejects the pool: every task ends as an Outcome, so one bad device fails only its cells.
 */

export interface PoolTask<T> {
  id: string;
  /** `signal` aborts when the attempt times out: release what the attempt holds (close its page). */
  run(signal: AbortSignal, attempt: number): Promise<T>;
}

export type Outcome<T> =
  | { ok: true; value: T; attempts: number; ms: number }
  | { ok: false; error: string; attempts: number; ms: number; timedOut: boolean };

export interface PoolOptions {
  jobs: number;
  timeoutMs: number;
  retries: number;
  /** False: do not retry this error (default: retry everything but FinalError). */
  retryable?: (e: unknown) => boolean;
  onStart?: (id: string) => void;
  onEnd?: (id: string, outcome: Outcome<unknown>) => void;
}

/** An error that no retry can fix (the device is gone, the cell's input is wrong). */
export class FinalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FinalError';
  }
}

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${Math.round(ms / 1000)} s`);
    this.name = 'TimeoutError';
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function attemptOnce<T>(task: PoolTask<T>, timeoutMs: number, attempt: number): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      const e = new TimeoutError(timeoutMs);
      ctl.abort(e);
      fail(e);
    }, timeoutMs);
  });
  const run = task.run(ctl.signal, attempt);
  // The losing promise must not surface as an unhandled rejection.
  run.catch(() => {});
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function runPool<T>(tasks: readonly PoolTask<T>[], opts: PoolOptions): Promise<Outcome<T>[]> {
  const results: Outcome<T>[] = new Array<Outcome<T>>(tasks.length);
  const retryable = opts.retryable ?? ((e: unknown) => !(e instanceof FinalError));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const k = next++;
      const task = tasks[k];
      if (!task) return;
      opts.onStart?.(task.id);
      const t0 = performance.now();
      let outcome: Outcome<T> | undefined;
      for (let attempt = 1; attempt <= 1 + opts.retries; attempt++) {
        try {
          const value = await attemptOnce(task, opts.timeoutMs, attempt);
          outcome = { ok: true, value, attempts: attempt, ms: performance.now() - t0 };
          break;
        } catch (e) {
          outcome = { ok: false, error: messageOf(e), attempts: attempt, ms: performance.now() - t0, timedOut: e instanceof TimeoutError };
          if (!retryable(e)) break;
        }
      }
      results[k] = outcome!;
      opts.onEnd?.(task.id, outcome!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, tasks.length)) }, worker));
  return results;
}
