/**
 * Minimal, bounds-checked image header reader: file type, stored size and EXIF orientation.
 * Pure TypeScript on a Uint8Array (no DOM, no Node); used by both decoders so the browser and Node
 * agree on the orientation. Never throws on malformed input: unknown or damaged metadata gives
 * orientation 1 (the EXIF default), as libvips and browsers do.
 *
 * Where the orientation is read from:
 * - JPEG: the first APP1 segment starting with "Exif\0\0" before SOS, IFD0 tag 0x0112.
 * - PNG: the `eXIf` chunk (PNG 1.5 extension / PNG 3rd edition), IFD0 tag 0x0112.
 * - WebP: the `EXIF` RIFF chunk.
 * - TIFF: IFD0 of the file itself.
 * - AVIF/HEIF carry orientation in `irot`/`imir` boxes that every decoder applies unconditionally:
 *   reported as 1 here.
 */
import type { ExifOrientation } from './orientation.ts';
import { isExifOrientation } from './orientation.ts';

export interface ImageHeaderInfo {
  mimeType: string;
  /** Stored (pre-orientation) size, when the header gives it (JPEG SOF, PNG IHDR, WebP, GIF, BMP). */
  width?: number;
  height?: number;
  /** EXIF orientation 1..8; 1 when absent or invalid. */
  orientation: ExifOrientation;
}

const ORIENTATION_TAG = 0x0112;

function ascii(b: Uint8Array, at: number, s: string): boolean {
  if (at < 0 || at + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

function u16be(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}
function u32be(b: Uint8Array, at: number): number {
  return (((b[at] as number) << 24) >>> 0) + (((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number));
}
function u16le(b: Uint8Array, at: number): number {
  return (b[at] as number) | ((b[at + 1] as number) << 8);
}
function u24le(b: Uint8Array, at: number): number {
  return (b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16);
}
function u32le(b: Uint8Array, at: number): number {
  return (((b[at + 3] as number) << 24) >>> 0) + ((b[at] as number) | ((b[at + 1] as number) << 8) | ((b[at + 2] as number) << 16));
}

/**
 * Orientation from a TIFF structure occupying bytes [start, end) of `b` (an EXIF payload after
 * "Exif\0\0"). Returns undefined when absent, malformed or out of range.
 */
export function orientationFromTiff(b: Uint8Array, start: number, end: number): ExifOrientation | undefined {
  end = Math.min(end, b.length);
  if (start < 0 || start + 8 > end) return undefined;
  let le: boolean;
  if (b[start] === 0x49 && b[start + 1] === 0x49) le = true;
  else if (b[start] === 0x4d && b[start + 1] === 0x4d) le = false;
  else return undefined;
  const r16 = (at: number): number => (le ? u16le(b, at) : u16be(b, at));
  const r32 = (at: number): number => (le ? u32le(b, at) : u32be(b, at));
  if (r16(start + 2) !== 42) return undefined;
  const ifd = r32(start + 4);
  if (ifd < 8 || start + ifd + 2 > end) return undefined;
  const count = r16(start + ifd);
  for (let i = 0; i < count; i++) {
    const e = start + ifd + 2 + 12 * i;
    if (e + 12 > end) return undefined;
    if (r16(e) !== ORIENTATION_TAG) continue;
    // Orientation is a SHORT, count 1, stored inline in the value field (the only form Chromium reads).
    if (r16(e + 2) !== 3 || r32(e + 4) !== 1) return undefined;
    const v = r16(e + 8);
    return isExifOrientation(v) ? v : undefined;
  }
  return undefined;
}

/** EXIF payload (possibly with the "Exif\0\0" prefix some writers keep in PNG/WebP chunks). */
function orientationFromExifPayload(b: Uint8Array, start: number, end: number): ExifOrientation | undefined {
  const at = ascii(b, start, 'Exif\0\0') ? start + 6 : start;
  return orientationFromTiff(b, at, end);
}

const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function readJpeg(b: Uint8Array): ImageHeaderInfo {
  const info: ImageHeaderInfo = { mimeType: 'image/jpeg', orientation: 1 };
  let found: ExifOrientation | undefined;
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) break; // lost sync: stop, keep what we have
    const marker = b[pos + 1] as number;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos += 2; // standalone markers
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI / SOS: metadata is over
    const len = u16be(b, pos + 2);
    if (len < 2) break;
    const segStart = pos + 4;
    const segEnd = Math.min(b.length, pos + 2 + len);
    if (marker === 0xe1 && found === undefined && ascii(b, segStart, 'Exif\0\0')) {
      // Like Chromium's JPEG decoder: the first Exif segment that has an Orientation entry wins.
      found = orientationFromTiff(b, segStart + 6, segEnd);
    } else if (JPEG_SOF.has(marker) && segStart + 5 <= segEnd && info.width === undefined) {
      info.height = u16be(b, segStart + 1);
      info.width = u16be(b, segStart + 3);
    }
    pos = pos + 2 + len;
  }
  info.orientation = found ?? 1;
  return info;
}

function readPng(b: Uint8Array): ImageHeaderInfo {
  const info: ImageHeaderInfo = { mimeType: 'image/png', orientation: 1 };
  let pos = 8;
  while (pos + 8 <= b.length) {
    const len = u32be(b, pos);
    const data = pos + 8;
    const end = Math.min(b.length, data + len);
    if (ascii(b, pos + 4, 'IHDR') && data + 8 <= end) {
      info.width = u32be(b, data);
      info.height = u32be(b, data + 4);
    } else if (ascii(b, pos + 4, 'eXIf')) {
      info.orientation = orientationFromExifPayload(b, data, end) ?? 1;
      break;
    } else if (ascii(b, pos + 4, 'IEND')) {
      break;
    }
    if (data + len > b.length) break;
    pos = data + len + 4; // + CRC
  }
  return info;
}

function readWebp(b: Uint8Array): ImageHeaderInfo {
  const info: ImageHeaderInfo = { mimeType: 'image/webp', orientation: 1 };
  let pos = 12;
  while (pos + 8 <= b.length) {
    const size = u32le(b, pos + 4);
    const data = pos + 8;
    const end = Math.min(b.length, data + size);
    if (ascii(b, pos, 'VP8X') && data + 10 <= end) {
      info.width = u24le(b, data + 4) + 1;
      info.height = u24le(b, data + 7) + 1;
    } else if (ascii(b, pos, 'VP8 ') && info.width === undefined && data + 10 <= end) {
      if (b[data + 3] === 0x9d && b[data + 4] === 0x01 && b[data + 5] === 0x2a) {
        info.width = u16le(b, data + 6) & 0x3fff;
        info.height = u16le(b, data + 8) & 0x3fff;
      }
    } else if (ascii(b, pos, 'VP8L') && info.width === undefined && data + 5 <= end && b[data] === 0x2f) {
      const bits = u32le(b, data + 1);
      info.width = (bits & 0x3fff) + 1;
      info.height = ((bits >>> 14) & 0x3fff) + 1;
    } else if (ascii(b, pos, 'EXIF')) {
      info.orientation = orientationFromExifPayload(b, data, end) ?? 1;
    }
    pos = data + size + (size & 1);
  }
  return info;
}

/** File type from the magic bytes; undefined when not a recognised image format. */
export function sniffMimeType(b: Uint8Array): string | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 'PNG\r\n\x1a\n')) return 'image/png';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'image/webp';
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return 'image/gif';
  if (ascii(b, 0, 'BM') && b.length >= 26) return 'image/bmp';
  if (ascii(b, 0, 'II*\0') || ascii(b, 0, 'MM\0*')) return 'image/tiff';
  if (ascii(b, 4, 'ftyp')) {
    if (ascii(b, 8, 'avif') || ascii(b, 8, 'avis')) return 'image/avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].some((brand) => ascii(b, 8, brand))) return 'image/heic';
  }
  return undefined;
}

/** Type, stored size and EXIF orientation of an encoded image; undefined when the type is unknown. */
export function readImageHeader(b: Uint8Array): ImageHeaderInfo | undefined {
  const mimeType = sniffMimeType(b);
  switch (mimeType) {
    case undefined:
      return undefined;
    case 'image/jpeg':
      return readJpeg(b);
    case 'image/png':
      return readPng(b);
    case 'image/webp':
      return readWebp(b);
    case 'image/gif':
      return b.length >= 10 ? { mimeType, width: u16le(b, 6), height: u16le(b, 8), orientation: 1 } : { mimeType, orientation: 1 };
    case 'image/bmp': {
      const h = u32le(b, 22) | 0; // negative = top-down rows
      return { mimeType, width: u32le(b, 18) | 0, height: Math.abs(h), orientation: 1 };
    }
    case 'image/tiff':
      return { mimeType, orientation: orientationFromTiff(b, 0, b.length) ?? 1 };
    default:
      return { mimeType, orientation: 1 };
  }
}

/** EXIF orientation 1..8 of an encoded image (1 when absent, invalid, or not a known format). */
export function readExifOrientation(b: Uint8Array): ExifOrientation {
  return readImageHeader(b)?.orientation ?? 1;
}

/**
 * A copy of a JPEG with a minimal APP1 Exif segment (IFD0 with only Orientation) inserted right after
 * SOI. Used to build the browser's EXIF-behaviour probe and in tests.
 */
export function withJpegExifOrientation(jpeg: Uint8Array, orientation: ExifOrientation): Uint8Array {
  if (!(jpeg[0] === 0xff && jpeg[1] === 0xd8)) throw new RangeError('withJpegExifOrientation: not a JPEG');
  const app1 = Uint8Array.from([
    0xff, 0xe1, 0x00, 0x22, // APP1, length 34
    0x45, 0x78, 0x69, 0x66, 0x00, 0x00, // "Exif\0\0"
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, // big-endian TIFF header, IFD0 at 8
    0x00, 0x01, // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, orientation, 0x00, 0x00, // Orientation SHORT x1
    0x00, 0x00, 0x00, 0x00, // no next IFD
  ]);
  const out = new Uint8Array(jpeg.length + app1.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(app1, 2);
  out.set(jpeg.subarray(2), 2 + app1.length);
  return out;
}
