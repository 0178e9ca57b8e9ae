// The audio this app listens to: synthetic and deterministic, because there is no audio file here and
// a test must see the same samples on every run. 16 kHz mono, float in [-1, 1]:
//   - the first `silentFrames` frames: near silence (PRNG noise at about -60 dBFS);
//   - then a voiced-like sound: a 140 Hz fundamental with 12 harmonics falling off as 1/k, shaped by
//     three fixed formant-like peaks (700, 1200, 2500 Hz) and a slow 4 Hz amplitude swell, plus PRNG
//     noise at about -30 dBFS.
// The PRNG is mulberry32 with a fixed seed, so the samples depend on nothing but this file.

export const SAMPLE_RATE = 16000;
export const FRAME_SAMPLES = 512; // what vad-web feeds Silero v5 (32 ms at 16 kHz)

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gain of a harmonic at `hz`: three resonance-like bumps over a floor. */
function formants(hz) {
  const peak = (f, bw) => 1 / (1 + ((hz - f) / bw) ** 2);
  return 0.15 + peak(700, 150) + 0.7 * peak(1200, 200) + 0.4 * peak(2500, 300);
}

/** `count` frames of FRAME_SAMPLES samples each (Float32Array), the first `silentFrames` near silent. */
export function syntheticFrames(count, { silentFrames = 1, seed = 20240611 } = {}) {
  const rand = mulberry32(seed);
  const noise = () => rand() * 2 - 1;
  const f0 = 140;
  const frames = [];
  for (let f = 0; f < count; f++) {
    const frame = new Float32Array(FRAME_SAMPLES);
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const n = f * FRAME_SAMPLES + i;
      if (f < silentFrames) {
        frame[i] = 0.001 * noise();
        continue;
      }
      const t = n / SAMPLE_RATE;
      let v = 0;
      for (let k = 1; k <= 12; k++) v += (formants(k * f0) / k) * Math.sin(2 * Math.PI * k * f0 * t);
      const swell = 0.75 + 0.25 * Math.sin(2 * Math.PI * 4 * t);
      frame[i] = 0.25 * swell * v + 0.03 * noise();
    }
    frames.push(frame);
  }
  return frames;
}
