/**
 * Single-node replay of an ONNX model on onnxruntime (node or web): each requested node is cut out of
 * the reference model as a one-node model (src/onnx/single-node.ts) and run alone, fed with another
 * run's (the edge trace's) recorded values for its inputs. One session per node, released at once: a
 * node's weights live only as long as its replay. Node (src/reference/replay-onnx.ts) and the page's
 * trace worker (src/viewer/worker/replay-job.ts) run this code. Nothing throws for one node.
 */
import type { BlobData, Trace } from '../../trace/types.ts';
import { describeOnnx, encodeOnnx, type ModelProto, type OnnxGraphInfo } from '../../onnx/model.ts';
import { isNotReplayable, singleNodeModel, traceValues } from '../../onnx/single-node.ts';
import { onnxTypeName } from '../../onnx/dtypes.ts';
import { firstLine, type ReplayResult } from '../common.ts';
import { createSession, disposeAll } from './passes.ts';
import { ortTypeOfOnnx, tensorValues, toOrtTensor } from './tensors.ts';
import type { OrtModule, OrtSessionOptions, OrtTensor } from './ort-api.ts';

/** A decoded reference ONNX model whose nodes can be replayed one at a time on `ort`. */
export class OnnxNodeReplayer {
  private readonly info: OnnxGraphInfo;

  constructor(
    private readonly ort: OrtModule,
    private readonly model: ModelProto,
    private readonly sessionOptions: OrtSessionOptions,
  ) {
    this.info = describeOnnx(model);
  }

  /**
   * Replay each named node alone, fed with the edge trace's recorded inputs. Nodes that cannot be
   * replayed (control flow, inputs not recorded, a node the reference model lacks, a runtime error)
   * come back with `error`.
   */
  async replay(edge: Trace, nodes: readonly string[]): Promise<ReplayResult[]> {
    const recorded = traceValues(edge, this.info);
    const results: ReplayResult[] = [];
    for (const name of nodes) {
      const t0 = performance.now();
      try {
        const outputs = await this.replayNode(name, recorded);
        results.push({ node: name, outputs, ms: performance.now() - t0 });
      } catch (e) {
        results.push({ node: name, outputs: [], ms: performance.now() - t0, error: firstLine(e) });
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
