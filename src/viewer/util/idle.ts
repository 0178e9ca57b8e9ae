/**
 * Run `fn` once the page has nothing else to do (requestIdleCallback; a timer where it is missing):
 * work the page will want soon (a chunk to prefetch, a worker to start ahead) that must not compete
 * with the shell's first paint or the start-up work that follows it.
 */
export function whenIdle(fn: () => void, timeoutMs = 3000): void {
  const ric = (globalThis as { requestIdleCallback?: (cb: () => void, opts?: { timeout: number }) => number }).requestIdleCallback;
  if (ric) ric(fn, { timeout: timeoutMs });
  else setTimeout(fn, 200);
}
