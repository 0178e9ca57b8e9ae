/**
 * The stream contract every job keeps (TF.js and ONNX alike): a failure before `run-end` ends the
 * stream with `run-error` and rejects; a failure after it (cleanup) only warns, since the consumer
 * already holds a complete trace.
 */
import type { TraceTransport } from '../../transport/types.ts';
import type { TraceEvent } from '../../trace/types.ts';

export async function streamJob(transport: TraceTransport, stream: string, body: (emit: (event: TraceEvent) => void) => Promise<void>): Promise<void> {
  let ended = false;
  const send = (event: TraceEvent): void => transport.send({ stream, event });
  try {
    await body((event) => {
      if (event.type === 'run-end') ended = true;
      send(event);
    });
  } catch (e) {
    if (ended) {
      console.warn('exray: failure after run-end (the trace is complete):', e);
      return;
    }
    send({ type: 'run-error', message: e instanceof Error ? e.message : String(e) });
    throw e;
  }
}
