// Decoding the user's photo into an ImageBitmap.
//
// createImageBitmap(blob) applies the EXIF orientation (a phone photo comes out upright). The "exif"
// bug wants the raw stored pixels instead, as an app whose decoder ignores EXIF sees them. The spec's
// `imageOrientation: 'none'` no longer does that in current Chromium (it is treated as 'from-image'),
// so the bug also rewrites the JPEG's EXIF Orientation tag to 1 ("as stored") before decoding.

/** Decode a Blob/File. `ignoreExif`: keep the pixels as stored, not rotated per EXIF. */
export async function decodeImage(blob, { ignoreExif = false } = {}) {
  if (!ignoreExif) return createImageBitmap(blob);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const patched = withoutExifOrientation(bytes);
  return createImageBitmap(new Blob([patched ?? bytes], { type: blob.type }), { imageOrientation: 'none' });
}

/** Load an image URL (same origin) as a Blob. */
export async function fetchImage(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.blob();
}

/** The EXIF orientation of a JPEG (1..8), or 1 when there is none. */
export function exifOrientation(bytes) {
  const at = findOrientation(bytes);
  return at ? at.value : 1;
}

/**
 * A copy of a JPEG with its EXIF Orientation set to 1, or null when it is not a JPEG or has no
 * Orientation tag (then the bytes decode as stored anyway).
 */
export function withoutExifOrientation(bytes) {
  const at = findOrientation(bytes);
  if (!at || at.value === 1) return null;
  const copy = bytes.slice();
  if (at.little) {
    copy[at.offset] = 1;
    copy[at.offset + 1] = 0;
  } else {
    copy[at.offset] = 0;
    copy[at.offset + 1] = 1;
  }
  return copy;
}

/** Where IFD0's Orientation (0x0112) value sits in a JPEG's APP1 Exif segment. */
function findOrientation(b) {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) return null;
    const marker = b[p + 1];
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / start of scan: no EXIF before
    const len = (b[p + 2] << 8) | b[p + 3];
    const seg = p + 4;
    if (
      marker === 0xe1 &&
      len >= 16 &&
      b[seg] === 0x45 && b[seg + 1] === 0x78 && b[seg + 2] === 0x69 && b[seg + 3] === 0x66 && // "Exif"
      b[seg + 4] === 0 && b[seg + 5] === 0
    ) {
      const tiff = seg + 6;
      const little = b[tiff] === 0x49; // "II"
      const u16 = (o) => (little ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1]);
      const u32 = (o) => (little ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 2 ** 24 : b[o] * 2 ** 24 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]));
      const end = p + 2 + len;
      const ifd = tiff + u32(tiff + 4);
      if (ifd + 2 > end) return null;
      const n = u16(ifd);
      for (let i = 0; i < n; i++) {
        const e = ifd + 2 + i * 12;
        if (e + 12 > end) return null;
        if (u16(e) === 0x0112) return { offset: e + 8, value: u16(e + 8), little };
      }
      return null;
    }
    p += 2 + len;
  }
  return null;
}
