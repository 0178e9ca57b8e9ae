/** Draw a model input tensor back as the picture the model sees (undoing the normalisation). */
import type { PreprocessSpec } from '../../trace/types.ts';

export function inputToImageData(data: ArrayLike<number>, shape: number[], spec: PreprocessSpec): ImageData {
  const nchw = spec.layout === 'nchw';
  const c = shape[nchw ? 1 : 3] ?? 3;
  const h = shape[nchw ? 2 : 1] ?? spec.height;
  const w = shape[nchw ? 3 : 2] ?? spec.width;
  const out = new ImageData(w, h);
  const px = out.data;
  const at = (y: number, x: number, ch: number): number => data[nchw ? (ch * h + y) * w + x : (y * w + x) * c + ch] ?? 0;
  const pixel = (v: number, ch: number): number => ((v * (spec.std[ch] ?? 1) + (spec.mean[ch] ?? 0)) / (spec.scale || 1));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      if (c === 1) {
        const g = pixel(at(y, x, 0), 0);
        px[o] = px[o + 1] = px[o + 2] = g;
      } else {
        const a = pixel(at(y, x, 0), 0);
        const b = pixel(at(y, x, 1), 1);
        const d = pixel(at(y, x, 2), 2);
        // Stored order is the spec's channel order; the canvas wants RGB.
        const [r, g, bl] = spec.channels === 'bgr' ? [d, b, a] : [a, b, d];
        px[o] = r;
        px[o + 1] = g;
        px[o + 2] = bl;
      }
      px[o + 3] = 255;
    }
  }
  return out;
}
