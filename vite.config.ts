/**
 * Vite config of the exray page (index.html → src/viewer/main.tsx).
 *
 * - COOP/COEP on dev and preview servers: `crossOriginIsolated` is true (SharedArrayBuffer, wasm threads).
 * - Workers are ES modules and are NOT minified: minifying TF.js wasm's pthread worker code breaks it
 *   (tensorflow/tfjs#4253, docs/viewer.md).
 * - The `exray-models` plugin serves `models/<name>/{exray.json, model.json, shards | model.onnx}` at `/models/...`
 *   in dev, writes `/models/index.json` (cards + file lists + sample photos), and copies all of it into
 *   the build. Model weights are not in git: `npm ci` extracts them (`npm run models`).
 */
import { createReadStream } from 'node:fs';
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Connect, type Plugin } from 'vite';
import { CARD_FILE_NAME, loadModelCard } from './src/models/card.ts';
import type { SampleIndex, SampleModelEntry } from './src/viewer/load/sample-index.ts';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
const PHOTO_EXT = /\.(jpe?g|png|webp|gif|bmp)$/i;

/** Files of a TF.js model: model.json then the manifest's shards (groups in order, paths in order). */
async function modelFiles(dir: string, modelFile: string): Promise<{ files: string[]; bytes: number; problem?: string }> {
  const files = [modelFile];
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path.join(dir, modelFile), 'utf8'));
  } catch {
    return { files, bytes: 0, problem: `${modelFile} is missing or unreadable: run \`npm run models\`` };
  }
  const manifest = (json as { weightsManifest?: { paths?: string[] }[] }).weightsManifest ?? [];
  for (const group of manifest) files.push(...(group.paths ?? []));
  let bytes = 0;
  for (const f of files) {
    if (f.includes('..') || f.startsWith('/')) return { files, bytes, problem: `unsafe path ${f}` };
    try {
      bytes += (await stat(path.join(dir, f))).size;
    } catch {
      return { files, bytes, problem: `${f} is missing: run \`npm run models\`` };
    }
  }
  return { files, bytes };
}

/** Files of an ONNX model: the one `.onnx` file (external data files are refused by the instrumenter). */
async function onnxFiles(dir: string, modelFile: string): Promise<{ files: string[]; bytes: number; problem?: string }> {
  if (modelFile.includes('..') || modelFile.startsWith('/')) return { files: [modelFile], bytes: 0, problem: `unsafe path ${modelFile}` };
  try {
    return { files: [modelFile], bytes: (await stat(path.join(dir, modelFile))).size };
  } catch {
    return { files: [modelFile], bytes: 0, problem: `${modelFile} is missing: run \`npm run models\`` };
  }
}

/** `public/samples/tensors/<name>/sets.json`: bundled input tensors of a sample model (served from public/). */
async function sampleTensorSets(name: string): Promise<SampleModelEntry['tensorSets']> {
  const file = path.join(ROOT, 'public', 'samples', 'tensors', name, 'sets.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const sets = (JSON.parse(text) as { sets?: SampleModelEntry['tensorSets'] }).sets;
    return Array.isArray(sets) ? sets : undefined;
  } catch (e) {
    console.warn(`exray-models: skipping ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

/** Every `models/<name>/exray.json` that is valid; a bad card is reported and left out, not fatal. */
async function buildIndex(): Promise<SampleIndex> {
  const models: SampleModelEntry[] = [];
  const root = path.join(ROOT, 'models');
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const cardPath = path.join(root, name, CARD_FILE_NAME);
    if (!(await stat(cardPath).then((s) => s.isFile(), () => false))) continue;
    let card;
    try {
      card = await loadModelCard(cardPath);
    } catch (e) {
      console.warn(`exray-models: skipping ${cardPath}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    if (card.name !== name) continue;
    const dir = path.join(root, name);
    const { files, bytes, problem } = card.format === 'onnx' ? await onnxFiles(dir, card.modelFile) : await modelFiles(dir, card.modelFile);
    const tensorSets = await sampleTensorSets(name);
    models.push({ name, card, files, bytes, ready: problem === undefined, ...(problem ? { problem } : {}), ...(tensorSets ? { tensorSets } : {}) });
  }
  let photos: string[] = [];
  try {
    photos = (await readdir(path.join(ROOT, 'public', 'samples'))).filter((f) => PHOTO_EXT.test(f)).sort();
  } catch {
    photos = [];
  }
  return { models, photos };
}

function contentType(file: string): string {
  if (file.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

function exrayModels(): Plugin {
  let outDir = path.join(ROOT, 'dist');
  let isBuild = false;
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    const m = /^\/models\/(?:(index\.json)|([a-z0-9][a-z0-9._-]*)\/([^/]+))$/.exec(url);
    if (!m) return next();
    void (async () => {
      const index = await buildIndex();
      for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
      res.setHeader('Cache-Control', 'no-cache');
      if (m[1]) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(index));
        return;
      }
      const entry = index.models.find((e) => e.name === m[2]);
      const file = m[3] ?? '';
      if (!entry || (file !== 'exray.json' && !entry.files.includes(file))) {
        res.statusCode = 404;
        res.end(`not a file of a sample model: ${url}`);
        return;
      }
      const abs = path.join(ROOT, 'models', entry.name, file);
      const size = (await stat(abs)).size;
      res.setHeader('Content-Type', contentType(file));
      res.setHeader('Content-Length', String(size));
      createReadStream(abs).pipe(res);
    })().catch((e: unknown) => {
      res.statusCode = 404;
      res.end(String(e));
    });
  };
  return {
    name: 'exray-models',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
      isBuild = config.command === 'build';
    },
    configureServer(server) {
      server.middlewares.use(serve);
    },
    async closeBundle() {
      if (!isBuild) return;
      const index = await buildIndex();
      const dest = path.join(outDir, 'models');
      await mkdir(dest, { recursive: true });
      for (const e of index.models) {
        await mkdir(path.join(dest, e.name), { recursive: true });
        const files = e.ready ? ['exray.json', ...e.files] : ['exray.json'];
        for (const f of files) await cp(path.join(ROOT, 'models', e.name, f), path.join(dest, e.name, f));
      }
      await writeFile(path.join(dest, 'index.json'), JSON.stringify(index));
    },
  };
}

/**
 * `dist/agent.js`, the agent's one-script form (src/agent/script.ts) that `exray serve` serves: a
 * second, library-mode build after the page's, so every `vite build` makes both. It bundles no
 * runtime: it patches the app's own TF.js / onnxruntime-web.
 */
function exrayAgent(): Plugin {
  let outDir = path.join(ROOT, 'dist');
  return {
    name: 'exray-agent',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const { build } = await import('vite');
      await build({
        configFile: false,
        root: ROOT,
        logLevel: 'warn',
        publicDir: false,
        build: {
          outDir,
          emptyOutDir: false,
          target: 'es2022',
          minify: true,
          lib: { entry: path.join(ROOT, 'src', 'agent', 'script.ts'), formats: ['es'], fileName: () => 'agent.js' },
        },
      });
    },
  };
}

/**
 * dist/farm-report.js: the `exray farm` report page (src/viewer/farm), one classic script with its CSS
 * and React inside. The farm inlines it into the report's index.html, which must work opened from disk,
 * where module scripts and fetches of sibling files are refused.
 */
function exrayFarmReport(): Plugin {
  let outDir = path.join(ROOT, 'dist');
  return {
    name: 'exray-farm-report',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const { build } = await import('vite');
      await build({
        configFile: false,
        root: ROOT,
        logLevel: 'warn',
        publicDir: false,
        plugins: [react()],
        // Library builds leave process.env alone; React reads NODE_ENV to drop its development checks.
        define: { 'process.env.NODE_ENV': JSON.stringify('production') },
        build: {
          outDir,
          emptyOutDir: false,
          target: 'es2022',
          minify: true,
          cssCodeSplit: false,
          lib: { entry: path.join(ROOT, 'src', 'viewer', 'farm', 'main.tsx'), formats: ['iife'], name: 'exrayFarmReport', fileName: () => 'farm-report.js' },
        },
      });
    },
  };
}

/** Modules reachable from `entry` by static imports (dynamic imports are chunks of their own). */
function staticClosure(entry: string, info: (id: string) => { importedIds: readonly string[] } | null): Set<string> {
  const seen = new Set<string>([entry]);
  const todo = [entry];
  for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
    for (const dep of info(id)?.importedIds ?? []) {
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  return seen;
}

/**
 * The viewer's start path in two chunks instead of ~17: `shell`, the modules only the viewer's entry
 * imports statically, and `shell-shared`, those the runner page (runner.html) imports too. Split by
 * default, the modules shared by the two pages and the lazy chunks came in 17 files, and the first
 * paint waited for three rounds of requests (HTTP/1.1: six at a time). Lazy chunks (results, trace
 * reader, remote panels) and workers are split as before. The module graph is read once it is
 * complete (buildEnd), before chunks are made.
 */
function startPathChunks(): { plugin: Plugin; groups: { name: string; test: (id: string) => boolean; priority: number }[] } {
  const viewerEntry = path.join(ROOT, 'src', 'viewer', 'main.tsx');
  const runnerEntry = path.join(ROOT, 'src', 'browser-runner', 'main.ts');
  let viewer = new Set<string>();
  let runner = new Set<string>();
  const plugin: Plugin = {
    name: 'exray-start-path-chunks',
    apply: 'build',
    buildEnd() {
      const info = (id: string): { importedIds: readonly string[] } | null => this.getModuleInfo(id);
      viewer = staticClosure(viewerEntry, info);
      runner = staticClosure(runnerEntry, info);
      viewer.delete(viewerEntry);
      runner.delete(runnerEntry);
    },
  };
  return {
    plugin,
    groups: [
      { name: 'shell-shared', test: (id) => viewer.has(id) && runner.has(id), priority: 2 },
      { name: 'shell', test: (id) => viewer.has(id), priority: 1 },
    ],
  };
}

const startPath = startPathChunks();

export default defineConfig({
  // Relative asset URLs: the build also works from a sub-path (e.g. served by `exray serve`).
  base: './',
  plugins: [react(), exrayModels(), exrayAgent(), exrayFarmReport(), startPath.plugin],
  server: { headers: ISOLATION_HEADERS, port: 5173, strictPort: true },
  preview: { headers: ISOLATION_HEADERS, port: 4173, strictPort: true },
  // onnxruntime-web is imported only inside trace workers (worker/run-onnx.ts), which the dependency
  // scanner does not reach: pre-bundle it up front, or the dev server re-optimises and reloads the page
  // in the middle of the first ONNX run (`exray trace --browser`).
  optimizeDeps: { include: ['onnxruntime-web'] },
  worker: {
    format: 'es',
    rolldownOptions: { output: { minify: false } },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Two pages: the viewer, and the runner page `exray farm` opens from the built dist/ (served by
    // startServer, as `exray serve` serves the viewer). `rolldownOptions` is vite 8's name.
    rolldownOptions: {
      input: { index: path.join(ROOT, 'index.html'), runner: path.join(ROOT, 'runner.html') },
      output: { codeSplitting: { groups: startPath.groups } },
    },
  },
});
