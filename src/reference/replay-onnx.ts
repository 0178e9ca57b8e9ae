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
import type { BlobData, Trace } from '../trace/types.ts';
import { decodeOnnx, describeOnnx, encodeOnnx, type ModelProto, type OnnxGraphInfo } from '../onnx/model.ts';
import { isNotReplayable, singleNodeModel, traceValues } from '../onnx/single-node.ts';
import { onnxTypeName } from '../onnx/dtypes.ts';
import { createSession, disposeAll, ortTypeOfOnnx, tensorValues, toOrtTensor, type OrtModule, type OrtSessionOptions, type OrtTensor } from '../instrument/ort/index.ts';
import { loadOrt, resolveOnnxFile, type OrtNodeBackend } from './ort-node.ts';
import type { ReplayResult } from './replay-node.ts';

export interface OnnxReplayOptions {
  /** Intra-op threads (cpu; default all cores) / wasm threads (default onnxruntime-web's). */
  threads?: number;
}

/** A reference ONNX model, decoded once, whose nodes can be replayed one at a time. */
export class OnnxReplayer {
  private constructor(
    readonly backend: OrtNodeBackend,
    readonly file: string,
    private readonly model: ModelProto,
    private readonly info: OnnxGraphInfo,
    private readonly ort: OrtModule,
    private readonly sessionOptions: OrtSessionOptions,
  ) {}

  /** `model`: a `.onnx` file or a directory holding one (see resolveOnnxFile). */
  static async open(model: string, backend: OrtNodeBackend, options: OnnxReplayOptions = {}): Promise<OnnxReplayer> {
    const { file } = await resolveOnnxFile(model);
    const decoded = decodeOnnx(new Uint8Array(await readFile(file)), file);
    const { ort } = await loadOrt(backend);
    const sessionOptions: OrtSessionOptions = { executionProviders: [backend] };
    if (backend === 'cpu') sessionOptions.intraOpNumThreads = options.threads ?? availableParallelism();
    else if (options.threads !== undefined) ort.env.wasm.numThreads = options.threads;
    return new OnnxReplayer(backend, file, decoded, describeOnnx(decoded), ort, sessionOptions);
  }

  /**
   * Replay each named node alone, fed with the edge trace's recorded inputs. Nodes that cannot be
   * replayed (control flow, inputs not recorded, a node the reference model lacks, a runtime error)
   * come back with `error`; nothing throws for one node.
   */
  async replay(edge: Trace, nodes: readonly string[]): Promise<ReplayResult[]> {
    if (edge.header.model.format !== 'onnx') throw new ExrayInputError(this.file, `cannot replay nodes of a ${edge.header.model.format} trace on an ONNX model`);
    const recorded = traceValues(edge, this.info);
    const results: ReplayResult[] = [];
    for (const name of nodes) {
      const t0 = performance.now();
      try {
        const outputs = await this.replayNode(name, recorded);
        results.push({ node: name, outputs, ms: performance.now() - t0 });
      } catch (e) {
        results.push({ node: name, outputs: [], ms: performance.now() - t0, error: e instanceof Error ? e.message.split('\n')[0]! : String(e) });
      }
    }
    return results;
  }

  private async replayNode(name: string, recorded: ReturnType<typeof traceValues>): Promise<(BlobData | null)[]> {
    const single = singleNodeModel(this.model, name, recorded, this.info);
    if (isNotReplayable(single)) throw new Error(single.reason);
    const feeds: Record<string, OrtTensor> = {};
    for (const f of single.feeds) {
      const type = ortTypeOfOnnx(f.elemType);
      if (!type) throw new Error(`input ${f.name} is ${onnxTypeName(f.elemType)}, which exray cannot feed`);
      feeds[f.name] = toOrtTensor(this.ort, f, type);
    }
    let session;
    try {
      session = await createSession(this.ort, encodeOnnx(single.model), this.sessionOptions);
    } catch (e) {
      throw new Error(`the runtime cannot load the node alone: ${(e as Error).message}`);
    }
    try {
      const outs = await session.run(feeds);
      try {
        return single.outputs.map((v) => {
          const t = outs[v];
          return t ? tensorValues(t).data : null;
        });
      } finally {
        disposeAll(outs);
      }
    } finally {
      await session.release();
    }
  }
}

/** Replay `nodes` of `edge` on the ONNX model at `model` (one call: the model is decoded once). */
export async function replayOnnxNodes(model: string, backend: OrtNodeBackend, edge: Trace, nodes: readonly string[], options: OnnxReplayOptions = {}): Promise<ReplayResult[]> {
  return (await OnnxReplayer.open(model, backend, options)).replay(edge, nodes);
}
