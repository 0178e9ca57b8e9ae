import { readdirSync, readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { orientationFromTiff, readExifOrientation, readImageHeader, sniffMimeType, withJpegExifOrientation } from './exif.ts';
import { applyExifOrientation, type ExifOrientation } from './orientation.ts';
import { maxAbsDiff, prng, samplePath, SAMPLES_DIR } from './test-helpers.ts';

const SAMPLES = readdirSync(SAMPLES_DIR).filter((f) => /\.(jpe?g|png)$/i.test(f));

describe('EXIF orientation parser', () => {
  it('reads 6 / 3 / 8 on the tagged samples and 1 on every PNG', () => {
    expect(readExifOrientation(readFileSync(samplePath('chelsea_exif6.jpg')))).toBe(6);
    expect(readExifOrientation(readFileSync(samplePath('coffee_exif3.jpg')))).toBe(3);
    expect(readExifOrientation(readFileSync(samplePath('rocket_exif8.jpg')))).toBe(8);
    for (const f of SAMPLES.filter((s) => s.endsWith('.png'))) expect(readExifOrientation(readFileSync(samplePath(f))), f).toBe(1);
    // apple.jpg / orange.jpg carry EXIF without an Orientation entry.
    expect(readExifOrientation(readFileSync(samplePath('apple.jpg')))).toBe(1);
  });

  it('agrees with sharp (libvips) on orientation, type and stored size for every sample', async () => {
    expect(SAMPLES.length).toBeGreaterThanOrEqual(15);
    for (const f of SAMPLES) {
      const bytes = readFileSync(samplePath(f));
      const meta = await sharp(bytes).metadata();
      const h = readImageHeader(bytes);
      expect(h, f).toBeDefined();
      expect(h!.orientation, f).toBe(meta.orientation ?? 1);
      expect(h!.mimeType, f).toBe(`image/${meta.format}`);
      expect([h!.width, h!.height], f).toEqual([meta.width, meta.height]);
    }
  });

  it('reads orientation written by sharp into JPEG, PNG (eXIf) and WebP (EXIF chunk)', async () => {
    const src = samplePath('chelsea.png');
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8] as ExifOrientation[]) {
      for (const fmt of ['jpeg', 'png', 'webp'] as const) {
        const bytes = await sharp(src).withMetadata({ orientation: o }).toFormat(fmt).toBuffer();
        const h = readImageHeader(bytes);
        expect(h?.orientation, `${fmt} ${o}`).toBe(o);
        expect(h?.mimeType).toBe(`image/${fmt}`);
        expect([h?.width, h?.height]).toEqual([451, 300]);
      }
    }
  });

  it('withJpegExifOrientation: libvips reads the inserted tag, and its auto-orient equals ours bit for bit', async () => {
    const { data, info } = await sharp(samplePath('chelsea.png')).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const plain = await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).removeAlpha().jpeg({ quality: 90 }).toBuffer();
    expect(readExifOrientation(plain)).toBe(1);
    const stored = await sharp(plain).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const storedImg = { width: stored.info.width, height: stored.info.height, data: new Uint8Array(stored.data) };
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8] as ExifOrientation[]) {
      const tagged = withJpegExifOrientation(plain, o);
      expect(readExifOrientation(tagged)).toBe(o);
      expect((await sharp(tagged).metadata()).orientation).toBe(o);
      const libvips = await sharp(tagged).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const ours = applyExifOrientation(storedImg, o);
      expect([ours.width, ours.height], `orientation ${o}`).toEqual([libvips.info.width, libvips.info.height]);
      expect(maxAbsDiff(ours.data, libvips.data), `orientation ${o}`).toBe(0);
    }
  });

  it('parses little- and big-endian TIFF, and ignores non-SHORT / out-of-range values', () => {
    const tiff = (le: boolean, type: number, value: number): Uint8Array => {
      const b = new Uint8Array(8 + 2 + 12 + 4);
      const v = new DataView(b.buffer);
      b.set(le ? [0x49, 0x49] : [0x4d, 0x4d]);
      v.setUint16(2, 42, le);
      v.setUint32(4, 8, le);
      v.setUint16(8, 1, le);
      v.setUint16(10, 0x0112, le);
      v.setUint16(12, type, le);
      v.setUint32(14, 1, le);
      if (type === 3) v.setUint16(18, value, le);
      else v.setUint32(18, value, le);
      return b;
    };
    for (const le of [true, false]) {
      for (let o = 1; o <= 8; o++) expect(orientationFromTiff(tiff(le, 3, o), 0, 26)).toBe(o);
      expect(orientationFromTiff(tiff(le, 3, 0), 0, 26)).toBeUndefined();
      expect(orientationFromTiff(tiff(le, 3, 9), 0, 26)).toBeUndefined();
      expect(orientationFromTiff(tiff(le, 4, 6), 0, 26)).toBeUndefined();
      expect(orientationFromTiff(tiff(le, 3, 6), 0, 22)).toBe(6); // entry ends exactly at the segment end
      expect(orientationFromTiff(tiff(le, 3, 6), 0, 21)).toBeUndefined(); // entry cut by the segment end
    }
    // A bare TIFF file is read from IFD0 too.
    const file = tiff(true, 3, 5);
    expect(readImageHeader(file)).toEqual({ mimeType: 'image/tiff', orientation: 5 });
  });

  it('never throws on truncated or corrupted headers, and always returns 1..8', () => {
    const bytes = readFileSync(samplePath('chelsea_exif6.jpg'));
    for (let n = 0; n <= 400; n++) {
      const o = readExifOrientation(bytes.subarray(0, n));
      expect(o >= 1 && o <= 8).toBe(true);
    }
    const rnd = prng(11);
    const pngBytes = readFileSync(samplePath('logo.png')).subarray(0, 4096);
    for (let trial = 0; trial < 2000; trial++) {
      const base = trial % 2 ? bytes.subarray(0, 4096) : pngBytes;
      const copy = Uint8Array.from(base);
      for (let k = 0; k < 8; k++) copy[Math.floor(rnd() * 200)] = Math.floor(rnd() * 256);
      const o = readExifOrientation(copy.subarray(0, Math.floor(rnd() * copy.length)));
      expect(Number.isInteger(o) && o >= 1 && o <= 8).toBe(true);
    }
    for (let trial = 0; trial < 500; trial++) {
      const junk = new Uint8Array(Math.floor(rnd() * 64));
      for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(rnd() * 256);
      if (trial % 3 === 0 && junk.length > 3) junk.set([0xff, 0xd8, 0xff]);
      expect(() => readImageHeader(junk)).not.toThrow();
    }
  });

  it('sniffs image types and rejects text', () => {
    expect(sniffMimeType(new TextEncoder().encode('hello, not an image'))).toBeUndefined();
    expect(readImageHeader(new TextEncoder().encode('GIF'))).toBeUndefined();
    expect(sniffMimeType(readFileSync(samplePath('rocket.jpg')))).toBe('image/jpeg');
    expect(sniffMimeType(readFileSync(samplePath('logo.png')))).toBe('image/png');
    expect(sniffMimeType(new Uint8Array(0))).toBeUndefined();
  });
});
