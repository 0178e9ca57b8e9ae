/**
 * Makes the colour-profile test photos (test/fixtures/icc/): real sample photos, reduced to 256 px on
 * the long side and re-encoded with an embedded Display P3 or Adobe RGB (1998) profile, the way an
 * iPhone, a wide-gamut camera or a raw converter stores them. Run once; the outputs are committed (a
 * few kB each); files already there are kept as they are.
 *
 *   npx tsx scripts/make-icc-photos.ts
 *
 * The pixels are converted into the profile's space by sharp (lcms2) and tagged with it, so a
 * colour-managed decoder gets the original sRGB colours back and one that ignores the profile gets the
 * raw (duller) values: the `colour-profile` mix-up. Display P3 is sharp's bundled profile; Adobe RGB
 * and ProPhoto RGB are the profiles from Debian's colord-data package (`apt-get install colord-data`,
 * or EXRAY_ICC_DIR=<the package's usr/share/color/icc/colord extracted elsewhere>).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const SAMPLES = 'public/samples';
const OUT = 'test/fixtures/icc';
const ICC_DIR = process.env.EXRAY_ICC_DIR ?? '/usr/share/color/icc/colord';
const ADOBE_RGB = join(ICC_DIR, 'AdobeRGB1998.icc');
const PROPHOTO = join(ICC_DIR, 'ProPhotoRGB.icc');
const PHOTOS = ['flower.jpg', 'coffee.png', 'rocket.jpg'];
const PROFILES = [
  { tag: 'p3', icc: 'p3' },
  { tag: 'adobergb', icc: ADOBE_RGB },
  { tag: 'prophoto', icc: PROPHOTO },
];

for (const f of [ADOBE_RGB, PROPHOTO]) {
  if (!existsSync(f)) {
    process.stderr.write(`${f}: not found (install Debian's colord-data)\n`);
    process.exit(1);
  }
}
mkdirSync(OUT, { recursive: true });
for (const photo of PHOTOS) {
  for (const p of PROFILES) {
    const out = join(OUT, `${photo.replace(/\.\w+$/, '')}-${p.tag}.jpg`);
    if (existsSync(out)) continue;
    // The sample photos are untagged sRGB: sharp converts sRGB → profile and embeds the profile.
    const info = await sharp(join(SAMPLES, photo)).resize(256, 256, { fit: 'inside' }).withIccProfile(p.icc).jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toFile(out);
    process.stdout.write(`${out} ${info.width}x${info.height} ${info.size} bytes\n`);
  }
}
