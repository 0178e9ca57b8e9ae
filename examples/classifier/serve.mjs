#!/usr/bin/env node
/**
 * A tiny static server for the example classifier (node:http only, no dependencies).
 *
 *   node examples/classifier/serve.mjs [--port 4330] [--host 127.0.0.1]
 *
 * Every URL is looked up in a fixed map built at start-up (never joined from the URL):
 *   /                  index.html and the app's own modules
 *   /vendor/*          TF.js, its wasm backend and onnxruntime-web from node_modules (an allow-list)
 *   /model/*           models/nsfw-mobilenet-v2-mid (model.json + the shards its manifest names)
 *   /onnx-model/model.onnx   models/ppocr-mobile-v2-cls/model.onnx
 *   /images/<name>     the photos in public/samples/
 *   /vad/              the second example app, examples/vad/ (Silero VAD on a synthetic signal)
 *   /vad-model/model.onnx    models/silero-vad-v5/model.onnx
 *
 * As a module: `startExampleServer({ port, host })` resolves to `{ port, url, close() }`.
 */
import { createServer } from 'node:http';
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const NM = join(ROOT, 'node_modules');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.md': 'text/markdown; charset=utf-8',
};

const typeOf = (file) => TYPES[file.slice(file.lastIndexOf('.')).toLowerCase()] ?? 'application/octet-stream';

/** The app's own files, served at `/`. */
const APP_FILES = ['index.html', 'app.js', 'image.js', 'tfjs-classifier.js', 'onnx-classifier.js', 'style.css'];

/** URL name under /vendor/ -> file under node_modules. */
const VENDOR = {
  'tf.min.js': '@tensorflow/tfjs/dist/tf.min.js',
  // UMD build of the TF.js wasm backend: registers `tf.wasm` on the global `tf`.
  'tf-backend-wasm.js': '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.js',
  'tfjs-backend-wasm.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm': '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
  'ort.min.js': 'onnxruntime-web/dist/ort.min.js',
  // ort.min.js (1.30) imports the JSEP build at run time; ort.wasm.min.js would use the plain one.
  'ort-wasm-simd-threaded.jsep.mjs': 'onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm': 'onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm',
  // The wasm-only build (examples/vad): the plain wasm below, half the size of the JSEP one.
  'ort.wasm.min.js': 'onnxruntime-web/dist/ort.wasm.min.js',
  'ort-wasm-simd-threaded.mjs': 'onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm': 'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
};

/** The voice-activity example (examples/vad/), served at /vad/ from the same server and vendor files. */
const VAD_DIR = join(ROOT, 'examples', 'vad');
const VAD_FILES = ['index.html', 'app.js', 'signal.js'];
const VAD_MODEL = join(ROOT, 'models', 'silero-vad-v5', 'model.onnx');

const TFJS_MODEL_DIR = join(ROOT, 'models', 'nsfw-mobilenet-v2-mid');
const ONNX_MODEL = join(ROOT, 'models', 'ppocr-mobile-v2-cls', 'model.onnx');
const SAMPLES_DIR = join(ROOT, 'public', 'samples');

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.(png|jpe?g|webp|gif)$/i;

/** The fixed map: URL path -> absolute file. Built once per server. */
function buildRoutes() {
  const routes = new Map();
  for (const f of APP_FILES) routes.set(`/${f}`, join(HERE, f));
  routes.set('/', join(HERE, 'index.html'));
  for (const [name, rel] of Object.entries(VENDOR)) routes.set(`/vendor/${name}`, join(NM, rel));

  const modelJson = join(TFJS_MODEL_DIR, 'model.json');
  routes.set('/model/model.json', modelJson);
  routes.set('/model/exray.json', join(TFJS_MODEL_DIR, 'exray.json'));
  if (existsSync(modelJson)) {
    try {
      const manifest = JSON.parse(readFileSync(modelJson, 'utf8')).weightsManifest ?? [];
      for (const group of manifest) {
        for (const p of group.paths ?? []) {
          if (typeof p === 'string' && PLAIN_NAME.test(p) && p !== 'model.json') routes.set(`/model/${p}`, join(TFJS_MODEL_DIR, p));
        }
      }
    } catch (e) {
      console.warn(`serve.mjs: cannot read ${modelJson}: ${e.message}`);
    }
  }
  routes.set('/onnx-model/model.onnx', ONNX_MODEL);
  for (const f of VAD_FILES) routes.set(`/vad/${f}`, join(VAD_DIR, f));
  routes.set('/vad/', join(VAD_DIR, 'index.html'));
  routes.set('/vad-model/model.onnx', VAD_MODEL);

  if (existsSync(SAMPLES_DIR)) {
    for (const name of readdirSync(SAMPLES_DIR)) {
      if (IMAGE_NAME.test(name) && statSync(join(SAMPLES_DIR, name)).isFile()) routes.set(`/images/${name}`, join(SAMPLES_DIR, name));
    }
  }
  return routes;
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

/**
 * Start the example server.
 * @param {{ port?: number, host?: string }} [options] port 0 = any free port (default 4330), host default 127.0.0.1
 * @returns {Promise<{ port: number, url: string, close(): Promise<void> }>}
 */
export function startExampleServer({ port = 4330, host = '127.0.0.1' } = {}) {
  const routes = buildRoutes();
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed\n');
    }
    let pathname;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      return send(res, 400, 'bad request\n');
    }
    if (pathname === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    const file = routes.get(pathname);
    if (!file) return send(res, 404, 'not found\n');
    let st;
    try {
      st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      return send(res, 404, `not found (${pathname} is not installed here)\n`);
    }
    res.writeHead(200, {
      'Content-Type': typeOf(file),
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') return res.end();
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  // Keep-alive sockets must not hold close() open.
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = server.address().port;
      const urlHost = host.includes(':') ? `[${host}]` : host;
      resolvePromise({
        port: actual,
        url: `http://${urlHost}:${actual}/`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            for (const s of sockets) s.destroy();
          }),
      });
    });
  });
}

function parseArgs(argv) {
  const out = { port: 4330, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--port') out.port = Number(value());
    else if (flag === '--host') out.host = String(value());
    else if (flag === '--help' || flag === '-h') {
      console.log('usage: node examples/classifier/serve.mjs [--port 4330] [--host 127.0.0.1]');
      process.exit(0);
    } else {
      console.error(`unknown argument: ${a}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) {
    console.error('--port must be an integer 0..65535');
    process.exit(2);
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { port, host } = parseArgs(process.argv.slice(2));
  startExampleServer({ port, host }).then(
    (s) => {
      console.log(`example classifier: ${s.url}`);
      console.log(`  e.g. ${s.url}?runtime=tfjs&backend=webgl&img=/images/chelsea.png`);
      console.log(`  voice activity (examples/vad): ${s.url}vad/`);
      const stop = () => s.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (e) => {
      console.error(`cannot listen on ${host}:${port}: ${e.message}`);
      process.exit(1);
    },
  );
}
