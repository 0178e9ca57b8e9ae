/**
 * Single-node replay for ONNX models, in Node: each requested node is cut out of the reference model
 * as a one-node model (src/onnx/single-node.ts) and run alone on the reference runtime (cpu =
 * onnxruntime-node's CPU EP, wasm = onnxruntime-web's wasm EP in Node, as traceOnnxInNode), fed with
 * the edge trace's own recorded values for its inputs. Its outputs vs the edge's are the node's *own*
 * error; vs the reference trace, the error it inherited (src/diagnose/attribution.ts).
 *
 * One session per node, released at once: a node's weights live only as long as its replay.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { ExrayInputError } from '../errors.ts';
import type { Trace } from '../trace/types.ts';
import { decodeOnnx } from '../onnx/model.ts';
import type { OrtSessionOptions } from '../instrument/ort/index.ts';
import { OnnxNodeReplayer } from '../instrument/ort/replay.ts';
import { loadOrt, resolveOnnxFile, type OrtNodeBackend } from './ort-node.ts';
import type { ReplayResult } from '../instrument/common.ts';

export interface OnnxReplayOptions {
  /** Intra-op threads (cpu; default all cores) / wasm threads (default onnxruntime-web's). */
  threads?: number;
}

/** A reference ONNX model, decoded once, whose nodes can be replayed one at a time (src/instrument/ort/replay.ts). */
export class OnnxReplayer {
  private constructor(
    readonly backend: OrtNodeBackend,
    readonly file: string,
    private readonly replayer: OnnxNodeReplayer,
  ) {}

  /** `model`: a `.onnx` file or a directory holding one (see resolveOnnxFile). */
  static async open(model: string, backend: OrtNodeBackend, options: OnnxReplayOptions = {}): Promise<OnnxReplayer> {
    const { file } = await resolveOnnxFile(model);
    const decoded = decodeOnnx(new Uint8Array(await readFile(file)), file);
    const { ort } = await loadOrt(backend);
    const sessionOptions: OrtSessionOptions = { executionProviders: [backend] };
    if (backend === 'cpu') sessionOptions.intraOpNumThreads = options.threads ?? availableParallelism();
    else if (options.threads !== undefined) ort.env.wasm.numThreads = options.threads;
    return new OnnxReplayer(backend, file, new OnnxNodeReplayer(ort, decoded, sessionOptions));
  }

  /**
   * Replay each named node alone, fed with the edge trace's recorded inputs. Nodes that cannot be
   * replayed (control flow, inputs not recorded, a node the reference model lacks, a runtime error)
   * come back with `error`; nothing throws for one node.
   */
  async replay(edge: Trace, nodes: readonly string[]): Promise<ReplayResult[]> {
    if (edge.header.model.format !== 'onnx') throw new ExrayInputError(this.file, `cannot replay nodes of a ${edge.header.model.format} trace on an ONNX model`);
    return this.replayer.replay(edge, nodes);
  }
}

/** Replay `nodes` of `edge` on the ONNX model at `model` (one call: the model is decoded once). */
export async function replayOnnxNodes(model: string, backend: OrtNodeBackend, edge: Trace, nodes: readonly string[], options: OnnxReplayOptions = {}): Promise<ReplayResult[]> {
  return (await OnnxReplayer.open(model, backend, options)).replay(edge, nodes);
}
