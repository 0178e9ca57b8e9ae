/**
 * The agent as one script tag, served by `exray serve` at `/agent.js`:
 *
 *   <script type="module" src="http://HOST:PORT/agent.js#t=TOKEN"></script>
 *
 * The server is where the script came from; the token (and options: `first`, `every`, `capture`) ride
 * in the URL fragment, which the browser never sends anywhere. Best placed after the app's TF.js /
 * onnxruntime-web script tags and before the app's own code (an ONNX session created before the agent
 * attached has no model identity); placed earlier, it waits up to a minute for the `tf` / `ort`
 * globals. An app that
 * imports TF.js as a module (no global) uses `attach({ tf })` from the package instead. The agent is
 * `window.exray` for the console: `exray.captureNext()`, `exray.counters`, `exray.detach()`.
 */
import { attach, type Agent, type AttachOptions } from './attach.ts';

const WAIT_MS = 60_000;
const POLL_MS = 50;

function options(): AttachOptions | string {
  const self = new URL(import.meta.url);
  const p = new URLSearchParams(self.hash.slice(1));
  const token = p.get('t');
  if (!token) return `the script URL has no token: use ${self.origin}${self.pathname}#t=TOKEN (exray serve prints the line)`;
  const num = (k: string): number | undefined => (p.has(k) && Number.isFinite(Number(p.get(k))) ? Number(p.get(k)) : undefined);
  const first = num('first');
  const every = num('every');
  const capture = p.get('capture');
  return {
    server: self.origin,
    token,
    sample: { ...(first !== undefined ? { first } : {}), ...(every !== undefined ? { every } : {}) },
    ...(capture === 'tensors' || capture === 'stats' ? { capture } : {}),
  };
}

function runtimesPresent(): boolean {
  const g = globalThis as { tf?: { getBackend?: unknown }; ort?: { InferenceSession?: unknown } };
  return typeof g.tf?.getBackend === 'function' || typeof g.ort?.InferenceSession === 'function';
}

async function start(): Promise<void> {
  const o = options();
  if (typeof o === 'string') {
    console.warn(`exray agent: ${o}`);
    return;
  }
  const t0 = Date.now();
  const presentAtOnce = runtimesPresent();
  while (!runtimesPresent()) {
    if (Date.now() - t0 > WAIT_MS) {
      console.warn('exray agent: no TF.js (`tf`) or onnxruntime (`ort`) global appeared within a minute; nothing is traced. An app that imports them as modules uses `attach({ tf })` from the exray package.');
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  // Present already (the usual order: runtime script tags, then the agent, then the app): attach in
  // this task's microtasks, before the app's next script creates a model or a session. Appeared while
  // waiting: the second runtime may be loading right behind the first, so give it a moment.
  if (!presentAtOnce) await new Promise((r) => setTimeout(r, POLL_MS));
  try {
    const agent: Agent = await attach(o);
    (globalThis as { exray?: Agent }).exray = agent;
    console.info(`exray agent: attached; traces go to ${o.server ?? ''}`);
  } catch (e) {
    console.warn(`exray agent: ${e instanceof Error ? e.message : String(e)}`);
  }
}

void start();
