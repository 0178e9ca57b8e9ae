/**
 * ISNet (1024×1024 segmentation) from `@imgly/background-removal-data@1.4.5`, int8 and fp16, for the
 * wild-model suite (`npm run test:wild`) and the benchmark (`npm run bench:wild`).
 *
 * The package (136 MB) is not a dependency: it is installed on demand into ~/.cache/exray-wild
 * (`EXRAY_WILD_CACHE`) with `npm install --prefix … --no-save`, never by `npm ci`. Its models ship as
 * 4 MiB chunks named by their sha256 (dist/resources.json); they are joined and checked here. The input
 * is public/samples/chelsea.png stretched to 1024², normalised as the package's own pre-processing
 * does ((x − 128) / 256).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGE = '@imgly/background-removal-data@1.4.5';
const CACHE = process.env.EXRAY_WILD_CACHE ?? join(homedir(), '.cache', 'exray-wild');

interface Resource {
  chunks: { hash: string; offsets: [number, number] }[];
  size: number;
}

/** The package in the cache (installed when missing), and its two ISNet models joined from their chunks. */
export function isnetModels(): { int8: string; fp16: string } {
  const dist = join(CACHE, 'node_modules', '@imgly', 'background-removal-data', 'dist');
  if (!existsSync(join(dist, 'resources.json'))) {
    mkdirSync(CACHE, { recursive: true });
    process.stdout.write(`  installing ${PACKAGE} into ${CACHE} (136 MB, once)\n`);
    execFileSync('npm', ['install', '--prefix', CACHE, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', PACKAGE], { stdio: 'inherit' });
  }
  const resources = JSON.parse(readFileSync(join(dist, 'resources.json'), 'utf8')) as Record<string, Resource>;
  const join1 = (key: string, out: string): string => {
    const file = join(CACHE, out);
    const r = resources[key];
    if (!r) throw new Error(`${PACKAGE}: no ${key} in resources.json`);
    if (existsSync(file) && readFileSync(file).length === r.size) return file;
    const parts = r.chunks.map((c) => {
      const b = readFileSync(join(dist, c.hash));
      const sum = createHash('sha256').update(b).digest('hex');
      if (sum !== c.hash) throw new Error(`${PACKAGE}: chunk ${c.hash} has sha256 ${sum}`);
      return b;
    });
    const all = Buffer.concat(parts);
    if (all.length !== r.size) throw new Error(`${PACKAGE}: ${key} is ${all.length} bytes, resources.json says ${r.size}`);
    writeFileSync(file, all);
    return file;
  };
  return { int8: join1('/models/small', 'isnet-int8.onnx'), fp16: join1('/models/medium', 'isnet-fp16.onnx') };
}

/** chelsea.png as the models' [1,3,1024,1024] input, a float32 .npy. */
export async function inputNpy(dir: string): Promise<string> {
  const { data } = await sharp(join(ROOT, 'public', 'samples', 'chelsea.png')).removeAlpha().resize(1024, 1024, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const n = 1024 * 1024;
  const f = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) f[c * n + i] = (data[i * 3 + c]! - 128) / 256;
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1024, 1024), }";
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  const file = join(dir, 'chelsea-1024.npy');
  writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(f.buffer)]));
  return file;
}

