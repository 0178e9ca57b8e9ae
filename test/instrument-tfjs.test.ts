/**
 * The TF.js instrumenter on real sample models and a real photo: every node recorded, kernels mapped,
 * captured values equal what TF.js itself returns for that node, nothing leaked, patches removed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceModel } from '../src/instrument/tfjs/index.ts';
import { compareTraces } from '../src/compare/index.ts';
import type { Trace } from '../src/trace/types.ts';
import { MODELS, loadSample, photoFeed, tf, toTensor, useBackend } from './helpers.ts';

interface GraphJsonNode {
  name: string;
  op: string;
  input?: string[];
}
function graphNodes(model: string): GraphJsonNode[] {
  const json = JSON.parse(readFileSync(join(MODELS, model, 'model.json'), 'utf8')) as { modelTopology: { node: GraphJsonNode[] } };
  return json.modelTopology.node;
}

interface LayerJson {
  class_name: string;
  config: { name: string; layers?: LayerJson[] };
}
function leafLayers(layers: LayerJson[]): string[] {
  return layers.flatMap((l) => (l.config.layers ? leafLayers(l.config.layers) : l.class_name === 'InputLayer' ? [] : [l.config.name]));
}

function blobOf(trace: Trace, nodeName: string, k = 0): Float32Array | Int32Array {
  const node = trace.header.nodes.find((n) => n.name === nodeName);
  const id = node?.outputs[k]?.blob?.id;
  const data = id ? trace.blobs.get(id) : undefined;
  if (!data) throw new Error(`no blob for ${nodeName}:${k}`);
  return data;
}

function float64Stats(v: ArrayLike<number>): { min: number; max: number; mean: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
    sum += v[i]!;
  }
  const mean = sum / v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i]! - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(ss / v.length) };
}

describe('GraphModel (MobileNetV2-mid, TF-Hub graph) on cpu, chelsea.png', () => {
  const name = 'nsfw-mobilenet-v2-mid';
  let model: tf.GraphModel;
  let x: tf.Tensor;
  let inputName: string;
  let trace: Trace;
  let tensorsBefore: number;

  beforeAll(async () => {
    await useBackend('cpu');
    model = (await loadSample(name)).model as tf.GraphModel;
    const feed = await photoFeed(name, 'chelsea.png');
    inputName = feed.name;
    x = toTensor(feed);
    tensorsBefore = tf.memory().numTensors;
    trace = await traceModel(model, { [inputName]: x }, { capture: 'tensors', runs: 1, warmup: 0, modelName: name });
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  it('records every computing node of model.json, in execution order, and leaks nothing', () => {
    const declared = graphNodes(name).filter((n) => n.op !== 'Const' && n.op !== 'Placeholder');
    expect(trace.header.nodes.length).toBe(declared.length);
    expect(new Set(trace.header.nodes.map((n) => n.name))).toEqual(new Set(declared.map((n) => n.name)));
    expect(trace.header.model.nodeCount).toBe(declared.length);
    // Topological: every input a node names was produced before it (or is a weight / the input).
    const position = new Map(trace.header.nodes.map((n, i) => [n.name, i]));
    for (const [i, n] of trace.header.nodes.entries()) for (const inp of n.inputs) expect(position.get(inp) ?? -1).toBeLessThan(i);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const executor = (model as unknown as { executor: object }).executor;
    expect(Object.prototype.hasOwnProperty.call(executor, 'checkTensorForDisposal')).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(executor, 'checkTensorForDisposalWithNodeLiveUntilInfo')).toBe(false);
  });

  it('maps every kernel of an uninstrumented tf.profile run to a node', async () => {
    const plain = await tf.profile(() => model.execute({ [inputName]: x }) as tf.Tensor);
    tf.dispose(plain.result as tf.Tensor);
    expect(trace.header.kernels.map((k) => k.name)).toEqual(plain.kernels.map((k) => k.name));
    expect(trace.header.kernels.every((k) => k.node !== null && k.clock === 'wall' && typeof k.ms === 'number')).toBe(true);
    // Each kernel is listed under exactly the node it names, and convolution nodes run convolution kernels.
    const listed = trace.header.nodes.flatMap((n) => n.kernels.map((k) => [k, n.name] as const));
    expect(listed.length).toBe(trace.header.kernels.length);
    for (const [k, nodeName] of listed) expect(trace.header.kernels[k]!.node).toBe(nodeName);
    for (const n of trace.header.nodes.filter((m) => m.op === '_FusedConv2D')) {
      expect(n.kernels.map((k) => trace.header.kernels[k]!.name)).toContain('FusedConv2D');
    }
  });

  it('captures exactly what TF.js returns when asked for that node, with correct statistics', () => {
    const nodes = trace.header.nodes;
    const picks = [0, 7, Math.floor(nodes.length / 2), nodes.length - 2, nodes.length - 1].map((i) => nodes[i]!);
    for (const n of picks) {
      const t = model.execute({ [inputName]: x }, n.name) as tf.Tensor;
      const expected = t.dataSync();
      t.dispose();
      const got = blobOf(trace, n.name);
      expect(got.length).toBe(expected.length);
      expect(Array.from(got)).toEqual(Array.from(expected));
      const s = n.outputs[0]!.stats!;
      const ref = float64Stats(expected);
      expect(s.count).toBe(expected.length);
      expect(s.min).toBe(ref.min);
      expect(s.max).toBe(ref.max);
      expect(s.mean).toBeCloseTo(ref.mean, 5);
      expect(s.std).toBeCloseTo(ref.std, 5);
      expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(expected.length);
    }
  });

  it('finds a deliberately perturbed weight as the first divergent node', async () => {
    // Perturb the weights of one convolution in the middle of the network.
    const convs = graphNodes(name).filter((n) => n.op === '_FusedConv2D' || n.op === 'Conv2D');
    const target = convs[Math.floor(convs.length / 2)]!;
    const weightName = target.input![1]!;
    const executor = (model as unknown as { executor: { weightMap: Record<string, tf.Tensor[]> } }).executor;
    const original = executor.weightMap[weightName]!;
    const perturbed = tf.tidy(() => original[0]!.mul(1.02));
    executor.weightMap[weightName] = [perturbed];
    let bad: Trace;
    try {
      bad = await traceModel(model, { [inputName]: x }, { capture: 'tensors', runs: 1, warmup: 0, modelName: name });
    } finally {
      executor.weightMap[weightName] = original;
      perturbed.dispose();
    }
    const c = compareTraces(bad, trace);
    expect(c.verdict).toBe('diverged');
    expect(c.firstDivergent?.name).toBe(target.name);
    // Everything before it is bit-identical.
    const firstPos = c.nodes.findIndex((r) => r.name === target.name);
    for (const r of c.nodes.slice(0, firstPos)) expect(r.metrics?.maxAbs).toBe(0);
  });
});

describe('LayersModel (MobileNetV2, uint8 weights) on wasm', () => {
  const name = 'nsfw-mobilenet-v2';
  let model: tf.LayersModel;
  let x: tf.Tensor;
  let trace: Trace;

  beforeAll(async () => {
    await useBackend('wasm');
    model = (await loadSample(name)).model as tf.LayersModel;
    x = toTensor(await photoFeed(name, 'chelsea.png'));
    const before = tf.memory().numTensors;
    trace = await traceModel(model, x, { capture: 'tensors', runs: 2, warmup: 1, modelName: name });
    expect(tf.memory().numTensors).toBe(before);
  });
  afterAll(() => {
    x.dispose();
    model.dispose();
  });

  it('records every leaf layer of model.json once', () => {
    const json = JSON.parse(readFileSync(join(MODELS, name, 'model.json'), 'utf8')) as { modelTopology: { model_config?: { config: { layers: LayerJson[] } }; config?: { layers: LayerJson[] } } };
    const layers = (json.modelTopology.model_config ?? json.modelTopology).config!.layers;
    const leaves = leafLayers(layers);
    expect(trace.header.nodes.length).toBe(leaves.length);
    expect(trace.header.nodes.map((n) => n.name.split('/').pop())).toEqual(leaves);
    // Outside any layer, predict() only slices the batch and hands the outputs back.
    const outside = trace.header.kernels.filter((k) => k.node === null);
    expect(outside.length).toBeLessThanOrEqual(5);
    for (const k of outside) expect(['Slice', 'Identity', 'Concat']).toContain(k.name);
    expect(trace.header.nodes.filter((n) => n.op === 'Conv2D').every((n) => n.kernels.some((k) => /Conv2D/.test(trace.header.kernels[k]!.name)))).toBe(true);
    expect(trace.header.timing!.runMs.length).toBe(2);
  });

  it('captures intermediate layers exactly as a sub-model computes them, and the final output', () => {
    const top = model.layers.filter((l) => l.getClassName() !== 'InputLayer' && !('layers' in l));
    for (const layer of [top[3]!, top[Math.floor(top.length / 2)]!]) {
      const node = trace.header.nodes.find((n) => n.name.endsWith(layer.name))!;
      const sub = tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
      const t = sub.predict(x) as tf.Tensor;
      expect(Array.from(blobOf(trace, node.name))).toEqual(Array.from(t.dataSync()));
      t.dispose();
    }
    const out = model.predict(x) as tf.Tensor;
    const probs = out.dataSync();
    out.dispose();
    const final = trace.header.outputs[0]!;
    expect(Array.from(trace.blobs.get(final.blob!.id)!)).toEqual(Array.from(probs));
    expect(Array.from(probs).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });
});

describe('cpu and wasm agree; timing mode records no values', () => {
  it('MobileNetV2-mid: every node within float32 tolerance, same top-1', async () => {
    const name = 'nsfw-mobilenet-v2-mid';
    const feed = await photoFeed(name, 'coffee.png');
    const traces: Trace[] = [];
    for (const backend of ['wasm', 'cpu'] as const) {
      await useBackend(backend);
      const { model } = await loadSample(name);
      const x = toTensor(feed);
      traces.push(await traceModel(model, { [feed.name]: x }, { capture: 'tensors', runs: 1, warmup: 0 }));
      x.dispose();
      model.dispose();
    }
    const c = compareTraces(traces[0]!, traces[1]!);
    expect(c.inputs.verdict).toBe('identical');
    expect(c.verdict).toBe('ok');
    expect(c.counts.ok).toBe(c.counts.total);
    expect(c.outputs.top1Equal).toBe(true);
    const worst = Math.max(...c.nodes.map((r) => r.metrics!.nrmse));
    expect(worst).toBeGreaterThan(0); // different kernels really ran
    expect(worst).toBeLessThan(1e-4);
  });

  it('timing capture keeps kernels and shapes but reads nothing back', async () => {
    await useBackend('wasm');
    const name = 'blazeface';
    const { model } = await loadSample(name);
    const feed = await photoFeed(name, 'astronaut.png');
    const x = toTensor(feed);
    const t = await traceModel(model, { [feed.name]: x }, { capture: 'timing', runs: 1, warmup: 0 });
    x.dispose();
    model.dispose();
    expect(t.header.nodes.length).toBeGreaterThan(50);
    expect(t.header.nodes.every((n) => n.outputs.every((o) => o.stats === undefined && o.blob === undefined && o.shape.length > 0))).toBe(true);
    expect(t.header.kernels.every((k) => typeof k.ms === 'number' && k.ms >= 0)).toBe(true);
    // A small model's timing passes fit the budget: every kernel's time is the median of several, with its spread.
    expect(t.header.kernels.every((k) => k.msRange !== undefined && k.msRange[0] <= k.ms! && k.ms! <= k.msRange[1])).toBe(true);
    expect(t.header.kernels.some((k) => k.msRange![1] > k.msRange![0])).toBe(true);
    // Only the input and final outputs carry values.
    expect(t.blobs.size).toBe(t.header.input.tensors.length + t.header.outputs.length);
  });
});

describe('values only (runs: 0)', () => {
  it('skips the plain runs: no timing summary, the same node values as a full trace', async () => {
    await useBackend('wasm');
    const name = 'nsfw-mobilenet-v2-mid';
    const { model } = await loadSample(name);
    const feed = await photoFeed(name, 'flower.jpg');
    const x = toTensor(feed);
    const phases: string[] = [];
    const values = await traceModel(model, { [feed.name]: x }, { capture: 'tensors', runs: 0, onEvent: (e) => e.type === 'progress' && phases.push(e.phase) });
    const full = await traceModel(model, { [feed.name]: x }, { capture: 'tensors', runs: 1, warmup: 0 });
    x.dispose();
    model.dispose();
    expect(phases).toEqual(['timing pass', 'capture pass']);
    expect(values.header.timing).toBeUndefined();
    expect(values.header.kernels.every((k) => k.msRange === undefined)).toBe(true); // one timing pass only
    expect(full.header.timing!.runMs.length).toBe(1);
    expect(values.header.nodes.length).toBe(full.header.nodes.length);
    const c = compareTraces(values, full);
    expect(c.verdict).toBe('ok');
    expect(c.nodes.every((r) => r.metrics!.maxAbs === 0)).toBe(true);
  });
});

describe('control flow (executeAsync)', () => {
  it('handtrack runs through executeAsync and is traced with a warning about attribution', async () => {
    await useBackend('wasm');
    const name = 'handtrack';
    const { model } = await loadSample(name);
    const feed = await photoFeed(name, 'astronaut.png');
    const x = toTensor(feed);
    const before = tf.memory().numTensors;
    const t = await traceModel(model, { [feed.name]: x }, { capture: 'stats', runs: 1, warmup: 0 });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
    expect(t.header.warnings.join('\n')).toMatch(/executeAsync/);
    expect(t.header.nodes.length).toBeGreaterThan(100);
    expect(t.header.nodes.filter((n) => n.outputs[0]?.stats).length).toBeGreaterThan(100);
  });
});

describe('streamModel', () => {
  it('hands every blob over: a consumer that transfers (detaches) each buffer still folds a valid trace', async () => {
    const { streamModel } = await import('../src/instrument/tfjs/index.ts');
    const { TraceBuilder } = await import('../src/trace/events.ts');
    const { transferablesOf } = await import('../src/transport/types.ts');
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const { model } = await loadSample('emotion');
      const feed = await photoFeed('emotion', 'astronaut.png');
      const x = toTensor(feed);
      const builder = new TraceBuilder();
      const buffers = new Set<ArrayBufferLike>();
      await streamModel(model, { [feed.name]: x }, {
        capture: 'tensors',
        runs: 1,
        warmup: 0,
        onEvent: (e) => {
          if (e.type === 'blob') {
            expect(buffers.has(e.data.buffer)).toBe(false); // one buffer per blob: safe to move
            buffers.add(e.data.buffer);
          }
          const moved = structuredClone({ stream: backend, event: e }, { transfer: transferablesOf({ stream: backend, event: e }) });
          builder.push(moved.event);
        },
      });
      x.dispose();
      model.dispose();
      const t = builder.finish();
      expect(t.header.nodes.length).toBeGreaterThan(10);
      expect(t.header.nodes.every((n) => n.outputs.every((o) => o.blob && t.blobs.get(o.blob.id)!.length === o.blob.length && o.blob.length > 0))).toBe(true);
    }
  });
});
