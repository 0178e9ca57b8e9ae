import { describe, expect, it } from 'vitest';
import type { PreprocessSpec } from '../trace/types.ts';
import type { RgbaImage } from './image.ts';
import { castToDType, normalizeChannels, reorderChannels, rgbaToRgb, toTensorLayout } from './normalize.ts';
import { preprocess, preprocessToRgb, validatePreprocessSpec } from './pipeline.ts';
import { applyExifOrientation } from './orientation.ts';
import { centerCropRect, cropPlanes } from './geometry.ts';
import { fitResize, resizeBilinear } from './resize.ts';
import { loadSample, maxAbsDiff, meanAbsDiff, tfCpu } from './test-helpers.ts';

const IMAGENET: PreprocessSpec = {
  width: 224,
  height: 224,
  resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: false },
  fit: 'stretch',
  channels: 'rgb',
  layout: 'nhwc',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  dtype: 'float32',
  exif: 'apply',
  alpha: 'ignore',
};

function spec(over: Partial<PreprocessSpec>): PreprocessSpec {
  return { ...IMAGENET, ...over, resize: { ...IMAGENET.resize, ...over.resize } };
}

/** 2×2 image, pixel (x, y) = [r, g, b] with r = 10 + x + 2y, g = 100 + ..., b = 200 + ... */
function tiny(): RgbaImage {
  const data = new Uint8ClampedArray(16);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 2; x++) {
      const k = x + 2 * y;
      data.set([10 + k, 100 + k, 200 + k, 255], 4 * k);
    }
  }
  return { width: 2, height: 2, data };
}

const IDENTITY = spec({ width: 2, height: 2, scale: 1, mean: [0], std: [1], resize: { method: 'nearest', alignCorners: false, halfPixelCenters: false, antialias: false } });

describe('channel order and layout, index-checked', () => {
  it('rgb nhwc: [0, y, x, c]', () => {
    const out = preprocess(tiny(), 1, IDENTITY);
    expect(out.shape).toEqual([1, 2, 2, 3]);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) {
      const k = x + 2 * y;
      expect(Array.from(out.data.subarray((y * 2 + x) * 3, (y * 2 + x) * 3 + 3))).toEqual([10 + k, 100 + k, 200 + k]);
    }
  });

  it('bgr nhwc: channel 0 is blue', () => {
    const out = preprocess(tiny(), 1, { ...IDENTITY, channels: 'bgr' });
    expect(out.shape).toEqual([1, 2, 2, 3]);
    for (let k = 0; k < 4; k++) expect(Array.from(out.data.subarray(3 * k, 3 * k + 3))).toEqual([200 + k, 100 + k, 10 + k]);
  });

  it('rgb nchw: [0, c, y, x] = c * H * W + y * W + x', () => {
    const out = preprocess(tiny(), 1, { ...IDENTITY, layout: 'nchw' });
    expect(out.shape).toEqual([1, 3, 2, 2]);
    expect(Array.from(out.data)).toEqual([10, 11, 12, 13, 100, 101, 102, 103, 200, 201, 202, 203]);
  });

  it('bgr nchw: plane 0 is blue', () => {
    const out = preprocess(tiny(), 1, { ...IDENTITY, layout: 'nchw', channels: 'bgr' });
    expect(Array.from(out.data)).toEqual([200, 201, 202, 203, 100, 101, 102, 103, 10, 11, 12, 13]);
  });

  it('nchw is the exact transpose of nhwc on a real photo, for rgb and bgr', async () => {
    const { image, source } = await loadSample('rocket.jpg');
    for (const channels of ['rgb', 'bgr'] as const) {
      const a = preprocess(image, source.exifOrientation, spec({ channels }));
      const b = preprocess(image, source.exifOrientation, spec({ channels, layout: 'nchw' }));
      const [, H, W, C] = a.shape as [number, number, number, number];
      expect(b.shape).toEqual([1, C, H, W]);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
        if (b.data[c * H * W + y * W + x] !== a.data[(y * W + x) * C + c]) throw new Error(`mismatch at ${y},${x},${c}`);
      }
    }
    const rgb = preprocess(image, 1, spec({}));
    const bgr = preprocess(image, 1, spec({ channels: 'bgr', mean: [0.406, 0.456, 0.485], std: [0.225, 0.224, 0.229] }));
    for (let i = 0; i < rgb.data.length; i += 3) {
      if (rgb.data[i] !== bgr.data[i + 2] || rgb.data[i + 2] !== bgr.data[i]) throw new Error(`bgr is not reversed rgb at ${i}`);
    }
  });

  it('grayscale: ITU-R 601 weights by default, custom weights, one channel', () => {
    const out = preprocess(tiny(), 1, { ...IDENTITY, channels: 'grayscale' });
    expect(out.shape).toEqual([1, 2, 2, 1]);
    for (let k = 0; k < 4; k++) expect(out.data[k]).toBeCloseTo(0.299 * (10 + k) + 0.587 * (100 + k) + 0.114 * (200 + k), 4);
    const custom = preprocess(tiny(), 1, { ...IDENTITY, channels: 'grayscale', grayWeights: [0, 0, 1], layout: 'nchw' });
    expect(custom.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(custom.data)).toEqual([200, 201, 202, 203]);
  });
});

describe('normalisation', () => {
  it('(x * scale - mean[c]) / std[c], numerically', () => {
    const img: RgbaImage = { width: 1, height: 1, data: Uint8ClampedArray.from([200, 100, 0, 255]) };
    const out = preprocess(img, 1, { ...IDENTITY, width: 1, height: 1, scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    const expected = [(200 / 255 - 0.485) / 0.229, (100 / 255 - 0.456) / 0.224, (0 - 0.406) / 0.225];
    expect(out.dtype).toBe('float32');
    for (let c = 0; c < 3; c++) expect(Math.abs((out.data[c] as number) - (expected[c] as number))).toBeLessThan(1e-6);
    expect(out.data[0]).toBeCloseTo(1.30705, 4);
    expect(out.data[2]).toBeCloseTo(-1.80444, 4);
    // [-1, 1] style: x / 127.5 - 1 expressed as scale 1/127.5, mean 1, std 1.
    const pm1 = preprocess(img, 1, { ...IDENTITY, width: 1, height: 1, scale: 1 / 127.5, mean: [1], std: [1] });
    expect(Array.from(pm1.data).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0.56863, -0.21569, -1]);
  });

  it('mean/std are in the model channel order (bgr: mean[0] applies to blue)', () => {
    const img: RgbaImage = { width: 1, height: 1, data: Uint8ClampedArray.from([10, 20, 30, 255]) };
    const out = preprocess(img, 1, { ...IDENTITY, width: 1, height: 1, channels: 'bgr', mean: [103.939, 116.779, 123.68], std: [1] });
    expect(out.data[0]).toBeCloseTo(30 - 103.939, 4);
    expect(out.data[1]).toBeCloseTo(20 - 116.779, 4);
    expect(out.data[2]).toBeCloseTo(10 - 123.68, 4);
  });

  it('whole pipeline equals the TF.js op chain resizeBilinear → mul → sub → div bit for bit', async () => {
    const tf = await tfCpu();
    const { image } = await loadSample('rocket.jpg');
    const rgb = rgbaToRgb(image, 'ignore');
    for (const [ac, hpc] of [[false, true], [true, false], [false, false]] as [boolean, boolean][]) {
      const s = spec({ resize: { method: 'bilinear', alignCorners: ac, halfPixelCenters: hpc, antialias: false } });
      const ours = preprocess(image, 1, s);
      const ref = tf.tidy(() =>
        tf
          .div(
            tf.sub(
              tf.mul(tf.image.resizeBilinear(tf.tensor3d(rgb.data, [image.height, image.width, 3]), [224, 224], ac, hpc), tf.scalar(s.scale)),
              tf.tensor1d(s.mean),
            ),
            tf.tensor1d(s.std),
          )
          .dataSync(),
      );
      const d = maxAbsDiff(ours.data, ref);
      console.log(`pipeline vs TF.js chain (ac=${ac}, hpc=${hpc}): max |diff| = ${d}`);
      expect(d).toBe(0);
      const refNchw = tf.tidy(() =>
        tf.transpose(tf.tensor4d(ref, [1, 224, 224, 3]), [0, 3, 1, 2]).dataSync(),
      );
      expect(maxAbsDiff(preprocess(image, 1, { ...s, layout: 'nchw' }).data, refNchw)).toBe(0);
    }
  });
});

describe('dtype', () => {
  it('int32 truncates like TF.js resizeBilinear(...).toInt()', async () => {
    const tf = await tfCpu();
    const { image } = await loadSample('flower.jpg');
    const rgb = rgbaToRgb(image, 'ignore');
    const ours = preprocess(image, 1, spec({ dtype: 'int32', scale: 1, mean: [0], std: [1] }));
    expect(ours.dtype).toBe('int32');
    expect(ours.data).toBeInstanceOf(Int32Array);
    const ref = tf.tidy(() => tf.cast(tf.image.resizeBilinear(tf.tensor3d(rgb.data, [image.height, image.width, 3]), [224, 224], false, true), 'int32').dataSync());
    expect(maxAbsDiff(ours.data, ref)).toBe(0);
  });

  it('int32 truncates toward zero; uint8 truncates and saturates to 0..255', () => {
    const f = Float32Array.from([-1.5, -0.7, 0.7, 1.5, 254.9, 255.5, 300, Number.NaN]);
    expect(Array.from(castToDType(f, 'int32').data)).toEqual([-1, 0, 0, 1, 254, 255, 300, 0]);
    const u = castToDType(f, 'uint8');
    expect(u.dtype).toBe('int32');
    expect(Array.from(u.data)).toEqual([0, 0, 0, 1, 254, 255, 255, 0]);
    expect(castToDType(f, 'float32').data).toBe(f);
  });
});

describe('alpha', () => {
  it('premultiply darkens coffee_alpha.png rows in proportion to alpha', async () => {
    const { image } = await loadSample('coffee_alpha.png');
    const W = image.width;
    const ignore = rgbaToRgb(image, 'ignore');
    const pre = rgbaToRgb(image, 'premultiply');
    for (const y of [0, 100, 200, 300, 399]) {
      let sIgnore = 0;
      let sPre = 0;
      let sAlpha = 0;
      for (let x = 0; x < W; x++) {
        const a = image.data[(y * W + x) * 4 + 3] as number;
        sAlpha += a;
        for (let c = 0; c < 3; c++) {
          const i = (y * W + x) * 3 + c;
          sIgnore += ignore.data[i] as number;
          sPre += pre.data[i] as number;
          expect(pre.data[i]).toBe(Math.fround(((ignore.data[i] as number) * a) / 255));
        }
      }
      const ratio = sPre / sIgnore;
      const meanAlpha = sAlpha / W / 255;
      expect(Math.abs(ratio - meanAlpha)).toBeLessThan(0.01);
      if (y === 0) expect(ratio).toBeCloseTo(1, 5);
      if (y === 399) expect(ratio).toBeLessThan(0.22);
    }
    // Through the whole pipeline (224x224, bilinear): bottom rows ≈ 0.2 of the ignore version.
    const s = spec({ scale: 1, mean: [0], std: [1] });
    const a = preprocess(image, 1, { ...s, alpha: 'ignore' }).data;
    const b = preprocess(image, 1, { ...s, alpha: 'premultiply' }).data;
    const rowMean = (d: ArrayLike<number>, y: number): number => {
      let t = 0;
      for (let i = y * 224 * 3; i < (y + 1) * 224 * 3; i++) t += d[i] as number;
      return t;
    };
    expect(rowMean(b, 0) / rowMean(a, 0)).toBeGreaterThan(0.99);
    expect(rowMean(b, 223) / rowMean(a, 223)).toBeLessThan(0.22);
    expect(rowMean(b, 112) / rowMean(a, 112)).toBeGreaterThan(0.5);
    expect(rowMean(b, 112) / rowMean(a, 112)).toBeLessThan(0.7);
  });

  it('alpha is irrelevant for opaque images', async () => {
    const { image } = await loadSample('chelsea.png');
    expect(maxAbsDiff(preprocess(image, 1, spec({ alpha: 'premultiply' })).data, preprocess(image, 1, spec({})).data)).toBe(0);
  });
});

describe('EXIF and fit in the pipeline', () => {
  it('exif apply makes chelsea_exif6.jpg match chelsea.png; exif ignore does not', async () => {
    const tagged = await loadSample('chelsea_exif6.jpg');
    const upright = await loadSample('chelsea.png');
    const ref = preprocess(upright.image, 1, spec({})).data;
    const applied = preprocess(tagged.image, tagged.source.exifOrientation, spec({})).data;
    const ignored = preprocess(tagged.image, tagged.source.exifOrientation, spec({ exif: 'ignore' })).data;
    const good = meanAbsDiff(applied, ref);
    const bad = meanAbsDiff(ignored, ref);
    console.log(`chelsea 224x224 normalised: mean |diff| exif apply = ${good.toFixed(4)}, ignore = ${bad.toFixed(4)}`);
    expect(good).toBeLessThan(0.25); // JPEG noise of the re-encoded cat (~10 levels of 255 after normalisation)
    expect(bad).toBeGreaterThan(3 * good);
  });

  it('center-crop and letterbox', async () => {
    const { image } = await loadSample('rocket.jpg');
    const s = spec({ scale: 1, mean: [127.5], std: [127.5] });
    const crop = preprocess(image, 1, { ...s, fit: 'center-crop' });
    const rect = centerCropRect(640, 427, 224, 224);
    const expected = normalizeChannels(reorderChannels(resizeBilinear(cropPlanes(rgbaToRgb(image, 'ignore'), rect), 224, 224, false, true), 'rgb'), 1, [127.5], [127.5]);
    expect(maxAbsDiff(crop.data, expected.data)).toBe(0);
    const lb = preprocess(image, 1, { ...s, fit: 'letterbox' });
    // Padding is pixel 0 before normalisation → (0 - 127.5) / 127.5 = -1 (640x427 padded to 640x640,
    // 106 rows on top, 107 below, then resized): the top 36 and bottom 36 output rows are pure padding.
    for (let i = 0; i < 36 * 224 * 3; i++) expect(lb.data[i]).toBe(-1);
    expect(lb.data[40 * 224 * 3]).not.toBe(-1);
    for (let i = (224 - 36) * 224 * 3; i < 224 * 224 * 3; i++) expect(lb.data[i]).toBe(-1);
  });

  it('the uint8 fast path (alpha ignore) gives exactly the float-RGB path, for every method and fit', async () => {
    const { image } = await loadSample('rocket_exif8.jpg');
    for (const method of ['bilinear', 'nearest', 'area'] as const) {
      for (const antialias of [false, true]) {
        for (const fit of ['stretch', 'center-crop', 'letterbox'] as const) {
          const s = spec({ width: 160, height: 96, fit, resize: { method, alignCorners: false, halfPixelCenters: method !== 'area', antialias } });
          const fast = preprocessToRgb(image, 8, s);
          const slow = fitResize(rgbaToRgb(applyExifOrientation(image, 8), 'ignore'), 160, 96, fit, s.resize);
          expect(maxAbsDiff(fast.data, slow.data), `${method} aa=${antialias} ${fit}`).toBe(0);
        }
      }
    }
  });

  it('preprocessToRgb exposes steps 1-3', async () => {
    const { image } = await loadSample('rocket.jpg');
    const r = preprocessToRgb(image, 1, spec({}));
    expect([r.width, r.height, r.channels, r.layout]).toEqual([224, 224, 3, 'interleaved']);
    expect(toTensorLayout(r, 'nchw').shape).toEqual([1, 3, 224, 224]);
  });
});

describe('validation', () => {
  it('rejects bad specs with a named problem', () => {
    expect(() => validatePreprocessSpec(spec({ mean: [1, 2] }))).toThrow(/mean: expected 1 or 3 values/);
    expect(() => validatePreprocessSpec(spec({ std: [1, 0, 1] }))).toThrow(/std must be finite and non-zero/);
    expect(() => validatePreprocessSpec(spec({ width: 0 }))).toThrow(/width/);
    expect(() => validatePreprocessSpec(spec({ resize: { method: 'bilinear', alignCorners: true, halfPixelCenters: true, antialias: false } }))).toThrow(/halfPixelCenters/);
    expect(() => validatePreprocessSpec(spec({ resize: { method: 'bilinear', alignCorners: true, halfPixelCenters: false, antialias: true } }))).toThrow(/antialias/);
    expect(() => validatePreprocessSpec(spec({ channels: 'grayscale' }))).toThrow(/mean: expected 1 or 1 values/);
    expect(() => preprocess(tiny(), 9, IDENTITY)).toThrow(/orientation/);
    expect(() => validatePreprocessSpec(spec({}))).not.toThrow();
  });
});

describe('speed', () => {
  it('640x427 → 224x224 takes a few ms', async () => {
    const { image } = await loadSample('rocket.jpg');
    const s = spec({});
    for (let i = 0; i < 5; i++) preprocess(image, 1, s); // warm-up (JIT)
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      preprocess(image, 1, s);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[10] as number;
    const aa = spec({ resize: { method: 'bilinear', alignCorners: false, halfPixelCenters: true, antialias: true } });
    for (let i = 0; i < 10; i++) preprocess(image, 8, aa);
    const t1 = performance.now();
    preprocess(image, 8, aa);
    const aaMs = performance.now() - t1;
    console.log(`preprocess 640x427 → 224x224: median ${median.toFixed(2)} ms (bilinear); antialias + orientation 8: ${aaMs.toFixed(2)} ms`);
    expect(median).toBeLessThan(25); // generous: the machine is shared
  });
});
