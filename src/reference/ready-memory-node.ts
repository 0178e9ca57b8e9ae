/**
 * ReadyMemory (src/trace/ready-memory.ts) for Node: shared memory, its pages touched on a worker
 * thread of its own, for NodeStatsPool's copies (its threads read them where they lie).
 */
import { Worker } from 'node:worker_threads';
import { ReadyMemory, type MemoryMaker, type MemoryMakerEvents } from '../trace/ready-memory.ts';

/**
 * The thread's body (CommonJS, evaluated: no file to find in a bundle or from sources). One write per
 * page makes the kernel map it (a read would map the shared zero page); a size that cannot be
 * allocated ends the list (the caller allocates the rest itself).
 */
const BODY = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (lengths) => {
  const made = [];
  for (const n of lengths) {
    let buffer;
    try { buffer = new SharedArrayBuffer(n); } catch { break; }
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < n; i += 4096) bytes[i] = 0;
    made.push(buffer);
  }
  parentPort.postMessage(made);
});
`;

export class NodeReadyMemory extends ReadyMemory {
  protected spawn(events: MemoryMakerEvents): MemoryMaker {
    const w = new Worker(BODY, { eval: true, name: 'exray-memory' });
    w.on('message', (made: SharedArrayBuffer[]) => events.made(made));
    w.on('error', () => events.gone());
    w.on('exit', () => events.gone());
    return {
      make: (lengths) => w.postMessage(lengths),
      hold: (busy) => (busy ? w.ref() : w.unref()),
      terminate: async () => void (await w.terminate()),
    };
  }
}
