// QEMU's screendump writes binary PPM (P6); PNG is what people open. A minimal PNG writer:
// 8-bit RGB, filter 0 on every row, one zlib stream, CRC-32 per chunk.
import { deflateSync } from "node:zlib";

export interface Image {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel, rows top to bottom. */
  rgb: Buffer;
}

export class PpmError extends Error {
  override name = "PpmError";
}

export function parsePpm(data: Buffer): Image {
  // Header: "P6", width, height, maxval, separated by whitespace (comments start with #), then one whitespace byte.
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4) {
    while (at < data.length && /\s/.test(String.fromCharCode(data[at]!))) at++;
    if (data[at] === 0x23) {
      while (at < data.length && data[at] !== 0x0a) at++;
      continue;
    }
    const start = at;
    while (at < data.length && !/\s/.test(String.fromCharCode(data[at]!))) at++;
    if (start === at) throw new PpmError("The screendump ends inside its PPM header; QEMU may have been stopped while writing it.");
    fields.push(data.subarray(start, at).toString("latin1"));
  }
  at++;
  const [magic, w, h, max] = fields;
  if (magic !== "P6" || max !== "255") throw new PpmError(`The screendump is not an 8-bit binary PPM (header ${fields.join(" ")}).`);
  const width = Number(w);
  const height = Number(h);
  const rgb = data.subarray(at, at + width * height * 3);
  if (rgb.length !== width * height * 3) throw new PpmError(`The screendump holds ${rgb.length} pixel bytes, not ${width}×${height}×3.`);
  return { width, height, rgb };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

export function encodePng(image: Image): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(image.width, 0);
  ihdr.writeUInt32BE(image.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const stride = image.width * 3;
  const raw = Buffer.alloc((stride + 1) * image.height);
  for (let y = 0; y < image.height; y++) image.rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** How many different colours the image uses (a blank screen has one). */
export function colourCount(image: Image): number {
  const seen = new Set<number>();
  for (let i = 0; i < image.rgb.length; i += 3) seen.add((image.rgb[i]! << 16) | (image.rgb[i + 1]! << 8) | image.rgb[i + 2]!);
  return seen.size;
}
