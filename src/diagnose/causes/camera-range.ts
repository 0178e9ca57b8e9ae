/**
 * `camera-range`: a camera or video frame converted from YUV with the wrong range. Video (limited,
 * "TV") range puts black at 16 and white at 235; full ("PC", JPEG) range uses 0..255. A frame in one
 * range converted with the other's formula reaches the model as an exact per-channel affine map of the
 * right pixels: limited read as full gives p' = 16 + 219/255·p (washed out, never black or white); full
 * read as limited gives p' = (p − 16)·255/219 (contrast stretched, clipped). Evidence: the edge input's
 * per-channel affine fit against the best candidate, in pixel levels relative to the card's own
 * normalisation (the canonical fit), matching one of those two maps on every channel. It explains
 * what would otherwise read as a `normalization` difference, which it then replaces.
 *
 * Not covered yet: a BT.601 vs BT.709 matrix mix-up (it mixes channels, so no per-channel fit sees it).
 */
import type { InputSearch } from '../input-search.ts';
import { sig } from '../fit.ts';
import type { Cause } from '../types.ts';
import { channelNames } from './common.ts';

/**
 * p' = gain·p + offset (pixel levels) for each wrong conversion, with the band the fitted values may
 * fall in: ±2% on the gain and ±2.5 levels on the offset for the squeeze (JPEG chroma blur biases the
 * fit a little); for the stretch, whose shadows and highlights clip, the least-squares fit of the
 * clipped pixels pulls the gain down and the offset up (5% of the pixels clipped: −3% and +4 levels),
 * so its band is wider on that side.
 */
const MAPS = [
  { gain: 219 / 255, offset: 16, gainBand: [-0.02, 0.02], offsetBand: [-2.5, 2.5], what: 'a limited-range (16–235) frame converted as full range: black is 16, white 235, the picture washed out' },
  { gain: 255 / 219, offset: (-16 * 255) / 219, gainBand: [-0.06, 0.02], offsetBand: [-2.5, 6], what: 'a full-range (0–255) frame converted as limited range (16–235): contrast stretched, shadows and highlights clipped' },
] as const;

/** Per channel: the edge's pixel map relative to the card's normalisation (gain, offset in levels). */
export function pixelMap(s: InputSearch): { gain: number[]; offset: number[] } | null {
  const { scale, offset } = s.best.affine;
  const ref = s.canonical.affine;
  const gain: number[] = [];
  const off: number[] = [];
  for (let c = 0; c < scale.length; c++) {
    const k = ref.scale[c];
    if (k === undefined || !(Math.abs(k) > 1e-12)) return null;
    gain.push(scale[c]! / k);
    off.push((offset[c]! - ref.offset[c]!) / k);
  }
  return { gain, offset: off };
}

export function cameraRangeCause(s: InputSearch): Cause | null {
  const m = pixelMap(s);
  if (!m || m.gain.length === 0) return null;
  for (const map of MAPS) {
    const [g0, g1] = map.gainBand;
    const [o0, o1] = map.offsetBand;
    const ok = m.gain.every((g, c) => g / map.gain - 1 >= g0 && g / map.gain - 1 <= g1 && m.offset[c]! - map.offset >= o0 && m.offset[c]! - map.offset <= o1);
    if (!ok) continue;
    const names = channelNames(s.spec);
    // How far inside its band the worst channel sits (1: on the expected map, 0: on the band's edge).
    const inside = Math.min(...m.gain.map((g) => {
      const d = g / map.gain - 1;
      return 1 - (d < 0 ? d / g0 : d / g1);
    }));
    const explained = s.best.residualLevels <= 3 ? 1 : 0.8;
    return {
      code: 'camera-range',
      confidence: Math.round(Math.min(0.97, (0.5 + 0.5 * inside) * explained) * 1000) / 1000,
      detail: `${map.what} (pixels reached the model as ${sig(map.gain)}·p ${map.offset >= 0 ? '+' : '−'} ${sig(Math.abs(map.offset))} on ${names.join(', ')})`,
      evidence: {
        gain: m.gain.map((x) => sig(x)),
        offsetLevels: m.offset.map((x) => sig(x)),
        expectedGain: sig(map.gain),
        expectedOffsetLevels: sig(map.offset),
      },
    };
  }
  return null;
}
