/**
 * `exray.farm.json`: what a farm run crosses (models × inputs × backends × devices) and how it judges
 * the result. Validated with zod; every error names the file and the JSON path (`devices[1].connect`),
 * and the CLI turns it into exit code 2. Flags build the same object (configFromFlags), so both paths
 * go through one schema.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ExrayInputError } from '../errors.ts';

/** Backends a cell runs on; `webgl-f16` is WebGL with half-float textures (a phone GPU, emulated). */
export const FARM_BACKENDS = ['cpu', 'wasm', 'webgl', 'webgl-f16', 'webgpu'] as const;
export type FarmBackend = (typeof FARM_BACKENDS)[number];

const name = z.string().min(1).max(80).optional();
const wsUrl = z.string().regex(/^wss?:\/\/[^\s]+$/, 'expected a ws:// or wss:// URL');
const httpUrl = z.string().regex(/^(https?|wss?):\/\/[^\s]+$/, 'expected an http(s):// or ws(s):// URL');

const deviceSchema = z.union([
  z.strictObject({ name, emulate: z.string().min(1) }),
  z.strictObject({
    name,
    connect: wsUrl,
    headers: z.record(z.string(), z.string()).optional(),
    /** Which hosts the remote browser reaches through the client (default `<loopback>`: the served page). */
    exposeNetwork: z.string().optional(),
  }),
  z.strictObject({ name, cdp: httpUrl }),
  z.strictObject({ name, android: z.string().min(1).regex(/^[A-Za-z0-9._:-]+$/, 'expected an adb serial') }),
]);
export type FarmDeviceSpec = z.infer<typeof deviceSchema>;

const modelSchema = z.union([
  z.string().min(1),
  z.strictObject({
    path: z.string().min(1),
    inputs: z.array(z.string().min(1)).min(1).optional(),
    /** This model's backends (default: the top-level list), e.g. ONNX models on wasm only. */
    backends: z.array(z.enum(FARM_BACKENDS)).min(1).optional(),
  }),
]);

export const farmConfigSchema = z.strictObject({
  /** Model directories, model.json files or `.onnx` files; an object may give the model its own inputs. */
  models: z.array(modelSchema).min(1),
  /** Photos, tensor files (.npy, .json) or folders of them (every photo / tensor file directly inside). */
  inputs: z.array(z.string().min(1)).min(1).optional(),
  backends: z.array(z.enum(FARM_BACKENDS)).min(1).default(['wasm']),
  devices: z.array(deviceSchema).min(1),
  options: z
    .strictObject({
      capture: z.enum(['stats', 'tensors']).default('tensors'),
      runs: z.number().int().min(1).max(100).default(1),
      warmup: z.number().int().min(0).max(100).default(0),
    })
    .prefault({}),
  tolerance: z
    .strictObject({
      /** Node and output tolerance on normalised RMSE (the comparison's float32 preset when absent). */
      nrmse: z.number().positive().optional(),
      /** Minimum share of inputs whose top-1 class agrees with the reference (classifier outputs). */
      top1: z.number().min(0).max(1).default(1),
    })
    .prefault({}),
  reference: z.enum(['cpu', 'wasm']).default('cpu'),
  jobs: z.number().int().min(1).max(64).default(1),
  /** Per-cell timeout (all of the cell's inputs), seconds. */
  timeout: z.number().positive().max(3600).default(300),
  /** Extra attempts of a cell that errored (never of one that diverged or was skipped). */
  retries: z.number().int().min(0).max(5).default(1),
  /** Diagnose divergent cells (names the cause). */
  diagnose: z.boolean().default(true),
  out: z.string().min(1).default('exray-farm'),
});
export type FarmConfig = z.output<typeof farmConfigSchema>;
export type FarmConfigInput = z.input<typeof farmConfigSchema>;

/** `devices[1].connect` from a zod issue path. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

/** Validate a parsed config; errors name `file` and each failing JSON path. */
export function parseFarmConfig(json: unknown, file: string): FarmConfig {
  const r = farmConfigSchema.safeParse(json);
  if (!r.success) throw new ExrayInputError(file, r.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`).join('; '));
  const cfg = r.data;
  for (const [k, m] of cfg.models.entries()) {
    if (typeof m === 'string' ? !cfg.inputs : !m.inputs && !cfg.inputs) throw new ExrayInputError(file, `models[${k}]: no inputs (give "inputs" at the top level or in the model)`);
  }
  const names = new Set<string>();
  for (const [k, d] of cfg.devices.entries()) {
    const n = deviceName(d);
    if (names.has(n)) throw new ExrayInputError(file, `devices[${k}]: two devices are named "${n}" (give one a "name")`);
    names.add(n);
  }
  return cfg;
}

export async function loadFarmConfig(file: string): Promise<FarmConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExrayInputError(file, code === 'ENOENT' ? 'file not found' : (e as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExrayInputError(file, `not JSON: ${(e as Error).message}`);
  }
  return parseFarmConfig(json, file);
}

/** The device's display name: its `name`, else what it is. */
export function deviceName(d: FarmDeviceSpec): string {
  if (d.name) return d.name;
  if ('emulate' in d) return d.emulate;
  if ('connect' in d) return `connect ${d.connect.replace(/[?#].*$/, '')}`;
  if ('cdp' in d) return `cdp ${d.cdp.replace(/[?#].*$/, '')}`;
  return `android ${d.android}`;
}

/** Only letters, digits, `.`, `_`, `-`: file names of the report come from names, never from contents. */
export function sanitizeName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 60);
  return clean || 'x';
}
