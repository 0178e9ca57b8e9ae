/**
 * Body node names cannot collide with other nodes' (src/onnx/subgraphs.ts bodyNodeNames): a model
 * built here whose main graph has a node literally named as exray would name a body node
 * (`pick/then/plus`), and whose branch has a node named as a node one level deeper
 * (`inner/then/x` beside the If `inner` holding `x`). Traced on onnxruntime-node, every node keeps
 * its own values under its own name; Silero VAD v5 (no clash) keeps the plain qualified names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { traceOnnx, type OrtModule } from '../src/instrument/ort/index.ts';
import { decodeOnnx, describeOnnx } from '../src/onnx/model.ts';
import { describeBodies, localNodes, subgraphsOf, withBodies } from '../src/onnx/subgraphs.ts';
import type { NodeProto } from '../src/onnx/proto/onnx-ml_pb.ts';
import type { Trace } from '../src/trace/types.ts';
import { clashModel } from './onnx-build.ts';

const EXPECTED_NAMES = [
  'pick/then/plus_', // the branch's `plus`: its plain name is the main graph's node
  'pick/then/inner/then/x_', // `x` inside `inner`: its plain name is the branch's own node named `inner/then/x`
  'pick/then/inner/else/y',
  'pick/then/inner',
  'pick/then/inner/then/x',
  'pick/else/minus',
  'pick',
  'pick/then/plus', // the main graph's node keeps its own name
];

describe('names of nodes inside subgraphs never collide', () => {
  it('a clash gets `_` appended: main-graph names first, then level by level', () => {
    const m = decodeOnnx(clashModel(), 'clash.onnx');
    const info = describeOnnx(m);
    const all = withBodies(info, describeBodies(m.graph!, info));
    expect(all.map((n) => n.name)).toEqual(EXPECTED_NAMES);
    // Producers follow the renamed nodes: the nested Mul reads the branch's `plus`.
    expect(all.find((n) => n.name === 'pick/then/inner/then/x_')!.producers).toEqual(['pick/then/plus_']);
    expect(all.find((n) => n.name === 'pick/then/inner/then/x')!.producers).toEqual(['pick/then/inner']);
    expect(all.find((n) => n.name === 'pick/then/plus')!.producers).toEqual(['pick']);
  });

  it('traced on onnxruntime-node: each node has its own values under its own name', async () => {
    const t: Trace = await traceOnnx(
      ort as unknown as OrtModule,
      clashModel(),
      [
        { name: 'x', shape: [2], dtype: 'float32', data: Float32Array.from([1, 2]) },
        { name: 'c', shape: [], dtype: 'bool', data: Int32Array.from([1]) },
      ],
      { runtime: 'onnxruntime-node', executionProvider: 'cpu', profiler: null, capture: 'tensors', runs: 1, warmup: 0 },
    );
    const h = t.header;
    expect(h.nodes.map((n) => n.name)).toEqual(EXPECTED_NAMES);
    const values = (name: string): number[] => {
      const b = h.nodes.find((n) => n.name === name)!.outputs[0]!.blob;
      return b ? [...t.blobs.get(b.id)!] : [];
    };
    expect(values('pick/then/plus_')).toEqual([2, 3]);
    expect(values('pick/then/inner/then/x_')).toEqual([4, 6]);
    expect(values('pick/then/inner')).toEqual([4, 6]);
    expect(values('pick/then/inner/then/x')).toEqual([14, 16]);
    expect(values('pick')).toEqual([14, 16]);
    expect(values('pick/then/plus')).toEqual([28, 32]);
    expect(h.nodes.find((n) => n.name === 'pick/else/minus')!.note).toBe('did not run on this input: pick took its then branch');
    expect(h.nodes.find((n) => n.name === 'pick/then/inner/else/y')!.note).toBe('did not run on this input: pick/then/inner took its then branch');
    const ids = h.nodes.flatMap((n) => n.outputs.map((o) => o.blob?.id).filter((id) => id !== undefined));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(6);
  });

  it('Silero VAD v5 (no clash): every body node is exactly `<owner>/<body>/<its name in its body>`', () => {
    const file = join(import.meta.dirname, '..', 'models', 'silero-vad-v5', 'model.onnx');
    const m = decodeOnnx(new Uint8Array(readFileSync(file)), file);
    const info = describeOnnx(m);
    const bodies = describeBodies(m.graph!, info);
    expect(bodies.length).toBeGreaterThan(300);
    // The plain qualified names, rebuilt from the protos walked afresh.
    const plain: string[] = [];
    const walk = (owner: string, proto: NodeProto): void => {
      for (const { body, graph } of subgraphsOf(proto)) {
        for (const { proto: n, local } of localNodes(graph)) {
          plain.push(`${owner}/${body}/${local}`);
          walk(`${owner}/${body}/${local}`, n);
        }
      }
    };
    for (const n of info.nodes) walk(n.name, m.graph!.node[n.position]!);
    expect(bodies.map((b) => b.name)).toEqual(plain);
    expect(new Set([...info.nodes.map((n) => n.name), ...plain]).size).toBe(info.nodes.length + plain.length);
  });
});
