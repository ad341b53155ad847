// The flash map (FMAP) that names the regions of a coreboot image. Little-endian:
// "__FMAP__", major 1, minor, base u64, size u32, name[32], nareas u16, then nareas ×
// { offset u32, size u32, name[32], flags u16 }. Offsets count from the start of the flash.

export interface FmapArea {
  name: string;
  offset: number;
  size: number;
  flags: number;
}

export interface Fmap {
  /** Where the FMAP itself starts in the image. */
  offset: number;
  name: string;
  areas: FmapArea[];
}

const SIGNATURE = [0x5f, 0x5f, 0x46, 0x4d, 0x41, 0x50, 0x5f, 0x5f]; // "__FMAP__"
const HEADER_SIZE = 56;
const AREA_SIZE = 42;
const NAME_SIZE = 32;

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** A NUL-terminated ASCII name in a fixed field, or null when it is not one. */
function fixedName(b: Uint8Array, at: number): string | null {
  let name = "";
  for (let i = 0; i < NAME_SIZE; i++) {
    const c = b[at + i]!;
    if (c === 0) return name;
    if (c < 0x20 || c > 0x7e) return null;
    name += String.fromCharCode(c);
  }
  return null;
}

function parseAt(b: Uint8Array, at: number): Fmap | null {
  if (at + HEADER_SIZE > b.length) return null;
  for (let i = 0; i < SIGNATURE.length; i++) if (b[at + i] !== SIGNATURE[i]) return null;
  if (b[at + 8] !== 1) return null;
  const name = fixedName(b, at + 22);
  const count = u16(b, at + 54);
  if (name === null || at + HEADER_SIZE + count * AREA_SIZE > b.length) return null;
  const areas: FmapArea[] = [];
  for (let i = 0; i < count; i++) {
    const p = at + HEADER_SIZE + i * AREA_SIZE;
    const areaName = fixedName(b, p + 8);
    if (areaName === null) return null;
    areas.push({ name: areaName, offset: u32(b, p), size: u32(b, p + 4), flags: u16(b, p + 40) });
  }
  return { offset: at, name, areas };
}

/**
 * The first valid FMAP in the image, or null. Never throws: candidates that do not parse are
 * skipped, as flashmap tools do. indexOf on the first signature byte keeps the scan native.
 */
export function findFmap(image: Uint8Array): Fmap | null {
  for (let at = image.indexOf(SIGNATURE[0]!); at >= 0; at = image.indexOf(SIGNATURE[0]!, at + 1)) {
    const fmap = parseAt(image, at);
    if (fmap) return fmap;
  }
  return null;
}
