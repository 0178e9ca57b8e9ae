/**
 * The jobs of the trace worker (trace-worker.ts): the CPU-heavy part of the session store, run off
 * the server's socket loop. Each returns its result and the buffers to transfer with it.
 *
 * The worker only reads the session directory and writes whole files atomically (edge.exray,
 * reference.exray); session.json, the journal's deletion and the store's index stay with the store on
 * the main thread, which orders them (the journal goes only once edge.exray and the status are durable).
 */
import { join } from 'node:path';
import { decodeTraceNode, encodeTraceNode } from '../io/zlib-native.ts';
import type { Trace } from '../trace/types.ts';
import { writeFileAtomic } from './atomic.ts';
import { traceFromEvents } from './partial.ts';
import { readOptional, sessionEvents, sessionResumeState, sessionTrace } from './store-read.ts';
import { FILES } from './store-files.ts';
import { buffersOf, errorInfo, eventBuffers, ownBytes, traceBuffers, type FinalizeOutcome, type ToTraceWorker, type TraceJobs } from './trace-protocol.ts';

/**
 * The store keeps blobs undeflated: deflating a phone's 88 MB MobileNetV2 trace costs seconds
 * (docs/trace-format.md "Blob encodings") on the path the phone's last ack waits for. Values that
 * came narrowed over the link (`storagePrecision`) are stored at that precision: 2 bytes, exact.
 */
function storeEncoding(trace: Trace): { compress: false; precision?: 'float16' | 'bfloat16' } {
  const p = trace.header.storagePrecision;
  return p ? { compress: false, precision: p } : { compress: false };
}

export interface JobDone<R> {
  result: R;
  transfer: ArrayBuffer[];
}

async function finalize({ dir, id }: TraceJobs['finalize']['args']): Promise<JobDone<FinalizeOutcome>> {
  let folded;
  try {
    folded = traceFromEvents(await sessionEvents(dir, id), `session ${id}`);
  } catch (e) {
    return { result: { outcome: 'unreadable', error: errorInfo(e) }, transfer: [] };
  }
  const transfer = traceBuffers(folded.trace);
  if (!folded.complete) {
    return { result: { outcome: 'failed', trace: folded.trace, reason: folded.runError ?? `the trace is invalid: ${folded.problem ?? 'unknown problem'}` }, transfer };
  }
  const bytes = encodeTraceNode(folded.trace, storeEncoding(folded.trace));
  await writeFileAtomic(join(dir, FILES.edge), bytes);
  return { result: { outcome: 'done', trace: folded.trace, edgeBytes: bytes.byteLength }, transfer };
}

async function encoded({ dir, id }: TraceJobs['encoded']['args']): Promise<JobDone<Uint8Array>> {
  // edge.exray may have appeared since the store looked (a finalize that ran before this job).
  let edge = await readOptional(join(dir, FILES.edge));
  if (!edge) {
    const { trace } = traceFromEvents(await sessionEvents(dir, id), `session ${id}`);
    edge = encodeTraceNode(trace, storeEncoding(trace));
  }
  const bytes = ownBytes(edge);
  return { result: bytes, transfer: [bytes.buffer as ArrayBuffer] };
}

/** Runs one job message. Throws what the job threw (the worker sends it back as ErrorInfo). */
export async function runTraceJob(m: ToTraceWorker): Promise<JobDone<TraceJobs[ToTraceWorker['t']]['result']>> {
  switch (m.t) {
    case 'finalize':
      return finalize(m.args);
    case 'trace': {
      const trace = await sessionTrace(m.args.dir, m.args.id);
      return { result: trace, transfer: traceBuffers(trace) };
    }
    case 'events': {
      const events = await sessionEvents(m.args.dir, m.args.id);
      return { result: events, transfer: eventBuffers(events) };
    }
    case 'resume': {
      const r = await sessionResumeState(m.args.dir, m.args.id);
      return { result: r, transfer: [...eventBuffers(r.events), ...buffersOf(r.partialBlob)] };
    }
    case 'encoded':
      return encoded(m.args);
    case 'readTraceFile': {
      const bytes = await readOptional(m.args.path);
      const trace = bytes === null ? null : decodeTraceNode(bytes, m.args.source);
      return { result: trace, transfer: trace === null ? [] : traceBuffers(trace) };
    }
    case 'writeTraceFile': {
      const bytes = encodeTraceNode(m.args.trace, storeEncoding(m.args.trace));
      await writeFileAtomic(m.args.path, bytes);
      return { result: bytes.byteLength, transfer: [] };
    }
  }
}
