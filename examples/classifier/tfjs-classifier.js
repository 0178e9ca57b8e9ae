// TF.js image classifier (nsfwjs' MobileNetV2 "mid" graph model), written the way an app does it.
// Uses the global `tf` from <script src="/vendor/tf.min.js">.

export const TFJS_LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];
const SIZE = 224;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.appendChild(s);
  });
}

/** Pick the backend (cpu | webgl | wasm) and load the model. */
export async function createTfjsClassifier({ backend = 'webgl', modelUrl = '/model/model.json' } = {}) {
  const tf = globalThis.tf;
  if (!tf) throw new Error('TF.js did not load (/vendor/tf.min.js)');
  if (backend === 'wasm') {
    if (!tf.wasm) await loadScript('/vendor/tf-backend-wasm.js');
    tf.wasm.setWasmPaths('/vendor/');
  }
  // Always set the backend explicitly: TF.js would pick webgpu where the browser has it.
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`TF.js backend "${backend}" is not available here`);
  await tf.ready();

  const model = await tf.loadGraphModel(modelUrl);

  /**
   * Classify an ImageBitmap / canvas / image. `bug`: none | bgr | range (exif is a decode bug).
   * Returns [{ label, probability }] for every class, most likely first.
   */
  async function classify(image, { bug = 'none' } = {}) {
    const probs = tf.tidy(() => {
      let x = tf.browser.fromPixels(image); // int32 [h, w, 3], RGB, alpha dropped
      if (bug === 'bgr') x = tf.reverse(x, -1); // channels in the wrong order
      x = x.toFloat();
      if (bug !== 'range') x = x.div(255); // bug "range": [0, 255] fed where [0, 1] is expected
      x = tf.image.resizeBilinear(x, [SIZE, SIZE], true); // alignCorners = true, as nsfwjs does
      x = x.expandDims(0); // [1, 224, 224, 3]
      return model.execute(x); // Identity: softmax probabilities [1, 5]
    });
    try {
      const values = await probs.data();
      return [...values].map((p, i) => ({ label: TFJS_LABELS[i] ?? String(i), probability: p })).sort((a, b) => b.probability - a.probability);
    } finally {
      probs.dispose();
    }
  }

  return {
    runtime: 'tfjs',
    backend: tf.getBackend(),
    classify,
    dispose: () => model.dispose(),
  };
}
