import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ExrayInputError } from '../errors.ts';
import { decodeImageBytes, decodeImageFile } from './decode-node.ts';
import { samplePath } from './test-helpers.ts';

const tmp = mkdtempSync(join(tmpdir(), 'exray-preprocess-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function expectInputError(p: Promise<unknown>, file: string, problem: RegExp): Promise<ExrayInputError> {
  const err = await p.then(
    () => {
      throw new Error('expected an ExrayInputError');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ExrayInputError);
  const e = err as ExrayInputError;
  expect(e.file).toBe(file);
  expect(e.message).toContain(file);
  expect(e.problem).toMatch(problem);
  expect(e.message).toBe(`${file}: ${e.problem}`);
  return e;
}

describe('decodeImageFile (sharp)', () => {
  it('decodes a PNG to RGBA with its source record', async () => {
    const path = samplePath('chelsea.png');
    const { image, source } = await decodeImageFile(path);
    expect([image.width, image.height, image.data.length]).toEqual([451, 300, 451 * 300 * 4]);
    expect(source).toEqual({
      fileName: 'chelsea.png',
      sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
      width: 451,
      height: 300,
      exifOrientation: 1,
      mimeType: 'image/png',
      iccProfile: 'sRGB IEC61966-2.1', // the PNG's iCCP chunk, recorded as the colour-profile cause reads it
    });
    // RGB equals libvips' plain decode; alpha is 255.
    const rgb = await sharp(path).raw().toBuffer();
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      if (image.data[j] !== rgb[i] || image.data[j + 1] !== rgb[i + 1] || image.data[j + 2] !== rgb[i + 2] || image.data[j + 3] !== 255) {
        throw new Error(`pixel ${i / 3} differs`);
      }
    }
  });

  it('keeps the stored orientation and reports the EXIF value', async () => {
    const { image, source } = await decodeImageFile(samplePath('chelsea_exif6.jpg'));
    expect([image.width, image.height]).toEqual([300, 451]);
    expect(source.exifOrientation).toBe(6);
    expect(source.mimeType).toBe('image/jpeg');
    expect([source.width, source.height]).toEqual([300, 451]);
    expect((await decodeImageFile(samplePath('rocket_exif8.jpg'))).source.exifOrientation).toBe(8);
    expect((await decodeImageFile(samplePath('coffee_exif3.jpg'))).source.exifOrientation).toBe(3);
  });

  it('ignores embedded ICC profiles (rocket.jpg is tagged Adobe RGB)', async () => {
    const path = samplePath('rocket.jpg');
    const { image } = await decodeImageFile(path);
    const raw = await sharp(path, { ignoreIcc: true }).ensureAlpha().raw().toBuffer();
    const managed = await sharp(path).ensureAlpha().raw().toBuffer();
    expect(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length).equals(raw)).toBe(true);
    expect(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length).equals(managed)).toBe(false);
  });

  it('expands greyscale to RGBA and keeps straight alpha', async () => {
    const page = await decodeImageFile(samplePath('page.png'));
    const d = page.image.data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i] !== d[i + 1] || d[i] !== d[i + 2] || d[i + 3] !== 255) throw new Error(`page.png pixel ${i / 4} not grey`);
    }
    // logo.png: RGBA file (fully opaque in this copy); bytes identical to libvips' plain decode.
    const logo = await decodeImageFile(samplePath('logo.png'));
    const ref = await sharp(samplePath('logo.png')).raw().toBuffer({ resolveWithObject: true });
    expect(ref.info.channels).toBe(4);
    expect(Buffer.from(logo.image.data.buffer, logo.image.data.byteOffset, logo.image.data.length).equals(ref.data)).toBe(true);
    // coffee_alpha.png: alpha ramp 255 (top) → ~51 (bottom), RGB not premultiplied.
    const coffee = await decodeImageFile(samplePath('coffee_alpha.png'));
    const plain = await decodeImageFile(samplePath('coffee.png'));
    const w = coffee.image.width;
    const alphaAt = (y: number): number => coffee.image.data[(y * w + 10) * 4 + 3] as number;
    expect(alphaAt(0)).toBe(255);
    expect(Math.abs(alphaAt(399) - 51)).toBeLessThanOrEqual(2);
    for (let i = 0; i < plain.image.data.length; i += 4) {
      if (coffee.image.data[i] !== plain.image.data[i] || coffee.image.data[i + 2] !== plain.image.data[i + 2]) {
        throw new Error(`coffee_alpha RGB differs from coffee.png at pixel ${i / 4}: premultiplied?`);
      }
    }
    // Fully transparent pixels keep their RGB.
    const px = Uint8Array.from([10, 20, 30, 0, 200, 100, 50, 0, 1, 2, 3, 128, 255, 255, 255, 255]);
    const png = await sharp(px, { raw: { width: 2, height: 2, channels: 4 } }).png().toBuffer();
    expect(Array.from((await decodeImageBytes(png, 'tiny.png')).image.data)).toEqual(Array.from(px));
  });

  it('reduces 16-bit PNGs to the same 8-bit values', async () => {
    const p16 = await sharp(samplePath('chelsea.png')).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(p16).metadata()).depth).toBe('ushort');
    const a = await decodeImageBytes(p16, 'chelsea16.png');
    const b = await decodeImageFile(samplePath('chelsea.png'));
    expect(Buffer.from(a.image.data).equals(Buffer.from(b.image.data))).toBe(true);
  });

  it('decodeImageBytes keeps the given file name', async () => {
    const bytes = readFileSync(samplePath('coffee_alpha.png'));
    const { source, image } = await decodeImageBytes(bytes, 'upload/coffee_alpha.png');
    expect(source.fileName).toBe('upload/coffee_alpha.png');
    expect([image.width, image.height]).toEqual([600, 400]);
  });
});

describe('decoder errors name the file and the problem', () => {
  it('missing file', async () => {
    const p = join(tmp, 'nope.jpg');
    await expectInputError(decodeImageFile(p), p, /file not found/);
  });

  it('a text file', async () => {
    const p = join(tmp, 'notes.txt');
    writeFileSync(p, 'this is not an image\n');
    await expectInputError(decodeImageFile(p), p, /not a supported image/);
  });

  it('a text file renamed .jpg', async () => {
    const p = join(tmp, 'fake.jpg');
    writeFileSync(p, 'GIF? no. just text pretending to be a photo');
    await expectInputError(decodeImageFile(p), p, /not a supported image/);
  });

  it('a truncated JPEG', async () => {
    const p = join(tmp, 'rocket_truncated.jpg');
    const bytes = readFileSync(samplePath('rocket.jpg'));
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectInputError(decodeImageFile(p), p, /truncated or corrupt jpeg data: .*premature end/i);
  });

  it('a JPEG cut inside its header', async () => {
    const p = join(tmp, 'rocket_header.jpg');
    writeFileSync(p, readFileSync(samplePath('rocket.jpg')).subarray(0, 700));
    await expectInputError(decodeImageFile(p), p, /corrupt/);
  });

  it('a truncated PNG', async () => {
    const p = join(tmp, 'chelsea_truncated.png');
    const bytes = readFileSync(samplePath('chelsea.png'));
    writeFileSync(p, bytes.subarray(0, 100_000));
    await expectInputError(decodeImageFile(p), p, /truncated or corrupt png data/);
  });

  it('an empty file and a directory', async () => {
    const p = join(tmp, 'empty.png');
    writeFileSync(p, '');
    await expectInputError(decodeImageFile(p), p, /empty file/);
    await expectInputError(decodeImageFile(tmp), tmp, /directory/);
  });

  it('bytes in memory', async () => {
    await expectInputError(decodeImageBytes(new TextEncoder().encode('hello'), 'hello.bin'), 'hello.bin', /not a supported image/);
  });
});
