/**
 * A trace worker: runs one job (a traced run, or single-node replays), then the page terminates it (TF.js flags must be set before a backend
 * initialises, so each configuration gets a fresh worker). Control messages use protocol.ts; trace
 * events go through a postMessage TraceTransport on the same endpoint.
 */
import { createWorkerTransport, type PostMessageEndpoint } from '../../transport/worker.ts';
import { executeJob } from './run-job.ts';
import { executeReplay } from './replay-job.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

const scope = self as unknown as PostMessageEndpoint;
const transport = createWorkerTransport(scope);

function reply(r: WorkerResponse): void {
  scope.postMessage(r, []);
}

async function handle(req: WorkerRequest): Promise<void> {
  if (req.type === 'replay') {
    try {
      const answer = await executeReplay(req.model, req.edge, req.job, (phase) => reply({ type: 'status', id: req.id, phase }));
      // Move the outputs' buffers when a view owns its whole (non-shared) buffer; clone the rest.
      const buffers = answer.results.flatMap((r) => r.outputs.flatMap((o) => (o && o.buffer instanceof ArrayBuffer && o.byteOffset === 0 && o.byteLength === o.buffer.byteLength ? [o.buffer] : [])));
      scope.postMessage({ type: 'replayed', id: req.id, answer } satisfies WorkerResponse, [...new Set(buffers)]);
    } catch (e) {
      reply({ type: 'failed', id: req.id, message: e instanceof Error ? e.message : String(e) });
    }
    return;
  }
  if (req.type !== 'run') {
    reply({ type: 'failed', id: req.id, message: `a trace worker only runs models and replays nodes (${req.type})` });
    return;
  }
  try {
    await executeJob(req.model, req.input, req.job, transport, (phase) => reply({ type: 'status', id: req.id, phase }));
    reply({ type: 'ran', id: req.id, stream: req.job.stream });
  } catch (e) {
    reply({ type: 'failed', id: req.id, message: e instanceof Error ? e.message : String(e) });
  }
}

scope.addEventListener('message', (e: MessageEvent) => {
  const req = e.data as Partial<WorkerRequest>;
  if (typeof req === 'object' && req !== null && typeof req.type === 'string' && typeof req.id === 'number') void handle(req as WorkerRequest);
});
