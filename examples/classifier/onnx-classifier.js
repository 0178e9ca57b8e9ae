// onnxruntime-web (wasm) text-direction classifier: PaddleOCR ch_ppocr_mobile_v2.0_cls, 0° or 180°.
// Uses the global `ort` from <script src="/vendor/ort.min.js">.

export const ONNX_LABELS = ['0', '180'];
const W = 192;
const H = 48;

export async function createOnnxClassifier({ modelUrl = '/onnx-model/model.onnx' } = {}) {
  const ort = globalThis.ort;
  if (!ort) throw new Error('onnxruntime-web did not load (/vendor/ort.min.js)');
  // Served by our own server; one thread because the page is not cross-origin isolated.
  ort.env.wasm.wasmPaths = '/vendor/';
  ort.env.wasm.numThreads = 1;

  const session = await ort.InferenceSession.create(modelUrl, { executionProviders: ['wasm'] });
  const inputName = session.inputNames[0]; // "x"
  const outputName = session.outputNames[0]; // "softmax_0.tmp_0"

  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });

  /** Planar float32 [3, 48, 192]: BGR, (x/255 - 0.5)/0.5, unless a bug says otherwise. */
  function toTensorData(image, bug) {
    ctx.clearRect(0, 0, W, H);
    ctx.drawImage(image, 0, 0, W, H); // stretch to 192x48 (bilinear)
    const { data } = ctx.getImageData(0, 0, W, H); // RGBA
    const plane = W * H;
    const out = new Float32Array(3 * plane);
    // The model wants B, G, R planes; bug "bgr" feeds R, G, B instead.
    const order = bug === 'bgr' ? [0, 1, 2] : [2, 1, 0];
    for (let c = 0; c < 3; c++) {
      const src = order[c];
      const base = c * plane;
      for (let i = 0; i < plane; i++) {
        const v = data[i * 4 + src] / 255;
        out[base + i] = bug === 'range' ? v : (v - 0.5) / 0.5; // bug "range": [0, 1] instead of [-1, 1]
      }
    }
    return out;
  }

  async function classify(image, { bug = 'none' } = {}) {
    const input = new ort.Tensor('float32', toTensorData(image, bug), [1, 3, H, W]); // fresh per run
    const results = await session.run({ [inputName]: input });
    const out = results[outputName];
    try {
      return [...out.data].map((p, i) => ({ label: ONNX_LABELS[i] ?? String(i), probability: p })).sort((a, b) => b.probability - a.probability);
    } finally {
      input.dispose?.();
      for (const t of Object.values(results)) t.dispose?.();
    }
  }

  return {
    runtime: 'onnx',
    backend: 'wasm',
    classify,
    dispose: () => session.release(),
  };
}
