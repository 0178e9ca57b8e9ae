/**
 * Silero VAD legacy (@ricky0123/vad-web's silero_vad_legacy.onnx: 248 of its 250 nodes inside one
 * `If`) and inputs for it: the last 512 samples of the v5 speech frame of test/fixtures/silero (see
 * make.ts there), sr 16000, zero LSTM state `h` / `c` [2,1,64]. Shared by test/ort-subgraph.test.ts
 * and the wild suite.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNpy } from '../src/trace/tensor-file.ts';
import { ROOT, VAD_FIXTURES } from './ort-helpers.ts';

export const SILERO_LEGACY = join(ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_legacy.onnx');

/** `--input` arguments for the legacy model's four inputs, tensor files written in `dir`. */
export function legacyInputs(dir: string): string[] {
  const v5 = parseNpy(readFileSync(join(VAD_FIXTURES, 'speech_input.npy')), 'speech_input.npy', 'input');
  const frame = Array.from(v5.data).slice(-512);
  const write = (name: string, shape: number[], dtype: string, data: number[]): string => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ shape, dtype, data }));
    return `${name}=${file}`;
  };
  return [
    write('input', [1, 512], 'float32', frame),
    `sr=${join(VAD_FIXTURES, 'sr.npy')}`,
    write('h', [2, 1, 64], 'float32', new Array<number>(128).fill(0)),
    write('c', [2, 1, 64], 'float32', new Array<number>(128).fill(0)),
  ];
}

