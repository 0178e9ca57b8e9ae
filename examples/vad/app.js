// Voice activity on a synthetic signal: Silero VAD v5 on onnxruntime-web (wasm), fed and stepped the
// way @ricky0123/vad-web@0.0.31 does it (dist/models/silero.js): each 512-sample frame is prefixed
// with the last 64 samples of the previous one (zeros at first), the recurrent state starts at zeros
// and is the previous run's `stateN` afterwards, `sr` is an int64 16000. Uses the global `ort` from
// <script src="/vendor/ort.wasm.min.js"> (the wasm-only build); imports nothing of exray.
//
// URL switches: ?frames=N (1..64, default 6) frames to run; ?silent=N (default 1) near-silent frames first.
import { FRAME_SAMPLES, SAMPLE_RATE, syntheticFrames } from './signal.js';

const CONTEXT_SAMPLES = 64;

const params = new URLSearchParams(location.search);
const intParam = (name, lo, hi, dflt) => {
  const v = Number(params.get(name));
  return params.has(name) && Number.isInteger(v) && v >= lo && v <= hi ? v : dflt;
};
const frameCount = intParam('frames', 1, 64, 6);
const silentFrames = intParam('silent', 0, 64, 1);

const $ = (id) => document.getElementById(id);
const info = $('info');
const result = $('result');
const runsEl = $('runs');
const again = $('again');

/** A Silero v5 stepper: `process(frame)` → the frame's speech probability. */
async function createVad() {
  const ort = globalThis.ort;
  if (!ort) throw new Error('onnxruntime-web did not load (/vendor/ort.wasm.min.js)');
  ort.env.wasm.wasmPaths = '/vendor/';
  ort.env.wasm.numThreads = 1; // the page is not cross-origin isolated
  const r = await fetch('/vad-model/model.onnx');
  if (!r.ok) throw new Error(`/vad-model/model.onnx: HTTP ${r.status}`);
  // As vad-web: the model's ArrayBuffer, default session options.
  const session = await ort.InferenceSession.create(await r.arrayBuffer());
  const sr = new ort.Tensor('int64', [16000n]);
  let state;
  let context;
  const reset = () => {
    state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    context = new Float32Array(CONTEXT_SAMPLES);
  };
  reset();
  async function process(frame) {
    const withContext = new Float32Array(CONTEXT_SAMPLES + frame.length);
    withContext.set(context, 0);
    withContext.set(frame, CONTEXT_SAMPLES);
    context = frame.slice(-CONTEXT_SAMPLES);
    const out = await session.run({ input: new ort.Tensor('float32', withContext, [1, withContext.length]), state, sr });
    if (!out.stateN || !out.output) throw new Error('Silero returned no stateN / output');
    state = out.stateN;
    return out.output.data[0];
  }
  return { process, reset };
}

function show(probs) {
  result.dataset.probs = JSON.stringify(probs);
  result.dataset.state = 'done'; // last: a test waiting for "done" finds the probabilities in place
  const table = document.createElement('table');
  const ms = (FRAME_SAMPLES / SAMPLE_RATE) * 1000;
  probs.forEach((p, i) => {
    const row = table.insertRow();
    row.insertCell().textContent = `${(i * ms).toFixed(0)}–${((i + 1) * ms).toFixed(0)} ms`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${(p * 12).toFixed(2)}rem`;
    row.insertCell().append(bar);
    row.insertCell().textContent = `${(p * 100).toFixed(1)}% ${p >= 0.3 ? 'speech' : ''}`;
  });
  result.replaceChildren(table);
}

const vadReady = createVad();
let runs = 0;

async function listen() {
  again.disabled = true;
  result.dataset.state = 'running';
  delete result.dataset.probs;
  try {
    const vad = await vadReady;
    vad.reset();
    const probs = [];
    for (const frame of syntheticFrames(frameCount, { silentFrames })) probs.push(await vad.process(frame));
    runs++;
    runsEl.textContent = String(runs);
    runsEl.dataset.count = String(runs);
    show(probs);
  } catch (err) {
    console.error(err);
    result.dataset.state = 'error';
    result.textContent = `Error: ${err?.message ?? err}`;
  } finally {
    again.disabled = false;
  }
}

info.textContent = `Silero VAD v5, onnxruntime-web (wasm): ${frameCount} frames of ${FRAME_SAMPLES} samples, ${silentFrames} near silent, then a voiced-like tone`;
again.addEventListener('click', () => void listen());
void listen();
