/**
 * Body of the Web Worker that makes memory ready for a capture's copies (ready-memory-web.ts): an
 * ArrayBuffer of each byte length asked, one write per page (a read would map the shared zero page),
 * all transferred back in one message. A transfer keeps the pages, so the capture's thread copies
 * into memory that is already mapped. A size that cannot be allocated ends the list (the capture
 * allocates the rest itself).
 */
interface Scope {
  postMessage(m: ArrayBuffer[], transfer: Transferable[]): void;
  addEventListener(type: 'message', f: (e: MessageEvent<number[]>) => void): void;
}

const scope = self as unknown as Scope;
scope.addEventListener('message', (e) => {
  const made: ArrayBuffer[] = [];
  for (const n of e.data) {
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(n);
    } catch {
      break;
    }
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < n; i += 4096) bytes[i] = 0;
    made.push(buffer);
  }
  scope.postMessage(made, made);
});
