/**
 * The hostile-input harness: runs one exray CLI command (`node bin/exray.mjs …`) in a child process under a
 * memory cap (V8's `--max-old-space-size` plus an RSS watchdog that samples VmRSS of the child's whole
 * process tree from /proc and kills it past a cap) and a time cap. Returns the exit code, stdout, stderr,
 * the peak RSS (the larger of the sampled tree RSS and the child's own getrusage peak, reported at exit by
 * peak-rss.mjs) and whether a cap fired.
 *
 *   const r = await runExray(['inspect', file], { rssCapMB: 300, timeoutMs: 10_000 });
 *   expect(r.code).toBe(2);
 *   expect(r.peakRssMB).toBeLessThan(300);
 *
 * Linux only for the watchdog (/proc); elsewhere only the time cap and the getrusage peak work.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';

export const ROOT = join(import.meta.dirname, '..', '..');
export const EXRAY_BIN = join(ROOT, 'bin', 'exray.mjs');
const PEAK_RSS_PRELOAD = join(import.meta.dirname, 'peak-rss.mjs');

export interface HostileOptions {
  /** Working directory of the child (default: the repo root). */
  cwd?: string;
  /** Extra environment for the child (merged over process.env; a value of undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** V8 heap cap, `--max-old-space-size` in MB (default 512). */
  maxOldSpaceMB?: number;
  /** RSS cap in MB for the child's process tree: past it the watchdog kills the tree (default 1024). */
  rssCapMB?: number;
  /** Wall-clock cap in ms: past it the tree is killed and `timedOut` is set (default 30 000). */
  timeoutMs?: number;
  /** Watchdog sampling period in ms (default 10). */
  sampleMs?: number;
  /** Written to the child's stdin, which is then closed (default: stdin closed at once). */
  stdin?: string | Uint8Array;
  /** Sends `signal` to the child (not its children) `afterMs` after spawn, or when `when` first returns true
   * for the output seen so far (checked on every chunk of stdout/stderr and every watchdog sample). */
  signal?: { signal: NodeJS.Signals; afterMs?: number; when?: (seen: { stdout: string; stderr: string }) => boolean };
  /** Extra node flags placed before bin/exray.mjs. */
  nodeArgs?: string[];
  /** The CLI entry to run (default: this repository's bin/exray.mjs). */
  bin?: string;
  /** Called once the child is spawned (e.g. to watch the file system while it runs). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface HostileRun {
  /** Exit code, or null when the child died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Peak RSS of the run in MB (max of the sampled tree RSS and the child's own ru_maxrss). */
  peakRssMB: number;
  /** Peak sampled RSS of the whole process tree (MB). */
  sampledPeakRssMB: number;
  /** The child's own peak RSS from getrusage at exit (MB), or null when it was killed before reporting. */
  selfPeakRssMB: number | null;
  /** Killed by the time cap. */
  timedOut: boolean;
  /** Killed by the RSS watchdog. */
  rssExceeded: boolean;
  /** Wall-clock duration (ms). */
  ms: number;
  /** stderr without blank lines, trimmed: what an "exactly one line" assertion checks. */
  stderrLines: string[];
}

/** Direct children of a process (all its threads), from /proc/<pid>/task/<tid>/children. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        const n = Number(c);
        if (c.trim() !== '' && Number.isInteger(n)) out.push(n);
      }
    } catch {
      // thread gone
    }
  }
  return out;
}

/** A status field in kB (VmRSS, VmHWM) of one process, or 0 when it is gone. */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** RSS of a process tree in kB: VmRSS of the root and every descendant; for the root, its VmHWM too. */
export function treeRssKb(root: number): { rssKb: number; rootHwmKb: number } {
  let rssKb = 0;
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    rssKb += statusKb(pid, 'VmRSS');
    stack.push(...childrenOf(pid));
  }
  return { rssKb, rootHwmKb: statusKb(root, 'VmHWM') };
}

function collect(stream: Readable | null, sink: (s: string) => void): void {
  stream?.setEncoding('utf8');
  stream?.on('data', (s: string) => sink(s));
}

/** Runs `node bin/exray.mjs ...args` under the caps. Never rejects for the child's own failures. */
export function runExray(args: string[], opts: HostileOptions = {}): Promise<HostileRun> {
  const maxOld = opts.maxOldSpaceMB ?? 512;
  const rssCapKb = (opts.rssCapMB ?? 1024) * 1024;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const sampleMs = opts.sampleMs ?? 10;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v;
  // The child must not inherit the test runner's loaders or heap flags.
  delete env.NODE_OPTIONS;
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [`--max-old-space-size=${maxOld}`, '--import', pathToFileURL(PEAK_RSS_PRELOAD).href, ...(opts.nodeArgs ?? []), opts.bin ?? EXRAY_BIN, ...args],
    { cwd: opts.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true },
  );
  let stdout = '';
  let stderr = '';
  let rusage = '';
  let sampledKb = 0;
  let hwmKb = 0;
  let timedOut = false;
  let rssExceeded = false;
  let signalled = false;
  const pid = child.pid;

  /** Kills the child's whole process group (it was spawned detached, so that group is ours alone). */
  const killTree = (): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const maybeSignal = (): void => {
    const s = opts.signal;
    if (!s || signalled || s.afterMs !== undefined || !s.when) return;
    if (s.when({ stdout, stderr })) {
      signalled = true;
      child.kill(s.signal);
    }
  };

  collect(child.stdout, (s) => {
    stdout += s;
    maybeSignal();
  });
  collect(child.stderr, (s) => {
    stderr += s;
    maybeSignal();
  });
  collect(child.stdio[3] as Readable | null, (s) => (rusage += s));
  child.stdin?.on('error', () => {});
  child.stdin?.end(opts.stdin ?? undefined);

  const sample = (): void => {
    if (pid === undefined) return;
    const { rssKb, rootHwmKb } = treeRssKb(pid);
    sampledKb = Math.max(sampledKb, rssKb);
    hwmKb = Math.max(hwmKb, rootHwmKb);
    if (rssKb > rssCapKb && !rssExceeded) {
      rssExceeded = true;
      killTree();
    }
    maybeSignal();
  };
  const watchdog = setInterval(sample, sampleMs);
  const timer = setTimeout(() => {
    timedOut = true;
    killTree();
  }, timeoutMs);
  const signalTimer =
    opts.signal?.afterMs !== undefined
      ? setTimeout(() => {
          signalled = true;
          child.kill(opts.signal!.signal);
        }, opts.signal.afterMs)
      : undefined;
  opts.onSpawn?.(child);

  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearInterval(watchdog);
      clearTimeout(timer);
      if (signalTimer) clearTimeout(signalTimer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      clearTimeout(timer);
      if (signalTimer) clearTimeout(signalTimer);
      // Anything the child left behind in its group (a browser, a worker process) goes with it.
      killTree();
      const m = /maxrss-kb (\d+)/.exec(rusage);
      const selfKb = m ? Number(m[1]) : null;
      const mb = (kb: number): number => Math.round((kb / 1024) * 10) / 10;
      resolve({
        code,
        signal,
        stdout,
        stderr,
        peakRssMB: mb(Math.max(sampledKb, hwmKb, selfKb ?? 0)),
        sampledPeakRssMB: mb(sampledKb),
        selfPeakRssMB: selfKb === null ? null : mb(selfKb),
        timedOut,
        rssExceeded,
        ms: Date.now() - started,
        stderrLines: stderr
          .split('\n')
          .map((l) => l.trimEnd())
          .filter((l) => l.trim() !== ''),
      });
    });
  });
}

/** A one-line summary of a run for test failure messages and logs. */
export function describeRun(r: HostileRun): string {
  const how = r.timedOut ? ' (timed out)' : r.rssExceeded ? ' (RSS cap)' : r.signal ? ` (${r.signal})` : '';
  return `exit ${r.code}${how}, ${r.peakRssMB} MB peak, ${r.ms} ms; stderr: ${JSON.stringify(r.stderr.slice(0, 600))}`;
}
