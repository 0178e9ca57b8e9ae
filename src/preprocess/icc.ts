/**
 * The embedded ICC colour profile's description (e.g. "Display P3", "Adobe RGB (1998)"), read with
 * ExifReader (JPEG APP2, PNG iCCP, WebP ICCP, TIFF, HEIC/AVIF). Pure: no DOM, no Node — used by both
 * decoders so the trace's input source records the same name in the browser and in Node.
 *
 * Only the name is kept: the pixels stay raw (decode-node's `ignoreIcc`, decode-browser's
 * `colorSpaceConversion: 'none'`), and the diagnosis (src/diagnose/causes/colour-profile.ts) maps the
 * name to a standard colour space. Malformed or absent profiles give undefined, never an error: a
 * damaged profile is not a reason to refuse the photo, as for every decoder that ignores it.
 */
import * as exifReaderModule from 'exifreader';

type ExifReaderApi = Pick<typeof exifReaderModule, 'loadView'>;
// Node resolves the package's CommonJS build, whose functions arrive under `default`; bundlers take its
// ES build, whose default export holds the same functions.
const exifReader: ExifReaderApi = (exifReaderModule as ExifReaderApi & { default?: ExifReaderApi }).default ?? exifReaderModule;

/** The profile's description, in English when it is localised (ICC v4 `mluc`); undefined when none. */
export async function readIccProfileName(bytes: Uint8Array): Promise<string | undefined> {
  let desc: unknown;
  try {
    // async: PNG's iCCP profile is deflated, which ExifReader inflates only in async mode.
    const tags = await exifReader.loadView(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), { expanded: true, async: true, includeTags: { icc: true } });
    desc = tags.icc?.['ICC Description']?.value;
  } catch {
    return undefined;
  }
  let name: unknown = desc;
  if (desc !== null && typeof desc === 'object') {
    const byLang = desc as Record<string, unknown>;
    name = byLang['en-US'] ?? Object.values(byLang).find((v) => typeof v === 'string');
  }
  if (typeof name !== 'string') return undefined;
  // Descriptions are fixed-size fields in old profiles: trailing NULs and spaces are padding.
  const clean = name.replace(/[\u0000-\u001f]+/g, ' ').trim();
  return clean.length > 0 ? clean.slice(0, 200) : undefined;
}
