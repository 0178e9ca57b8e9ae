/**
 * The trace worker: folds, validates, encodes and decodes session traces off the server's socket
 * loop (jobs in trace-jobs.ts). Started by TraceWorker (trace-worker-client.ts) through
 * trace-worker-boot.mjs, which registers tsx first (this file is TypeScript).
 *
 * The main thread sends one job at a time, so a crash loses only the job in progress.
 */
import { parentPort } from 'node:worker_threads';
import { runTraceJob } from './trace-jobs.ts';
import { errorInfo, type FromTraceWorker, type ToTraceWorker } from './trace-protocol.ts';

const port = parentPort;
if (!port) throw new Error('trace-worker.ts runs as a worker thread (see TraceWorker in trace-worker-client.ts)');

function post(m: FromTraceWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

async function run(m: ToTraceWorker): Promise<void> {
  let done;
  try {
    done = await runTraceJob(m);
  } catch (e) {
    post({ job: m.job, ok: false, error: errorInfo(e) });
    return;
  }
  try {
    post({ job: m.job, ok: true, result: done.result }, done.transfer);
  } catch (e) {
    // The result did not clone (a bug): the job still gets an answer.
    post({ job: m.job, ok: false, error: errorInfo(e) });
  }
}

port.on('message', (m: ToTraceWorker) => {
  void run(m);
});
