/**
 * `exray repro <edge.exray> --node NAME --model <reference> [--edge-model <deployed>] --out dir/`:
 * a folder that reproduces one node's own error without exray (src/reference/repro.ts).
 */
import { ExrayInputError } from '../../errors.ts';
import { checkOutputDir } from '../../io/outputs.ts';
import { writeReproBundle } from '../../reference/repro.ts';
import type { OrtNodeBackend } from '../../reference/ort-node.ts';
import { readTrace } from '../io.ts';

export interface ReproCommandOptions {
  node: string;
  model?: string;
  edgeModel?: string;
  backend: OrtNodeBackend;
  out: string;
  force?: boolean;
  json?: boolean;
}

export async function reproCommand(edgeFile: string, opts: ReproCommandOptions): Promise<void> {
  // Before any work: --out must be (or can become) a writable folder, and not the model's own.
  await checkOutputDir(opts.out, opts.model ? [opts.model] : []);
  const edge = await readTrace(edgeFile);
  // The model is never found from the trace's contents: a name in a file is a label, not a path.
  if (!opts.model) throw new ExrayInputError(edgeFile, 'pass --model <the reference model: its folder, model.json or .onnx> (and --edge-model when the deployment ran another file)');
  const r = await writeReproBundle({
    edge, edgeFile, node: opts.node, model: opts.model, backend: opts.backend, out: opts.out,
    ...(opts.edgeModel ? { edgeModel: opts.edgeModel } : {}), ...(opts.force ? { force: true } : {}),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const worst = Math.max(0, ...r.recorded.map((m) => m?.nrmse ?? 0));
  const lines = [
    `wrote ${r.out}/ (${r.files.length} files): ${r.node} (${r.op}), recorded error nrmse ${worst.toPrecision(3)} > tolerance ${r.tolerance}`,
    'skipped' in r.rerun
      ? `  not re-run here: ${r.rerun.skipped}`
      : `  re-run here on ${r.rerun.backend}: nrmse ${Math.max(0, ...r.rerun.metrics.map((m) => m?.nrmse ?? 0)).toPrecision(3)}`,
    `  run it: cd ${r.out} && npm install && node run.mjs   (or serve the folder and open index.html)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
