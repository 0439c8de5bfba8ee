import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';

/**
 * Screenshots for the READMEs, small enough to commit: Chromium writes true-colour PNGs, where
 * every anti-aliased glyph edge and gradient step is its own colour and the files run to 100 KB+.
 * Re-encoded here as a 256-colour palette PNG (zlib at level 9, nothing external), the same
 * picture is a third of that and looks the same at README size.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The rectangle of the page to keep, in CSS pixels. */
export interface Clip {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Take a screenshot of `page` (the viewport, or `clip` of it) and write it to `path` as a
 * palette PNG. Creates the folder if needed.
 * @param page the page to photograph
 * @param path where the PNG goes
 * @param clip the part of the page to keep (default: the viewport)
 * @returns the size of the file written, in bytes
 */
export async function saveSmallScreenshot(page: Page, path: string, clip?: Clip): Promise<number> {
  const png = await page.screenshot({ type: 'png', ...(clip && { clip }) });
  const small = toPalettePng(png);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, small);
  return small.length;
}

/**
 * Re-encode an 8-bit RGB or RGBA PNG (what Chromium writes) as an indexed PNG of at most 256
 * colours: the most common colours, each pixel mapped to the nearest of them. Alpha is dropped
 * (screenshots are opaque).
 * @throws Error for PNGs of another kind (bit depth, interlacing, palette or grey input)
 */
export function toPalettePng(png: Buffer): Buffer {
  const { width, height, rgb } = decodeRgb(png);
  const { palette, indexOf } = choosePalette(rgb);
  const rows = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then one index per pixel
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rows[y * (width + 1) + 1 + x] = indexOf(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 3, 0, 0, 0], 8); // bit depth 8, colour type 3 (palette), no interlace
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('PLTE', Buffer.from(palette)), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Decode the pixels of an 8-bit, non-interlaced RGB (2) or RGBA (6) PNG into packed RGB. */
function decodeRgb(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let offset = 8;
  let header: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const [depth, colourType, , , interlace] = header.subarray(8, 13);
  if (depth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour type ${colourType}, interlace ${interlace})`);
  const bpp = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * bpp;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) unfilterRow(raw[y * (stride + 1)]!, raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)), pixels, y * stride, stride, bpp);
  if (bpp === 3) return { width, height, rgb: pixels };
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb.set(pixels.subarray(p * 4, p * 4 + 3), p * 3);
  return { width, height, rgb };
}

/** Undo one row's PNG filter (None, Sub, Up, Average, Paeth) into `out` at `start`. */
function unfilterRow(filter: number, row: Uint8Array, out: Uint8Array, start: number, stride: number, bpp: number): void {
  for (let i = 0; i < stride; i++) {
    const left = i >= bpp ? out[start + i - bpp]! : 0;
    const up = start > 0 ? out[start + i - stride]! : 0;
    const upLeft = start > 0 && i >= bpp ? out[start + i - stride - bpp]! : 0;
    let predicted = 0;
    if (filter === 1) predicted = left;
    else if (filter === 2) predicted = up;
    else if (filter === 3) predicted = (left + up) >> 1;
    else if (filter === 4) {
      const p = left + up - upLeft;
      const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
      predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
    }
    out[start + i] = (row[i]! + predicted) & 0xff;
  }
}

/**
 * The 256 most common colours at 5 bits a channel (each the mean of the true colours it stands
 * for), and a lookup from a true colour to the index of the nearest one, memoised per 5-bit cell.
 */
function choosePalette(rgb: Uint8Array): { palette: number[]; indexOf: (r: number, g: number, b: number) => number } {
  const cell = (r: number, g: number, b: number) => ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
  const count = new Uint32Array(1 << 15);
  const sums = new Float64Array(3 << 15);
  for (let i = 0; i < rgb.length; i += 3) {
    const c = cell(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!);
    count[c]!++;
    for (let k = 0; k < 3; k++) sums[c * 3 + k]! += rgb[i + k]!;
  }
  const used = [...count.keys()].filter((c) => count[c]! > 0).sort((a, b) => count[b]! - count[a]!).slice(0, 256);
  const palette = used.flatMap((c) => [0, 1, 2].map((k) => Math.round(sums[c * 3 + k]! / count[c]!)));
  const nearest = new Int16Array(1 << 15).fill(-1);
  const indexOf = (r: number, g: number, b: number): number => {
    const c = cell(r, g, b);
    if (nearest[c]! >= 0) return nearest[c]!;
    let best = 0;
    let bestDistance = Infinity;
    for (let p = 0; p < palette.length / 3; p++) {
      const distance = (palette[p * 3]! - r) ** 2 + (palette[p * 3 + 1]! - g) ** 2 + (palette[p * 3 + 2]! - b) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [p, distance];
    }
    return (nearest[c] = best);
  };
  return { palette, indexOf };
}

/** One PNG chunk: length, type, body, CRC-32 of type and body. */
function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
