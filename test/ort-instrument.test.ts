/**
 * The onnxruntime instrumenter's parts: profile parsing and kernel → node mapping, the ways the
 * profile is captured (console in a page, stdout in Node, WebGPU ondata), tensor conversions, and the
 * fallback to a timing-only trace when the execution provider cannot load or run the rewritten model.
 */
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  attributeKernels,
  captureConsole,
  installOrtConsoleHook,
  ortInputData,
  parseOrtProfile,
  profileFromLines,
  restoreConsole,
  subgraphOwners,
  tensorValues,
  traceOnnx,
  webgpuProfiler,
  type OrtModule,
  type OrtSession,
  type OrtTensor,
} from '../src/instrument/ort/index.ts';
import { fromHalfBits as halfBitsToFloat, toHalfBits as floatToHalfBits } from '../src/trace/half.ts';
import { decodeOnnx, describeOnnx, type OnnxNode } from '../src/onnx/model.ts';
import { captureStdoutWrites, fileProfiler } from '../src/reference/ort-node.ts';
import { CLS } from './ort-helpers.ts';

const ev = (name: string, ts: number, dur: number, args: Record<string, unknown> = {}, cat = 'Node'): Record<string, unknown> => ({ cat, name, ph: 'X', ts, dur, pid: 1, tid: 1, args });

describe('parseOrtProfile', () => {
  it('takes the kernel events of the last model_run, in start order, with shapes and times in ms', () => {
    const text = JSON.stringify([
      ev('session_initialization', 0, 100, {}, 'Session'),
      ev('model_run', 100, 50, {}, 'Session'),
      ev('conv_kernel_time', 110, 7, { op_name: 'Conv', node_index: '0' }),
      ev('model_run', 200, 60, {}, 'Session'),
      ev('relu_kernel_time', 230, 3, { op_name: 'Relu', node_index: '1', provider: 'CPUExecutionProvider', output_type_shape: [{ float: [1, 8] }] }),
      ev('conv_fence_before', 205, 1, { op_name: 'Conv' }),
      ev('conv_kernel_time', 210, 1500, { op_name: 'FusedConv', node_index: '7', input_type_shape: [{ float: [1, 3, 4, 4] }, { float: [8, 3, 1, 1] }] }),
    ]);
    expect(parseOrtProfile(text)).toEqual([
      { ortName: 'conv', op: 'FusedConv', nodeIndex: 7, provider: '', startUs: 210, ms: 1.5, inputShapes: [[1, 3, 4, 4], [8, 3, 1, 1]], outputShapes: [] },
      { ortName: 'relu', op: 'Relu', nodeIndex: 1, provider: 'CPUExecutionProvider', startUs: 230, ms: 0.003, inputShapes: [], outputShapes: [[1, 8]] },
    ]);
    expect(() => parseOrtProfile('{"no": 1}')).toThrow(/not an array/);
    expect(() => parseOrtProfile('[{')).toThrow(/not JSON/);
  });
});

function onnxNode(p: Partial<OnnxNode> & { name: string; op: string }): OnnxNode {
  return { position: 0, protoName: p.name, domain: '', inputs: [], outputs: [], producers: [], subgraphNodes: 0, subgraphValues: [], subgraphNodeNames: [], ortIndex: 0, ...p };
}

describe('attributeKernels', () => {
  const nodes = [
    onnxNode({ name: 'conv', op: 'Conv', inputs: ['x'], outputs: ['c'], ortIndex: 0 }),
    onnxNode({ name: 'bn', op: 'BatchNormalization', inputs: ['c'], outputs: ['b'], ortIndex: 1 }),
    onnxNode({ name: 'mul', op: 'Mul', inputs: ['b'], outputs: ['m'], ortIndex: 2 }),
    onnxNode({ name: 'Add_3', protoName: '', op: 'Add', inputs: ['m'], outputs: ['a'], ortIndex: 3 }),
    onnxNode({ name: 'cond', op: 'If', inputs: ['a'], outputs: ['o'], ortIndex: 4, subgraphNodeNames: ['then/inner', 'else/inner'] }),
  ];
  const k = (ortName: string, op: string, nodeIndex: number | null = null): { ortName: string; op: string; nodeIndex: number | null } => ({ ortName, op, nodeIndex });

  it('maps by name, fused name, output value (NCHWc), node index, and leaves inserted kernels unowned', () => {
    const kernels = [
      k('conv', 'Conv', 0),
      k('mul/QuickGeluFusion/', 'QuickGelu', 12),
      k('mul/LayerNormFusion/_token_4', 'LayerNormalization', 13),
      k('mul/GatherSliceToSplitFusion', 'Split', 14),
      k('b_nchwc', 'Conv', 15), // Conv + BN fused by the NCHWc transformer, named after the BN's output
      k('m_nchwc', 'Mul', 16),
      k('', 'Add', 3),
      k('', 'Add', 99),
      k('ReorderInput_token_3', 'ReorderInput', 17),
      k('then/inner', 'Relu', 18),
    ];
    expect(attributeKernels(kernels, nodes)).toEqual(['conv', 'mul', 'mul', 'mul', 'conv', 'mul', 'Add_3', null, null, null]);
    expect(subgraphOwners(kernels, nodes)).toEqual([null, null, null, null, null, null, null, null, null, 'cond']);
  });

  it('does not trust a shared name, nor a node index whose op differs', () => {
    const shared = [onnxNode({ name: 'dup_0', protoName: 'dup', op: 'Relu', ortIndex: 0 }), onnxNode({ name: 'dup_1', protoName: 'dup', op: 'Neg', ortIndex: 1 })];
    expect(attributeKernels([k('dup', 'Neg', 1), k('dup', 'Relu', 1)], shared)).toEqual(['dup_1', null]);
  });
});

describe('capturing the printed profile', () => {
  it('captures console.log lines, also through a binding made while the hook is installed, and restores console.log', async () => {
    const original = console.log;
    installOrtConsoleHook();
    // What onnxruntime-web's wasm module does when it initialises: bind console.log once.
    const boundAtInit = console.log.bind(console);
    restoreConsole();
    expect(console.log).toBe(original);
    const lines = await captureConsole(() => {
      boundAtInit('[');
      boundAtInit('{"cat" : "Session","name" :"model_run","ts" :1,"dur" :5,"ph" : "X","args" : {}}');
      console.log(']');
    });
    expect(lines).toEqual(['[', '{"cat" : "Session","name" :"model_run","ts" :1,"dur" :5,"ph" : "X","args" : {}}', ']']);
    expect(console.log).toBe(original);
    expect(JSON.parse(profileFromLines(['noise', ...lines]))).toHaveLength(1);
    expect(() => profileFromLines([])).toThrow(/import src\/instrument\/ort\/console-hook\.ts before onnxruntime-web/);
  });

  it('captures fd 1 writes in Node (onnxruntime-web prints with fs.writeSync) and restores fs.writeSync', async () => {
    const original = fs.writeSync;
    const lines = await captureStdoutWrites(async () => {
      fs.writeSync(1, '[\n');
      fs.writeSync(1, ']\n');
    });
    expect(fs.writeSync).toBe(original);
    expect(lines.filter((l) => l !== '')).toEqual(['[', ']']);
  });

  it('reads the native WebGPU EP\'s GPU timestamps (Api events) from the session profile', () => {
    const text = JSON.stringify([
      ev('model_run', 100, 900, {}, 'Session'),
      ev('p2o.Conv.0_token_1_kernel_time', 110, 500, { op_name: 'Conv', provider: 'WebGpuExecutionProvider', node_index: '230' }),
      { ...ev('p2o.Conv.0_token_1&Conv&Conv2dMM', 300, 31, { shapes: 'inputs[0] = {1,48,192,3} inputs[1] = {3,3,3,2} outputs[0] = {1,24,96,2} ' }, 'Api'), pid: -1 },
      { ...ev('p2o.Add.0&Add&Add', 340, 2, { shapes: 'inputs[0] = {4608} inputs[1] = {1} outputs[0] = {4608} ' }, 'Api'), pid: -1 },
    ]);
    const gpu = parseOrtProfile(text, 'gpu');
    expect(gpu.map((k) => [k.ortName, k.op, k.ms, k.inputShapes, k.outputShapes])).toEqual([
      ['p2o.Conv.0_token_1', 'Conv:Conv2dMM', 0.031, [[1, 48, 192, 3], [3, 3, 3, 2]], [[1, 24, 96, 2]]],
      ['p2o.Add.0', 'Add', 0.002, [[4608], [1]], [[4608]]],
    ]);
    const nodes = [onnxNode({ name: 'p2o.Conv.0', op: 'Conv' }), onnxNode({ name: 'p2o.Add.0', op: 'Add' })];
    expect(attributeKernels(gpu, nodes)).toEqual(['p2o.Conv.0', 'p2o.Add.0']);
  });

  it('turns JSEP WebGPU ondata records into gpu-timestamp kernels (ns → ms), restoring env.webgpu.profiling', async () => {
    const env = { webgpu: { profiling: { mode: 'off' as const } } } as unknown as OrtModule['env'];
    const ort = { env } as OrtModule;
    // The profile has no Api events (JSEP): the ondata records are used.
    const profiler = webgpuProfiler(ort, { settleMs: 20, readProfile: async () => '[]' });
    expect(profiler.sessionOptions()).toEqual({ enableProfiling: true });
    const kernels = await profiler.profile({} as OrtSession, async () => {
      const p = (env as unknown as { webgpu: { profiling: { mode: string; ondata: (d: unknown) => void } } }).webgpu.profiling;
      expect(p.mode).toBe('default');
      setTimeout(() => {
        p.ondata({ kernelId: 2, kernelType: 'Relu', kernelName: 'relu', programName: 'Relu', startTime: 5000, endTime: 9000, inputsMetadata: [{ dims: [1, 8] }], outputsMetadata: [{ dims: [1, 8] }] });
        p.ondata({ kernelId: 1, kernelType: 'Conv', kernelName: 'conv', programName: 'Conv2DMatMul', startTime: 1000, endTime: 4000, inputsMetadata: [], outputsMetadata: [{ dims: [1, 8] }] });
      }, 5);
    });
    expect(profiler.clock).toBe('gpu-timestamp');
    expect(kernels.map((x) => [x.ortName, x.op, x.ms])).toEqual([
      ['conv', 'Conv:Conv2DMatMul', 0.003],
      ['relu', 'Relu', 0.004],
    ]);
    expect((env as unknown as { webgpu: { profiling: { mode: string } } }).webgpu.profiling.mode).toBe('off');
  });
});

describe('tensor conversions', () => {
  const input = (data: Float32Array | Int32Array): { name: string; shape: number[]; dtype: 'int64'; data: Float32Array | Int32Array } => ({ name: 'sr', shape: [data.length], dtype: 'int64', data });

  it('feeds int64 as BigInt64Array and refuses values a type cannot hold', () => {
    expect(ortInputData(input(Int32Array.from([16000])), 'int64')).toEqual(BigInt64Array.from([16000n]));
    expect(() => ortInputData(input(Int32Array.from([300])), 'uint8')).toThrow(/input "sr": value 300 at index 0 does not fit uint8/);
    expect(() => ortInputData(input(Float32Array.from([1.5])), 'int64')).toThrow(/not an integer/);
    expect(() => ortInputData(input(Float32Array.from([1])), 'string')).toThrow(/cannot feed/);
  });

  it('stores int64 outputs as int32 when they fit, else as float32 marked approximate; float16 as float32', () => {
    const t = (type: string, data: unknown, dims: number[]): OrtTensor => ({ type, data, dims, location: 'cpu' }) as unknown as OrtTensor;
    expect(tensorValues(t('int64', BigInt64Array.from([1n, -2n]), [2]))).toEqual({ shape: [2], dtype: 'int64', data: Int32Array.from([1, -2]), approximate: false });
    const big = tensorValues(t('int64', BigInt64Array.from([2n ** 40n]), [1]));
    expect(big.approximate).toBe(true);
    expect(big.data).toEqual(Float32Array.from([2 ** 40]));
    const half = Uint16Array.from([floatToHalfBits(1.5), floatToHalfBits(-0.25), floatToHalfBits(65504)]);
    expect(tensorValues(t('float16', half, [3])).data).toEqual(Float32Array.from([1.5, -0.25, 65504]));
    expect(halfBitsToFloat(floatToHalfBits(0.1))).toBeCloseTo(0.1, 3);
    expect(tensorValues(t('string', ['a'], [1])).data).toBeNull();
  });
});

describe('when the execution provider cannot use the rewritten model', () => {
  /** onnxruntime-node, except that sessions of a model with more outputs than the original fail as `mode` says. */
  function pickyOrt(original: number, mode: 'load' | 'run'): OrtModule {
    const create = async (bytes: Uint8Array, options: object): Promise<OrtSession> => {
      const outputs = decodeOnnx(bytes, 'in-memory').graph!.output.length;
      if (outputs > original && mode === 'load') throw new Error('simulated EP: unsupported graph');
      const s = (await ortNode.InferenceSession.create(bytes, options)) as unknown as OrtSession;
      if (outputs > original && mode === 'run') {
        return new Proxy(s, { get: (target, prop) => (prop === 'run' ? () => Promise.reject(new Error('simulated EP: kernel failed')) : Reflect.get(target, prop)) });
      }
      return s;
    };
    return { InferenceSession: { create }, Tensor: ortNode.Tensor, env: ortNode.env } as unknown as OrtModule;
  }

  const x = { name: 'x', shape: [1, 3, 48, 192], dtype: 'float32' as const, data: new Float32Array(3 * 48 * 192).fill(0.25) };
  let bytes: Uint8Array;
  const run = async (mode: 'load' | 'run') => {
    bytes = new Uint8Array(await readFile(join(CLS, 'model.onnx')));
    const info = describeOnnx(decodeOnnx(bytes, 'cls'));
    const profiler = await fileProfiler();
    const trace = await traceOnnx(pickyOrt(info.outputs.length, mode), bytes, [x], {
      runtime: 'onnxruntime-node',
      executionProvider: 'cpu',
      profiler,
      capture: 'tensors',
      runs: 1,
      warmup: 0,
      modelName: 'cls',
    });
    return { trace, info };
  };

  it('cannot load it: a timing-only trace that says so, with shapes from the profiler', async () => {
    const { trace, info } = await run('load');
    const h = trace.header;
    expect(h.capture).toBe('timing');
    expect(h.warnings[0]).toMatch(/^onnxruntime-node \(cpu\) cannot load the rewritten model that exposes every node output \(simulated EP: unsupported graph\); this trace has the timing pass only$/);
    expect(h.nodes).toHaveLength(info.nodes.length);
    expect(h.nodes.every((n) => n.outputs.every((o) => !o.stats && !o.blob))).toBe(true);
    expect(h.kernels.length).toBeGreaterThan(50);
    // Every shape it gives is the node's real output shape (as a normal capture records it).
    const real = await traceOnnx(ortNode as unknown as OrtModule, bytes, [x], { runtime: 'onnxruntime-node', executionProvider: 'cpu', profiler: null, capture: 'stats', runs: 1, warmup: 0 });
    const shapes = h.nodes.flatMap((n, i) => n.outputs.map((o, k) => [o.shape, real.header.nodes[i]!.outputs[k]!.shape]));
    for (const [timing, captured] of shapes.filter(([timing]) => timing!.length > 0)) expect(timing).toEqual(captured);
    // onnxruntime-node ran the convolutions in its blocked NCHWc layout: the profiler's shapes are not
    // the model's there, and the trace says so instead of recording them.
    expect(h.kernels.some((k) => k.name === 'ReorderInput')).toBe(true);
    expect(h.warnings.some((w) => /node output\(s\) have no recorded shape .*blocked layout \(NCHWc\)/.test(w))).toBe(true);
    expect(h.outputs[0]!.blob).toBeDefined();
    expect(h.timing?.runMs).toHaveLength(1);
  });

  it('cannot run it: the trace keeps the timing pass and says the nodes have no values', async () => {
    const { trace } = await run('run');
    const h = trace.header;
    expect(h.warnings.some((w) => /cannot run the rewritten model that exposes every node output \(simulated EP: kernel failed\); nodes have no values/.test(w))).toBe(true);
    expect(h.nodes.every((n) => n.outputs.every((o) => !o.stats))).toBe(true);
    expect(h.kernels.length).toBeGreaterThan(50);
    expect(h.outputs[0]!.stats).toBeDefined();
  });
});
