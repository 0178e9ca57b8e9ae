/**
 * Linear-time checks of a TF.js model's graph before any runtime sees it (docs/limits.md): node count
 * (EXRAY_MAX_NODES), inputs that name no node (dangling), and cycles. TF.js itself spins forever on a
 * Keras layers model whose inbound_nodes form a cycle, and fails with an unrelated TypeError on a
 * graph model with one. Pure; every problem is an ExrayInputError naming model.json.
 */
import { ExrayInputError } from '../errors.ts';
import { LIMIT_DEFAULTS, LIMIT_ENV } from '../limits.ts';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Kahn's algorithm over `n` vertices and `edges[v]` = vertices that depend on v: the vertices left on a
 * cycle (empty when acyclic). O(vertices + edges).
 */
function verticesOnCycles(n: number, edges: number[][]): number[] {
  const indegree = new Int32Array(n);
  for (const out of edges) for (const u of out) indegree[u]!++;
  const queue: number[] = [];
  for (let v = 0; v < n; v++) if (indegree[v] === 0) queue.push(v);
  let seen = 0;
  for (let head = 0; head < queue.length; head++) {
    seen++;
    for (const u of edges[queue[head]!]!) if (--indegree[u]! === 0) queue.push(u);
  }
  if (seen === n) return [];
  const left: number[] = [];
  for (let v = 0; v < n; v++) if (indegree[v]! > 0) left.push(v);
  return left;
}

function names(list: string[], max = 3): string {
  const shown = list.slice(0, max).map((s) => JSON.stringify(s));
  return list.length > max ? `${shown.join(', ')} and ${list.length - max} more` : shown.join(', ');
}

/** A graph model's node list (GraphDef): names unique, inputs naming nodes, no cycle but TF's loop back edges. */
function checkGraphNodes(nodes: unknown[], where: string, fail: (p: string) => never): void {
  const index = new Map<string, number>();
  const ops: string[] = [];
  nodes.forEach((node, i) => {
    if (!isRecord(node) || typeof node['name'] !== 'string') fail(`${where}[${i}] has no name`);
    const name = (node as Json)['name'] as string;
    if (index.has(name)) fail(`${where}: two nodes are named ${JSON.stringify(name)}`);
    index.set(name, i);
    ops.push(typeof (node as Json)['op'] === 'string' ? ((node as Json)['op'] as string) : '');
  });
  const edges: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    const inputs = (node as Json)['input'];
    if (inputs === undefined) return;
    if (!Array.isArray(inputs)) fail(`${where}[${i}] (${JSON.stringify((node as Json)['name'])}): input is not a list`);
    for (const raw of inputs as unknown[]) {
      if (typeof raw !== 'string') fail(`${where}[${i}] (${JSON.stringify((node as Json)['name'])}): an input is not a string`);
      // "^ctrl", "name", "name:1", "fn_call:output:0"
      const ref = (raw as string).replace(/^\^/, '').split(':')[0]!;
      const p = index.get(ref);
      if (p === undefined) fail(`node ${JSON.stringify((node as Json)['name'])} reads ${JSON.stringify(raw)}, which no node of ${where} produces`);
      // A loop's back edge (NextIteration → Merge) is a legal cycle of TF control flow.
      if (ops[p!] === 'NextIteration') continue;
      edges[p!]!.push(i);
    }
  });
  const cyc = verticesOnCycles(nodes.length, edges);
  if (cyc.length > 0) {
    fail(`${where} has a cycle (through ${names(cyc.map((v) => (nodes[v] as Json)['name'] as string))}): a model graph must be acyclic`);
  }
}

interface LayersCount {
  nodes: number;
}

/** A Keras functional model config: inbound_nodes name existing layers and calls, and form no cycle. */
function checkLayersConfig(config: unknown, where: string, fail: (p: string) => never, count: LayersCount, max: number): void {
  // Sequential: `config` is the list of layers (old) or {layers} without inbound_nodes: a chain, acyclic.
  const layers = Array.isArray(config) ? config : isRecord(config) ? config['layers'] : undefined;
  if (!Array.isArray(layers)) fail(`${where}: model_config has no layers list`);
  const list = layers as unknown[];
  count.nodes += list.length;
  if (count.nodes > max) fail(`the model has more than ${max.toLocaleString('en-US')} layers, over the limit (${LIMIT_ENV.nodes} raises it)`);
  // Vertices: (layer, call index), numbered in order; calls[l] = first vertex of layer l.
  const layerIndex = new Map<string, number>();
  const first: number[] = [];
  const callCount: number[] = [];
  const layerNames: string[] = [];
  let vertices = 0;
  list.forEach((layer, i) => {
    if (!isRecord(layer)) fail(`${where}: layers[${i}] is not an object`);
    const l = layer as Json;
    const cfg = isRecord(l['config']) ? l['config'] : {};
    const name = typeof l['name'] === 'string' ? l['name'] : typeof cfg['name'] === 'string' ? (cfg['name'] as string) : `#${i}`;
    if (layerIndex.has(name)) fail(`${where}: two layers are named ${JSON.stringify(name)}`);
    layerIndex.set(name, i);
    layerNames.push(name);
    const inbound = l['inbound_nodes'];
    const calls = Array.isArray(inbound) ? inbound.length : 0;
    first.push(vertices);
    callCount.push(Math.max(1, calls));
    vertices += Math.max(1, calls);
    // A nested model (a layer that is itself a model): its own layers count and are checked too.
    const cls = l['class_name'];
    if ((cls === 'Model' || cls === 'Functional' || cls === 'Sequential') && l['config'] !== undefined) {
      checkLayersConfig(l['config'], `${where} > ${name}`, fail, count, max);
    }
  });
  const edges: number[][] = Array.from({ length: vertices }, () => []);
  const label: string[] = [];
  list.forEach((layer, i) => {
    const l = layer as Json;
    const name = layerNames[i]!;
    for (let k = 0; k < callCount[i]!; k++) label[first[i]! + k] = name;
    const inbound = l['inbound_nodes'];
    if (inbound === undefined) return;
    if (!Array.isArray(inbound)) fail(`${where}: layer ${JSON.stringify(name)}: inbound_nodes is not a list`);
    (inbound as unknown[]).forEach((call, k) => {
      // [[layer, node index, tensor index, kwargs], ...] (Keras 2), or {args, kwargs} (Keras 3: not walked).
      if (!Array.isArray(call)) return;
      for (const ref of call as unknown[]) {
        if (!Array.isArray(ref) || typeof ref[0] !== 'string') continue;
        const from = layerIndex.get(ref[0]);
        if (from === undefined) fail(`layer ${JSON.stringify(name)} takes its input from layer ${JSON.stringify(ref[0])}, which ${where} does not have`);
        const call0 = typeof ref[1] === 'number' ? ref[1] : 0;
        if (!Number.isInteger(call0) || call0 < 0 || call0 >= callCount[from!]!) {
          fail(`layer ${JSON.stringify(name)} takes call ${call0} of layer ${JSON.stringify(ref[0])}, which is called ${callCount[from!]} time(s)`);
        }
        edges[first[from!]! + call0]!.push(first[i]! + k);
      }
    });
  });
  if (isRecord(config)) {
    for (const key of ['input_layers', 'output_layers']) {
      const refs = config[key];
      if (!Array.isArray(refs)) continue;
      for (const ref of refs as unknown[]) {
        const n = Array.isArray(ref) ? ref[0] : undefined;
        if (typeof n === 'string' && !layerIndex.has(n)) fail(`${where}: ${key} names layer ${JSON.stringify(n)}, which it does not have`);
      }
    }
  }
  const cyc = verticesOnCycles(vertices, edges);
  if (cyc.length > 0) {
    fail(`the layers' inbound_nodes form a cycle (through ${names([...new Set(cyc.map((v) => label[v]!))])}): a model graph must be acyclic`);
  }
}

/**
 * Checks a TF.js model.json (already parsed) in O(nodes + edges). `maxNodes` defaults to EXRAY_MAX_NODES's default;
 * the CLI passes limits().nodes.
 */
export function checkTfjsGraph(json: Json, file: string, maxNodes: number = LIMIT_DEFAULTS.nodes): void {
  const fail = (problem: string): never => {
    throw new ExrayInputError(file, problem);
  };
  const topo = json['modelTopology'];
  if (!isRecord(topo)) return;
  if (Array.isArray(topo['node'])) {
    const nodes = topo['node'] as unknown[];
    let total = nodes.length;
    const lib = isRecord(topo['library']) ? topo['library'] : undefined;
    const fns = Array.isArray(lib?.['function']) ? (lib!['function'] as unknown[]) : [];
    for (const f of fns) if (isRecord(f) && Array.isArray(f['nodeDef'])) total += (f['nodeDef'] as unknown[]).length;
    if (total > maxNodes) fail(`the graph has ${total.toLocaleString('en-US')} nodes, over the limit of ${maxNodes.toLocaleString('en-US')} (${LIMIT_ENV.nodes} raises it)`);
    checkGraphNodes(nodes, 'modelTopology.node', fail);
    return;
  }
  const mc = topo['model_config'];
  if (isRecord(mc)) checkLayersConfig(mc['config'], 'model_config', fail, { nodes: 0 }, maxNodes);
}
