/** `exray variants <model dir> --weights float16|uint8|uint16 --out <dir>`: re-quantized copies of a TF.js model. */
import { checkOutputDir } from '../../io/outputs.ts';
import { defaultVariantDir, writeVariant, type VariantDType } from '../../models/variants.ts';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface VariantsCommandOptions {
  weights: VariantDType[];
  out?: string;
  json?: boolean;
}

export async function variantsCommand(modelDir: string, opts: VariantsCommandOptions): Promise<void> {
  const outFor = (dtype: VariantDType): string =>
    opts.out ? (opts.weights.length > 1 ? `${opts.out.replace(/\/+$/, '')}-${dtype}` : opts.out) : defaultVariantDir(modelDir, dtype);
  // Every output folder checked before the first is written (never the source folder).
  const source = (await stat(modelDir).then((st) => st.isDirectory(), () => true)) ? modelDir : dirname(modelDir);
  for (const dtype of opts.weights) await checkOutputDir(outFor(dtype), [source]);
  const results = [];
  for (const dtype of opts.weights) {
    const out = outFor(dtype);
    const s = await writeVariant(modelDir, dtype, out);
    results.push(s);
    if (!opts.json) {
      const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`;
      process.stdout.write(
        `${dtype}: ${s.quantized} float weights re-encoded, ${s.copied} copied; ${kb(s.bytesBefore)} → ${kb(s.bytesAfter)}; wrote ${s.outDir}\n` +
          `  largest weight error (of the weight's range): ${s.worst.slice(0, 3).map((w) => `${w.name} ${(w.relError * 100).toPrecision(2)}%`).join(', ')}\n`,
      );
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else process.stdout.write(`trace a variant and compare it with the original (exray trace / exray compare) to see the cost per layer\n`);
}
