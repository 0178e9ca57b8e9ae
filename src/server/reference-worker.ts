/**
 * The reference worker: runs desktop references, live comparisons and diagnoses off the server's
 * socket loop. Started by ReferenceService (reference.ts) through reference-worker-boot.mjs, which
 * registers tsx first (this file is TypeScript).
 *
 * Sessions run concurrently, each in order (ReferenceSessionWorker's chain); model inferences take
 * one lock, so at most one runs at a time (two cores: the other one stays with the server).
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './reference-protocol.ts';
import { transferableEvent } from './reference-protocol.ts';
import { ReferenceSessionWorker, type Exclusive, type SessionOutput } from './reference-session.ts';

const port = parentPort;
if (!port) throw new Error('reference-worker.ts runs as a worker thread (new ReferenceService())');

const sessions = new Map<string, ReferenceSessionWorker>();

let lock: Promise<unknown> = Promise.resolve();
const exclusive: Exclusive = (fn) => {
  const run = lock.then(() => fn());
  // The lock keeps no result alive (a diagnosis, a trace) and survives failures.
  lock = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
};

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

function output(session: string): SessionOutput {
  return {
    refEvent: (e) => {
      const { event, transfer } = transferableEvent(e);
      post({ t: 'ref-event', session, event }, transfer);
    },
    metrics: (items) => post({ t: 'metrics', session, items }),
    compared: (r) => post({ t: 'compared', session, ...r }),
    diagnosis: (r) => post({ t: 'diagnosis', session, ...r }),
    note: (text) => post({ t: 'note', session, text }),
    released: () => {
      sessions.delete(session);
      post({ t: 'released', session });
    },
  };
}

/** Waits until every session's chain has settled and no new work appeared meanwhile. */
async function idle(id: number): Promise<void> {
  for (;;) {
    const tails = [...sessions.values()].map((s) => s.tail);
    await Promise.all(tails);
    const now = [...sessions.values()].map((s) => s.tail);
    if (now.length === tails.length && now.every((t, i) => t === tails[i])) break;
  }
  post({ t: 'idle', id });
}

function handle(m: ToWorker): void {
  switch (m.t) {
    case 'begin':
      if (!sessions.has(m.session)) sessions.set(m.session, new ReferenceSessionWorker(m.session, m.backend, output(m.session), exclusive));
      return;
    case 'edge':
      sessions.get(m.session)?.edgeEvent(m.event, m.model);
      return;
    case 'photo':
      sessions.get(m.session)?.photo(m.bytes, m.fileName);
      return;
    case 'end':
      sessions.get(m.session)?.end();
      return;
    case 'idle':
      void idle(m.id);
      return;
  }
}

port.on('message', (m: ToWorker) => {
  try {
    handle(m);
  } catch (e) {
    // A bug in one session's handling must not take the worker (and every other session) down.
    if ('session' in m) post({ t: 'note', session: m.session, text: `reference failed: ${e instanceof Error ? e.message : String(e)}` });
  }
});
