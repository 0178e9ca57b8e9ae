/** Tensor slices as pictures: heatmaps (sequential and diverging colour maps) and histograms on canvas. */

/** A few stops of viridis, interpolated. */
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
] as const;

function lerpStops(stops: readonly (readonly [number, number, number])[], t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

const DIVERGING = [
  [33, 102, 172],
  [247, 247, 247],
  [178, 24, 43],
] as const;

export type ColorMap = 'sequential' | 'diverging';

/** How a tensor is cut into 2-D channel planes: [1,H,W,C] → C planes of H×W; rank ≤ 2 → one plane. */
export interface Planes {
  channels: number;
  height: number;
  width: number;
  /** Element index of (channel, y, x). */
  index(c: number, y: number, x: number): number;
}

export function planesOf(shape: readonly number[]): Planes {
  const dims = shape.filter((d, i) => !(i === 0 && d === 1 && shape.length > 1));
  const count = shape.reduce((a, b) => a * b, 1);
  if (dims.length >= 3) {
    const c = dims[dims.length - 1]!;
    const w = dims[dims.length - 2]!;
    const h = count / (c * w);
    return { channels: c, height: h, width: w, index: (ch, y, x) => (y * w + x) * c + ch };
  }
  if (dims.length === 2) {
    const [h, w] = [dims[0]!, dims[1]!];
    return { channels: 1, height: h, width: w, index: (_c, y, x) => y * w + x };
  }
  const w = Math.max(1, Math.ceil(Math.sqrt(count)));
  const h = Math.max(1, Math.ceil(count / w));
  return { channels: 1, height: h, width: w, index: (_c, y, x) => y * w + x };
}

/** Paint one channel. `value(i)` returns the element (NaN / out of range draws magenta / transparent). */
export function drawPlane(canvas: HTMLCanvasElement, p: Planes, channel: number, value: (i: number) => number, lo: number, hi: number, map: ColorMap, count: number): void {
  canvas.width = p.width;
  canvas.height = p.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(p.width, p.height);
  const span = hi - lo || 1;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      const i = p.index(channel, y, x);
      const o = (y * p.width + x) * 4;
      if (i >= count) continue;
      const v = value(i);
      if (!Number.isFinite(v)) {
        img.data.set([255, 0, 255, 255], o);
        continue;
      }
      const t = (v - lo) / span;
      const [r, g, b] = map === 'sequential' ? lerpStops(VIRIDIS, t) : lerpStops(DIVERGING, t);
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

/** Finite min / max of one channel. */
export function channelRange(p: Planes, channel: number, value: (i: number) => number, count: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      const i = p.index(channel, y, x);
      if (i >= count) continue;
      const v = value(i);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/** Bars of a histogram, scaled to the canvas's CSS size. */
export function drawHistogram(canvas: HTMLCanvasElement, counts: readonly number[], color: string, log = true): void {
  const w = canvas.clientWidth || 240;
  const h = canvas.clientHeight || 60;
  const dpr = devicePixelRatio || 1;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, w, h);
  const f = (c: number): number => (log ? Math.log10(1 + c) : c);
  const max = Math.max(1e-9, ...counts.map(f));
  const bw = w / Math.max(1, counts.length);
  ctx.fillStyle = color;
  counts.forEach((c, i) => {
    const bh = (f(c) / max) * (h - 2);
    ctx.fillRect(i * bw, h - bh, Math.max(1, bw - 1), bh);
  });
}

/** Equal-width histogram of `n` values from `value(i)` over their finite range. */
export function histogram(value: (i: number) => number, n: number, bins = 32): { min: number; max: number; counts: number[] } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const counts = new Array<number>(bins).fill(0);
  if (!Number.isFinite(min)) return { min: NaN, max: NaN, counts: [] };
  const k = max > min ? bins / (max - min) : 0;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.floor((v - min) * k));
    counts[b]!++;
  }
  return { min, max, counts };
}
