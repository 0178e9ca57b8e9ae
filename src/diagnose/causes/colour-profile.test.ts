/**
 * `colour-profile` on the committed ICC-tagged photos (test/fixtures/icc, made by
 * scripts/make-icc-photos.ts): the profile is read and recorded, and a mix-up is named in both
 * directions against sharp's (lcms2) own conversion — edge converted & reference raw, edge raw &
 * reference converted — with no alarm when both sides used the raw values or the photo is untagged.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDiagnosis } from '../../cli/commands/diagnose.ts';
import { loadModelCard } from '../../models/card.ts';
import { decodeImageBytes, decodeImageFile } from '../../preprocess/decode-node.ts';
import type { DecodedImage, RgbaImage } from '../../preprocess/image.ts';
import { preprocess } from '../../preprocess/pipeline.ts';
import { traceInNode } from '../../reference/trace-node.ts';
import { traceHeaderSchema } from '../../trace/schema.ts';
import type { PreprocessSpec } from '../../trace/types.ts';
import { fitInput } from '../input.ts';
import { decoderNoise } from '../test-images.ts';
import type { InputFit } from '../types.ts';
import { ADOBE_RGB, colourSpaceOfProfile, convertRgb, DISPLAY_P3, PROPHOTO_RGB, REC2020, SRGB } from './colour-profile.ts';

const FIXTURES = 'test/fixtures/icc';

/** The photo as a colour-managed decoder gives it: converted to sRGB through its embedded profile (sharp's default). */
async function convertedToSrgb(path: string): Promise<RgbaImage> {
  const { data, info } = await sharp(path, { autoOrient: false }).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8ClampedArray(data) };
}

function fit(image: RgbaImage, edgeImage: RgbaImage, spec: PreprocessSpec, iccProfile: string | undefined): InputFit {
  const t = preprocess(edgeImage, 1, spec);
  return fitInput({ image, orientation: 1, spec, edge: { data: t.data, shape: t.shape }, iccProfile });
}

const colour = (f: InputFit) => f.causes.find((c) => c.code === 'colour-profile');

describe('colour-profile', () => {
  let spec: PreprocessSpec;
  beforeAll(async () => {
    spec = (await loadModelCard(join('models', 'nsfw-mobilenet-v2', 'exray.json'))).inputs[0]!.preprocess!;
  });

  it('the profile is read from JPEG, PNG and WebP and recorded in the input source', async () => {
    const p3 = await decodeImageFile(join(FIXTURES, 'flower-p3.jpg'));
    expect(p3.source.iccProfile).toBe('sP3C');
    expect((await decodeImageFile(join(FIXTURES, 'coffee-adobergb.jpg'))).source.iccProfile).toBe('Compatible with Adobe RGB (1998)');
    expect((await decodeImageFile('public/samples/flower.jpg')).source.iccProfile).toBe('sRGB IEC61966-2.1');
    expect((await decodeImageFile('public/samples/coffee.png')).source.iccProfile).toBeUndefined();
    // PNG (deflated iCCP) and WebP (ICCP chunk) carry it too.
    for (const fmt of ['png', 'webp'] as const) {
      const bytes = await sharp(join(FIXTURES, 'flower-p3.jpg')).withIccProfile('p3')[fmt]().toBuffer();
      expect((await decodeImageBytes(new Uint8Array(bytes), `x.${fmt}`)).source.iccProfile).toBe('sP3C');
    }
    // The trace header schema keeps the field (optional: absent in traces without a profile).
    const header = { input: { tensors: [], source: p3.source } };
    const parsed = traceHeaderSchema.shape.input.parse(header.input);
    expect(parsed.source?.iccProfile).toBe('sP3C');
    expect(traceHeaderSchema.shape.input.safeParse({ tensors: [], source: { ...p3.source, iccProfile: 3 } }).success).toBe(false);
  });

  it('the table names the standard spaces; the conversion maps P3 and Adobe RGB primaries onto sRGB', () => {
    expect(colourSpaceOfProfile('Display P3')).toBe(DISPLAY_P3);
    expect(colourSpaceOfProfile('sP3C')).toBe(DISPLAY_P3);
    expect(colourSpaceOfProfile('Adobe RGB (1998)')).toBe(ADOBE_RGB);
    expect(colourSpaceOfProfile('sRGB IEC61966-2.1')).toBeNull();
    expect(colourSpaceOfProfile('DCI-P3')).toBeNull();
    // sRGB red, written in P3, is (234, 51, 35) (the CSS Color 4 value); Adobe RGB green's sRGB is clipped.
    const img = { width: 2, height: 1, channels: 3, layout: 'interleaved' as const, data: new Float32Array([255, 0, 0, 0, 255, 0]) };
    const p3 = convertRgb(img, SRGB, DISPLAY_P3).data;
    expect([...p3.slice(0, 3)].map(Math.round)).toEqual([234, 51, 35]);
    const back = convertRgb({ ...img, data: p3 }, DISPLAY_P3, SRGB).data;
    for (let i = 0; i < 3; i++) expect(back[i]).toBeCloseTo(img.data[i]!, 3);
    const adobeGreen = convertRgb(img, ADOBE_RGB, SRGB).data.slice(3, 6);
    expect(adobeGreen[0]).toBe(0);
    expect(adobeGreen[1]).toBe(255);
  });

  it('ProPhoto RGB (D50 white): the Bradford-adapted conversion agrees with lcms2 (sharp) on saturated and grey pixels; Rec. 2020 by name', async () => {
    expect(colourSpaceOfProfile('ProPhoto RGB')).toBe(PROPHOTO_RGB);
    expect(colourSpaceOfProfile('ROMM RGB: ISO 22028-2:2013')).toBe(PROPHOTO_RGB);
    expect(colourSpaceOfProfile('ITU-R BT.2020')).toBe(REC2020);
    expect(colourSpaceOfProfile('Rec. 2020 PQ')).toBeNull();
    expect((await decodeImageFile(join(FIXTURES, 'rocket-prophoto.jpg'))).source.iccProfile).toBe('ProPhoto RGB');
    // sRGB pixels written into the fixture's own ProPhoto profile (colord's) by lcms2, next to exray's conversion.
    const icc = (await sharp(join(FIXTURES, 'rocket-prophoto.jpg')).metadata()).icc!;
    const iccFile = join(mkdtempSync(join(tmpdir(), 'exray-icc-')), 'prophoto.icc');
    writeFileSync(iccFile, icc);
    const px = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 128, 128, 128, 200, 120, 40];
    const n = px.length / 3;
    const raw = { raw: { width: n, height: 1, channels: 3 as const } };
    const lcms = await sharp(Buffer.from(px), raw).withIccProfile(iccFile).png().toBuffer();
    const converted = new Uint8Array(await sharp(lcms, { autoOrient: false }).keepIccProfile().raw().toBuffer());
    const ours = convertRgb({ width: n, height: 1, channels: 3, layout: 'interleaved', data: Float32Array.from(px) }, SRGB, PROPHOTO_RGB).data;
    for (let i = 0; i < px.length; i++) expect(Math.abs(ours[i]! - converted[i]!), `value ${i}: exray ${ours[i]}, lcms2 ${converted[i]}`).toBeLessThanOrEqual(1.5);
    // Grey stays grey through the white adaptation.
    expect(Math.abs(ours[12]! - ours[13]!)).toBeLessThan(0.01);
  });

  for (const name of ['flower-p3', 'coffee-adobergb', 'rocket-prophoto']) {
    describe(name, () => {
      let raw: DecodedImage;
      let converted: RgbaImage;
      beforeAll(async () => {
        const path = join(FIXTURES, `${name}.jpg`);
        raw = await decodeImageFile(path);
        converted = await convertedToSrgb(path);
      });

      it('edge converted to sRGB, reference raw: named, the edge side, better than a per-channel map', () => {
        const f = fit(raw.image, converted, spec, raw.source.iccProfile);
        expect(f.causes.map((c) => c.code)).toEqual(['colour-profile']);
        const c = colour(f)!;
        expect(c.evidence?.convertedSide).toBe('edge');
        expect(c.evidence?.profile).toBe(raw.source.iccProfile);
        expect(c.detail).toMatch(/the edge converted it to sRGB/);
        expect(c.evidence?.residualLevels as number).toBeLessThan(1.5);
        expect(c.evidence?.unconvertedResidualLevels as number).toBeGreaterThan(2 * (c.evidence?.residualLevels as number));
        expect(c.confidence).toBeGreaterThan(0.8);
        expect(f.explained).toBe(true);
        expect(f.matches).toBe(false);
      });

      it('edge raw, reference converted: named, the reference side', () => {
        const f = fit(converted, raw.image, spec, raw.source.iccProfile);
        expect(f.causes.map((c) => c.code)).toEqual(['colour-profile']);
        expect(colour(f)?.evidence?.convertedSide).toBe('reference');
        expect(colour(f)?.detail).toMatch(/the edge fed the raw values/);
      });

      it('both sides raw (decoder noise only): no alarm; without the profile the mix-up is not named', () => {
        expect(fit(raw.image, decoderNoise(raw.image), spec, raw.source.iccProfile).causes).toEqual([]);
        expect(colour(fit(raw.image, converted, spec, undefined))).toBeUndefined();
      });
    });
  }

  it('an sRGB-tagged photo with another cause: that cause, no colour-profile', async () => {
    const d = await decodeImageFile('public/samples/flower.jpg');
    const t = preprocess(d.image, 1, { ...spec, channels: 'bgr' });
    const f = fitInput({ image: d.image, orientation: 1, spec, edge: { data: t.data, shape: t.shape }, iccProfile: d.source.iccProfile });
    expect(f.causes.map((c) => c.code)).toEqual(['channel-order']);
  });
});

describe('colour-profile end to end (blazeface, reference on wasm)', () => {
  const model = join('models', 'blazeface');
  async function edgeTrace(image: RgbaImage, source: DecodedImage['source']) {
    const input = (await loadModelCard(join(model, 'exray.json'))).inputs[0]!;
    const t = preprocess(image, 1, input.preprocess!);
    return traceInNode({ model, backend: 'wasm', feed: [{ name: input.name, shape: t.shape, dtype: 'float32', data: t.data }], feedFile: source.fileName, runs: 1, warmup: 0, source, preprocess: input.preprocess!, label: 'edge' });
  }

  it('a phone that converted the P3 photo: named first, with its evidence in the JSON; the trace records the profile', async () => {
    const path = join(FIXTURES, 'rocket-p3.jpg');
    const raw = await decodeImageFile(path);
    const edge = await edgeTrace(await convertedToSrgb(path), raw.source);
    expect(edge.header.input.source?.iccProfile).toBe('sP3C');
    const d = JSON.parse(JSON.stringify((await runDiagnosis({ edge, image: path, model, backend: 'wasm' })).diagnosis)) as { causes: { code: string; evidence?: Record<string, unknown> }[] };
    expect(d.causes.map((c) => c.code)).toEqual(['colour-profile']);
    expect(d.causes[0]!.evidence).toMatchObject({ profile: 'sP3C', colourSpace: 'Display P3', convertedSide: 'edge' });
  });

  it('the photo given is a converted copy: the profile the edge recorded names the reference side', async () => {
    const path = join(FIXTURES, 'coffee-adobergb.jpg');
    const raw = await decodeImageFile(path);
    const edge = await edgeTrace(raw.image, raw.source);
    // The copy the user kept: converted to sRGB, no profile (sharp strips it).
    const copy = await decodeImageBytes(new Uint8Array(await sharp(path).toColourspace('srgb').png().toBuffer()), 'copy.png');
    expect(copy.source.iccProfile).toBeUndefined();
    const run = await runDiagnosis({ edge, image: copy, model, backend: 'wasm' });
    expect(run.diagnosis.causes.map((c) => c.code)).toEqual(['colour-profile']);
    expect(run.diagnosis.causes[0]!.evidence?.convertedSide).toBe('reference');
  });
});
