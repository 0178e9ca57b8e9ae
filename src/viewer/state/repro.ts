/**
 * The page's repro bundle (issue #13): the files `exray repro` writes, built in the page from the edge
 * trace, the model the edge ran (the loaded model, or a bundled sample the page has loaded, whose
 * sha256 is the trace's: reference-model.ts `heldModelOf`) and the reference's output of the node (the diagnosis's single-node replay), zipped with
 * fflate and downloaded. The cut and the files are the CLI's own pure code (src/diagnose/repro-cut.ts,
 * repro-bundle.ts); only the reading of the model and the download are the page's. The bundle's model
 * is not re-run here: its README says so, and its script and page re-run it.
 */
import { zipSync, type Zippable } from 'fflate';
import { recordedError, reproBundleFiles } from '../../diagnose/repro-bundle.ts';
import { cutOnnxNode, cutTfjsNode } from '../../diagnose/repro-cut.ts';
import { decodeOnnx } from '../../onnx/model.ts';
import type { BlobData, Trace } from '../../trace/types.ts';
import { download, safeName } from '../util/download.ts';
import { heldModelOf, missingModelReason } from './reference-model.ts';

export interface ReproRequest {
  edge: Trace;
  edgeFile: string;
  node: string;
  /** The node's outputs replayed alone on the reference, per output. */
  expected: readonly (BlobData | null)[];
  /** The backend of that replay. */
  referenceBackend: string;
}

export interface ReproMade {
  fileName: string;
  /** Paths inside the zip. */
  files: string[];
  bytes: number;
  zip: Uint8Array;
}

/** Every shard in manifest order, as one buffer (how TF.js reads them). */
function concatShards(shards: readonly ArrayBuffer[]): Uint8Array {
  const out = new Uint8Array(shards.reduce((a, s) => a + s.byteLength, 0));
  let at = 0;
  for (const s of shards) {
    out.set(new Uint8Array(s), at);
    at += s.byteLength;
  }
  return out;
}

/** Build the bundle of `node` as a .zip (one folder `repro-<node>/`). */
export function makeReproZip(q: ReproRequest): ReproMade {
  const { edge, edgeFile, node } = q;
  if (edge.header.capture !== 'tensors') throw new Error(`${edgeFile}: a repro needs the node's recorded inputs (a \`${edge.header.capture}\` trace has none)`);
  const model = heldModelOf(edge);
  if (!model) throw new Error(missingModelReason(edge));
  const where = { edgeFile, modelFile: model.name };
  const onnx = edge.header.model.format === 'onnx';
  if (onnx && !model.onnx) throw new Error(`${model.name}: the edge ran an ONNX model, this one is ${model.format}`);
  const cut = onnx ? cutOnnxNode(decodeOnnx(new Uint8Array(model.onnx!), model.name), edge, node, where) : cutTfjsNode(model.modelJson, concatShards(model.shards), edge, node, where);
  const error = recordedError(edge, edgeFile, node, q.expected);
  const expectedBy = onnx ? `onnxruntime-web (${q.referenceBackend} EP) in the browser` : `TF.js ${q.referenceBackend} in the browser`;
  const files = reproBundleFiles({
    edge,
    node,
    cut,
    expected: q.expected,
    expectedBy,
    error,
    rerun: { skipped: 'made in the page from the trace: run.mjs and index.html run it' },
  });
  const dir = `repro-${safeName(node)}`;
  const tree: Zippable = {};
  for (const [rel, body] of files) tree[`${dir}/${rel}`] = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const zip = zipSync(tree, { level: 6 });
  return { fileName: `${dir}.zip`, files: [...files.keys()], bytes: zip.byteLength, zip };
}

/** Build the bundle and save it as a download. */
export function downloadReproBundle(q: ReproRequest): ReproMade {
  const made = makeReproZip(q);
  download(made.zip, made.fileName, 'application/zip');
  return made;
}
