/**
 * A worker that decodes one opened `.exray` file (inflate, un-shuffle, CRC and schema checks) and
 * hands the trace back with its blobs' buffers transferred: the page stays free while thousands of
 * blobs are read, and several files are read at once, one worker each (client.ts decodeTraceInWorker).
 * It imports only the trace reader, so it starts fast and is not queued behind the utility worker's
 * backend probes. Blobs are inflated by the browser's native DecompressionStream where it takes
 * raw deflate (decodeTraceAsync), else by fflate.
 */
import { decodeTrace, decodeTraceAsync } from '../../trace/file.ts';
import { streamInflateAvailable, streamInflateChecked } from '../../trace/inflate-stream.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

const scope = self as unknown as { postMessage(m: WorkerResponse, t: Transferable[]): void; addEventListener(t: 'message', l: (e: MessageEvent) => void): void };

async function handle(req: WorkerRequest): Promise<void> {
  try {
    if (req.type !== 'decode-trace') {
      scope.postMessage({ type: 'failed', id: req.id, message: `the trace reader only decodes .exray files (${req.type})` }, []);
      return;
    }
    const bytes = new Uint8Array(await req.file.arrayBuffer());
    const trace = streamInflateAvailable() ? await decodeTraceAsync(bytes, req.file.name, streamInflateChecked) : decodeTrace(bytes, req.file.name);
    const buffers = new Set<ArrayBuffer>();
    for (const b of trace.blobs.values()) buffers.add(b.buffer as ArrayBuffer);
    scope.postMessage({ type: 'trace-decoded', id: req.id, trace }, [...buffers]);
  } catch (e) {
    // TraceFormatError's message names the file and the problem.
    scope.postMessage({ type: 'failed', id: req.id, message: e instanceof Error ? e.message : String(e) }, []);
  }
}

scope.addEventListener('message', (e) => void handle(e.data as WorkerRequest));
