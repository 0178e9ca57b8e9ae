/**
 * PaddleOCR (ONNX) through exray's traced run in Node: the recogniser reads line 1 of
 * public/samples/page.png ("Region-based segmentation") on onnxruntime-node (CPU EP) and on
 * onnxruntime-web's wasm EP, the two traces agree node by node, and the trace describes the model
 * exactly (node count and output names from the parsed protobuf).
 *
 * The line is found by row projection of dark pixels (test/ort-helpers.ts firstTextLine), not a
 * hard-coded rectangle; the rectangle it finds is checked against the one read off the image.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareTraces } from '../src/compare/index.ts';
import { loadModelCard, type ModelCard } from '../src/models/card.ts';
import { ctcGreedyDecodeBatch } from '../src/onnx/ctc.ts';
import { decodeOnnx, isConstantNode } from '../src/onnx/model.ts';
import { preprocess } from '../src/preprocess/pipeline.ts';
import type { FeedTensor } from '../src/reference/feed.ts';
import { traceInNode } from '../src/reference/trace-node.ts';
import { decodeTrace } from '../src/trace/file.ts';
import { encodeTrace } from '../src/trace/file-writer.ts';
import type { PreprocessSpec, Trace } from '../src/trace/types.ts';
import { CLS, cropRgba, firstTextLine, PAGE, REC, type Rect } from './ort-helpers.ts';

const LINE = 'Region-based segmentation';
let rect: Rect;
let recCard: ModelCard;
let recSpec: PreprocessSpec;
let feed: FeedTensor;
let onNode: Trace;
let onWasm: Trace;

function imageFeed(name: string, img: Awaited<ReturnType<typeof cropRgba>>, spec: PreprocessSpec): FeedTensor {
  const t = preprocess(img, 1, spec);
  return { name, shape: t.shape, dtype: t.dtype, data: t.data };
}

function readLine(trace: Trace): { text: string; confidence: number } {
  const out = trace.header.outputs[0]!;
  const values = trace.blobs.get(out.blob!.id)!;
  const [r] = ctcGreedyDecodeBatch(values, out.shape, recCard.outputs[0]!.labels!);
  return r!;
}

beforeAll(async () => {
  rect = await firstTextLine(PAGE);
  recCard = await loadModelCard(join(REC, 'exray.json'));
  recSpec = recCard.inputs[0]!.preprocess!;
  feed = imageFeed('x', await cropRgba(PAGE, rect), recSpec);
});

describe('PaddleOCR PP-OCRv4 recogniser, traced in Node', () => {
  it('finds line 1 of page.png by row projection where it is (rows 13-33, columns 7-290, 4 px margin)', () => {
    expect(rect).toEqual({ left: 3, top: 9, width: 292, height: 29 });
    expect(feed.shape).toEqual([1, 3, 48, 320]);
  });

  it('reads "Region-based segmentation" on onnxruntime-node (CPU EP)', async () => {
    onNode = await traceInNode({ model: REC, backend: 'cpu', feed: [feed], feedFile: 'page.png line 1', capture: 'tensors', runs: 2, warmup: 1, preprocess: recSpec });
    const h = onNode.header;
    expect(readLine(onNode).text).toBe(LINE);
    expect(readLine(onNode).confidence).toBeGreaterThan(0.9);
    expect(h.runtime).toEqual({ name: 'onnxruntime-node', version: '1.30.0', backend: 'cpu' });
    expect(h.model).toMatchObject({ name: 'ppocr-v4-rec', format: 'onnx' });
    expect(h.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(h.environment.threads).toBeGreaterThan(0);
    expect(h.environment.flags['executionProvider']).toBe('cpu');
    expect(h.timing?.runMs).toHaveLength(2);
    expect(h.input.preprocess).toEqual(recSpec);
  });

  it('records every computing node of the model with its outputs, in file order (the parsed protobuf says which)', async () => {
    const proto = decodeOnnx(new Uint8Array(await readFile(join(REC, 'model.onnx'))), 'model.onnx');
    const nodes = proto.graph!.node.filter((n) => !isConstantNode(n));
    const h = onNode.header;
    expect(proto.graph!.node.length - nodes.length).toBe(325); // weights stored as Constant nodes
    expect(h.model.nodeCount).toBe(nodes.length);
    expect(h.nodes).toHaveLength(nodes.length);
    expect(h.nodes.map((n) => n.name)).toEqual(nodes.map((n) => n.name));
    expect(h.nodes.map((n) => n.op)).toEqual(nodes.map((n) => n.opType));
    h.nodes.forEach((n, i) => {
      expect(n.outputs, n.name).toHaveLength(nodes[i]!.output.length);
      expect(n.outputs[0]?.blob, n.name).toBeDefined();
    });
    expect(h.outputs.map((o) => o.name)).toEqual(proto.graph!.output.map((o) => o.name));
    expect(h.outputs[0]!.shape).toEqual([1, 40, 6625]);
    // The last node is the final softmax: its captured values are the (unfused) final output.
    const last = h.nodes[h.nodes.length - 1]!;
    expect(last.op).toBe('Softmax');
    const lastValues = onNode.blobs.get(last.outputs[0]!.blob!.id)!;
    const finalValues = onNode.blobs.get(h.outputs[0]!.blob!.id)!;
    let maxDiff = 0;
    for (let i = 0; i < finalValues.length; i++) maxDiff = Math.max(maxDiff, Math.abs(lastValues[i]! - finalValues[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('times kernels with the ORT profiler and maps them to nodes (layout reorders ORT inserts map to none)', () => {
    const h = onNode.header;
    expect(h.kernels.length).toBeGreaterThan(100);
    expect(h.kernels.every((k) => k.clock === 'ort-profiler' && typeof k.ms === 'number' && k.ms >= 0)).toBe(true);
    const orphans = h.kernels.filter((k) => k.node === null);
    expect(orphans.every((k) => /^Reorder(Input|Output)$/.test(k.name)), orphans.map((k) => k.name).join(',')).toBe(true);
    const convs = h.nodes.filter((n) => n.op === 'Conv');
    expect(convs.every((n) => n.kernels.length >= 1)).toBe(true);
    for (const n of h.nodes) for (const k of n.kernels) expect(h.kernels[k]!.node).toBe(n.name);
  });

  it('reads it on onnxruntime-web (wasm EP in Node), recording the thread count', async () => {
    onWasm = await traceInNode({ model: REC, backend: 'wasm', feed: [feed], feedFile: 'page.png line 1', capture: 'tensors', runs: 2, warmup: 1 });
    const h = onWasm.header;
    expect(readLine(onWasm).text).toBe(LINE);
    expect(h.runtime).toEqual({ name: 'onnxruntime-web', version: '1.30.0', backend: 'wasm' });
    expect(h.environment.threads).toBe(h.environment.flags['wasm.numThreads']);
    expect(h.kernels.length).toBeGreaterThan(100);
    // onnxruntime-web's fused nodes are named `<first node>/<Fusion>/`: every kernel maps back.
    expect(h.kernels.filter((k) => k.node === null)).toEqual([]);
    expect(h.kernels.some((k) => k.name === 'LayerNormalization' || k.name === 'QuickGelu' || k.name === 'FusedMatMul')).toBe(true);
    expect(h.nodes).toHaveLength(onNode.header.nodes.length);
  });

  it('agrees with onnxruntime-node node by node (compareTraces within float32 tolerance)', () => {
    const c = compareTraces(onWasm, onNode);
    expect(c.inputs.verdict).toBe('identical');
    expect(c.verdict, c.summary).toBe('ok');
    expect(c.counts.total).toBe(onNode.header.nodes.length);
    expect(c.counts.ok).toBe(c.counts.total);
  });

  it('survives the .exray codec', () => {
    const back = decodeTrace(encodeTrace(onWasm), 'wasm.exray');
    expect(back.header.nodes.length).toBe(onWasm.header.nodes.length);
    expect(readLine(back).text).toBe(LINE);
  });

  it('reads the line at its own width too (aspect kept, as PaddleOCR does)', async () => {
    const width = Math.round((48 * rect.width) / rect.height);
    const spec = { ...recSpec, width };
    const own = imageFeed('x', await cropRgba(PAGE, rect), spec);
    const t = await traceInNode({ model: REC, backend: 'cpu', feed: [own], feedFile: 'line 1', capture: 'stats', runs: 1, warmup: 0, preprocess: spec });
    expect(t.header.outputs[0]!.shape).toEqual([1, Math.floor(width / 8), 6625]);
    expect(readLine(t).text).toBe(LINE);
    expect(t.header.nodes.every((n) => n.outputs.every((o) => o.stats && !o.blob))).toBe(true);
  });
});

describe('PaddleOCR orientation classifier', () => {
  it('says 0° for the line and 180° for the line upside down (timing capture)', async () => {
    const card = await loadModelCard(join(CLS, 'exray.json'));
    const spec = card.inputs[0]!.preprocess!;
    const upright = await cropRgba(PAGE, rect);
    const flipped = await sharp(PAGE).extract(rect).rotate(180).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const rotated = { width: flipped.info.width, height: flipped.info.height, data: new Uint8Array(flipped.data) };
    const labels = card.outputs[0]!.labels!;
    const classify = async (img: typeof upright, backend: 'cpu' | 'wasm'): Promise<{ label: string; trace: Trace }> => {
      const t = await traceInNode({ model: CLS, backend, feed: [imageFeed('x', img, spec)], feedFile: 'line', capture: 'timing', runs: 1, warmup: 0 });
      expect(t.header.capture).toBe('timing');
      expect(t.header.nodes.every((n) => n.outputs.every((o) => !o.stats))).toBe(true);
      const p = t.blobs.get(t.header.outputs[0]!.blob!.id)!;
      return { label: labels[p[1]! > p[0]! ? 1 : 0]!, trace: t };
    };
    const up = await classify(upright, 'wasm');
    expect(up.label).toBe('0');
    expect((await classify(rotated, 'cpu')).label).toBe('180');
    // Timing capture on wasm: node shapes come from the profiler (kernels named after their node).
    const h = up.trace.header;
    const shaped = h.nodes.filter((n) => n.outputs[0]!.shape.length > 0);
    expect(shaped.length / h.nodes.length).toBeGreaterThan(0.5);
    expect(h.nodes.find((n) => n.op === 'Softmax')!.outputs[0]!.shape).toEqual([1, 2]);
    expect(h.nodes.find((n) => n.op === 'Conv')!.outputs[0]!.shape).toEqual([1, 8, 24, 96]);
  });
});

describe('node records stream', () => {
  it('each node event comes right after its own values are read, not all nodes after the last one', async () => {
    const card = await loadModelCard(join(CLS, 'exray.json'));
    const events: { type: string; blob?: string; blobs?: string[] }[] = [];
    await traceInNode({
      model: CLS,
      backend: 'cpu',
      feed: [imageFeed('x', await cropRgba(PAGE, rect), card.inputs[0]!.preprocess!)],
      feedFile: 'line',
      capture: 'tensors',
      runs: 1,
      warmup: 0,
      streamOnly: true,
      onEvent: (e) =>
        events.push(
          e.type === 'blob' ? { type: 'blob', blob: e.id } : e.type === 'node' ? { type: 'node', blobs: e.node.outputs.flatMap((o) => (o.blob ? [o.blob.id] : [])) } : { type: e.type },
        ),
    });
    const at = new Map(events.flatMap((e, i) => (e.blob ? [[e.blob, i] as const] : [])));
    const nodes = events.map((e, i) => ({ ...e, i })).filter((e) => e.type === 'node');
    const withValues = nodes.filter((n) => n.blobs!.length > 0);
    expect(withValues.length).toBeGreaterThan(50);
    // The first node's row is out before the last node's values are read: rows stream in the page.
    const lastNodeBlob = Math.max(...withValues.flatMap((n) => n.blobs!.map((b) => at.get(b)!)));
    expect(nodes[0]!.i).toBeLessThan(lastNodeBlob);
    // A node's row follows its own blobs and precedes the next node's.
    for (const [k, n] of withValues.entries()) {
      for (const b of n.blobs!) expect(at.get(b)!).toBeLessThan(n.i);
      const next = withValues[k + 1];
      if (next) for (const b of next.blobs!) expect(at.get(b)!).toBeGreaterThan(n.i);
    }
    expect(events.at(-1)!.type).toBe('run-end');
  });
});
