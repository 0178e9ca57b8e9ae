/**
 * The raw image the app started from, so the desktop can diagnose the app's own pre-processing
 * (a rotated photo, swapped channels, a wrong range) against the file it really had.
 *
 * Where pixels come from is seen at the few places every browser app goes through:
 * - `createImageBitmap(blob)` and `URL.createObjectURL(blob)`: the image FILE (with its EXIF) behind a
 *   bitmap or an `<img>`'s blob: URL. An app that first reads an image file's bytes
 *   (`blob.arrayBuffer()`, FileReader) and decodes a blob made from them (a re-encoded or edited
 *   copy) started from the file it read: that file is taken as the bitmap's origin;
 * - `drawImage(source, …)` on 2D canvases (the app's resize, and TF.js's own `fromPixels` on cpu/wasm):
 *   the last source drawn, traced back through canvases it was drawn into;
 * - TF.js's `FromPixels` kernel (webgl, webgpu), wrapped in place in the kernel registry.
 * At capture time the last source becomes bytes: its original file when known (a blob, or the `<img>`'s
 * URL fetched again), else a PNG of its pixels as drawn now (a video frame, a canvas).
 * Everything patched is put back by `restore()`.
 */
import type { TfApi } from './tfjs.ts';
import type { RawImage } from './sinks.ts';

type Source = object;

interface KernelConfigLike {
  kernelFunc: (args: { inputs: { pixels?: unknown } }) => unknown;
}

type TfKernels = TfApi & { getKernel?: (name: string, backend: string) => KernelConfigLike | undefined };

const MAX_RAW_BYTES = 32 * 1024 * 1024;

export class PixelRecorder {
  private readonly restores: (() => void)[] = [];
  private readonly blobOf = new WeakMap<Source, Blob>();
  private readonly urlBlob = new Map<string, Blob>();
  private readonly originOf = new WeakMap<Source, Source>();
  private last: Source | null = null;
  /** The last image blob whose bytes the app read (it may decode a copy made from them). */
  private lastRead: Blob | null = null;
  private readonly wrappedKernels = new WeakSet<KernelConfigLike>();

  private constructor(private readonly tf: TfKernels | undefined) {}

  /** Null outside a browser page or worker with canvases. */
  static install(tf: TfApi | undefined): PixelRecorder | null {
    const g = globalThis as { document?: unknown; OffscreenCanvas?: unknown; CanvasRenderingContext2D?: unknown };
    if (g.CanvasRenderingContext2D === undefined && g.OffscreenCanvas === undefined) return null;
    const r = new PixelRecorder(tf as TfKernels | undefined);
    r.patchAll();
    return r;
  }

  restore(): void {
    for (const f of this.restores.splice(0).reverse()) f();
    this.urlBlob.clear();
    this.last = null;
    this.lastRead = null;
  }

  private patchMethod<T extends object>(owner: T | undefined, name: string, make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): void {
    if (!owner) return;
    const target = owner as Record<string, unknown>;
    const orig = target[name];
    if (typeof orig !== 'function') return;
    const wrapped = make(orig as (...a: unknown[]) => unknown);
    try {
      target[name] = wrapped;
    } catch {
      return;
    }
    this.restores.push(() => {
      if (target[name] === wrapped) target[name] = orig;
    });
  }

  private patchAll(): void {
    const g = globalThis as unknown as Record<string, { prototype?: object } | undefined> & { URL: typeof URL };
    const blobOf = this.blobOf;
    const urlBlob = this.urlBlob;
    const saw = (src: unknown, into: object | undefined): void => this.saw(src, into);
    const read = (b: unknown): void => {
      if (typeof Blob !== 'undefined' && b instanceof Blob && /^image\//.test(b.type) && b.size <= MAX_RAW_BYTES) this.lastRead = b;
    };
    const originOfBlob = (b: Blob): Blob => (this.lastRead && b !== this.lastRead && !(typeof File !== 'undefined' && b instanceof File) ? this.lastRead : b);
    if (typeof Blob !== 'undefined') {
      this.patchMethod(Blob.prototype, 'arrayBuffer', (orig) =>
        function (this: Blob, ...a: unknown[]) {
          read(this);
          return orig.apply(this, a);
        },
      );
    }
    const FR = (globalThis as { FileReader?: { prototype: object } }).FileReader;
    for (const m of ['readAsArrayBuffer', 'readAsDataURL', 'readAsBinaryString']) {
      this.patchMethod(FR?.prototype, m, (orig) =>
        function (this: unknown, ...a: unknown[]) {
          read(a[0]);
          return orig.apply(this, a);
        },
      );
    }
    // createImageBitmap(blob) → the bitmap came from that file.
    this.patchMethod(globalThis as object, 'createImageBitmap', (orig) =>
      function (this: unknown, ...a: unknown[]) {
        const p = orig.apply(this, a) as Promise<ImageBitmap>;
        const src = a[0];
        if (typeof Blob !== 'undefined' && src instanceof Blob) {
          const origin = originOfBlob(src);
          void p.then(
            (bmp) => blobOf.set(bmp, origin),
            () => {},
          );
        }
        return p;
      },
    );
    // URL.createObjectURL(blob) → an <img> with that URL shows that file.
    this.patchMethod(g.URL as unknown as object, 'createObjectURL', (orig) =>
      function (this: unknown, ...a: unknown[]) {
        const url = orig.apply(this, a) as string;
        const src = a[0];
        if (typeof Blob !== 'undefined' && src instanceof Blob && /^image\//.test(src.type) && src.size <= MAX_RAW_BYTES) {
          urlBlob.set(url, originOfBlob(src));
          // Bounded: only the newest few URLs are remembered.
          if (urlBlob.size > 8) urlBlob.delete(urlBlob.keys().next().value as string);
        }
        return url;
      },
    );
    for (const ctx of ['CanvasRenderingContext2D', 'OffscreenCanvasRenderingContext2D']) {
      this.patchMethod(g[ctx]?.prototype, 'drawImage', (orig) =>
        function (this: { canvas?: object }, ...a: unknown[]) {
          saw(a[0], this.canvas);
          return orig.apply(this, a);
        },
      );
    }
    this.wrapFromPixelsKernels();
  }

  /** TF.js's FromPixels kernel (webgl / webgpu) records its source too. Idempotent. */
  wrapFromPixelsKernels(): void {
    const tf = this.tf;
    if (!tf?.getKernel) return;
    for (const backend of ['webgl', 'webgpu', 'wasm', 'cpu']) {
      let k: KernelConfigLike | undefined;
      try {
        k = tf.getKernel('FromPixels', backend);
      } catch {
        k = undefined;
      }
      if (!k || this.wrappedKernels.has(k) || typeof k.kernelFunc !== 'function') continue;
      const orig = k.kernelFunc;
      const config = k;
      config.kernelFunc = (args) => {
        this.saw(args.inputs.pixels, undefined);
        return orig(args);
      };
      this.wrappedKernels.add(config);
      this.restores.push(() => {
        config.kernelFunc = orig;
        this.wrappedKernels.delete(config);
      });
    }
  }

  private saw(src: unknown, into: object | undefined): void {
    if (typeof src !== 'object' || src === null) return;
    const origin = this.originOf.get(src) ?? src;
    if (into && into !== src) this.originOf.set(into, origin);
    this.last = origin;
  }

  /**
   * The raw image behind the last pixels the app used, or null. Pixels of a live source (video,
   * canvas) are copied now, synchronously; encoding and fetching happen in the promise.
   */
  take(): Promise<RawImage> | null {
    this.wrapFromPixelsKernels();
    const src = this.last;
    if (!src) return null;
    const blob = this.blobOf.get(src) ?? this.imageBlob(src);
    if (blob) return blobImage(blob, 'the image file the app decoded');
    const url = imageUrl(src);
    const snapshot = drawNow(src);
    return (async () => {
      if (url && /^https?:/.test(url)) {
        try {
          const r = await fetch(url);
          const len = Number(r.headers.get('content-length') ?? 0);
          if (r.ok && len <= MAX_RAW_BYTES) {
            const bytes = new Uint8Array(await r.arrayBuffer());
            if (bytes.byteLength <= MAX_RAW_BYTES) return { bytes, fileName: fileNameOf(url), mimeType: r.headers.get('content-type') ?? '', how: `the image file at ${url.slice(0, 200)}` };
          }
        } catch {
          /* cross-origin without CORS, offline: the drawn pixels below */
        }
      }
      if (!snapshot) throw new Error('the image source could not be drawn');
      return { bytes: await snapshot, fileName: 'frame.png', mimeType: 'image/png', how: 'a PNG of the pixels the app drew from (no file behind them)' };
    })();
  }

  private imageBlob(src: Source): Blob | null {
    const url = imageUrl(src);
    return url ? (this.urlBlob.get(url) ?? null) : null;
  }
}

function imageUrl(src: Source): string | null {
  const img = src as { currentSrc?: unknown; src?: unknown; tagName?: unknown };
  if (img.tagName !== 'IMG') return null;
  const u = typeof img.currentSrc === 'string' && img.currentSrc ? img.currentSrc : img.src;
  return typeof u === 'string' && u ? u : null;
}

function fileNameOf(url: string): string {
  const last = url.split(/[?#]/)[0]!.split('/').pop() ?? '';
  return decodeURIComponent(last).replace(/[^A-Za-z0-9._-]/g, '_').slice(-100) || 'image';
}

async function blobImage(blob: Blob, how: string): Promise<RawImage> {
  if (blob.size > MAX_RAW_BYTES) throw new Error(`the image file is ${blob.size} bytes, over ${MAX_RAW_BYTES}`);
  const name = (blob as { name?: unknown }).name;
  return {
    bytes: new Uint8Array(await blob.arrayBuffer()),
    fileName: typeof name === 'string' && name ? name.replace(/[\\/]/g, '_').slice(-255) : `image.${(blob.type.split('/')[1] ?? 'bin').replace(/[^a-z0-9]/g, '')}`,
    mimeType: blob.type,
    how,
  };
}

function sizeOf(src: Source): { w: number; h: number } | null {
  const s = src as { naturalWidth?: number; naturalHeight?: number; videoWidth?: number; videoHeight?: number; displayWidth?: number; displayHeight?: number; width?: number; height?: number };
  const w = s.naturalWidth || s.videoWidth || s.displayWidth || s.width || 0;
  const h = s.naturalHeight || s.videoHeight || s.displayHeight || s.height || 0;
  return w > 0 && h > 0 && w * h <= 64 * 1024 * 1024 ? { w, h } : null;
}

/** The source's pixels drawn now at its natural size, PNG-encoded later; null when it cannot be drawn. */
function drawNow(src: Source): Promise<Uint8Array> | null {
  const size = sizeOf(src);
  if (!size || typeof OffscreenCanvas === 'undefined') return null;
  try {
    const canvas = new OffscreenCanvas(size.w, size.h);
    const ctx = canvas.getContext('2d');
    if (!ctx) return null;
    if (typeof ImageData !== 'undefined' && src instanceof ImageData) ctx.putImageData(src, 0, 0);
    // The unpatched prototype method would be nicer, but ours only records the source: harmless here.
    else ctx.drawImage(src as CanvasImageSource, 0, 0, size.w, size.h);
    return canvas.convertToBlob({ type: 'image/png' }).then(async (b) => new Uint8Array(await b.arrayBuffer()));
  } catch {
    return null;
  }
}
