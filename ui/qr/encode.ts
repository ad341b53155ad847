// A QR code symbol from text: byte mode, level L or M, versions 1–10 (ISO/IEC 18004).
// Enough for an otpauth:// URL; written here because ui/ must run on bare QuickJS.
import { utf8Encode } from "../utf8.ts";
import { codewords, smallestVersion, type EcLevel } from "./codewords.ts";

export type { EcLevel } from "./codewords.ts";
export { QrCapacityError } from "./codewords.ts";

export interface QrCode {
  version: number;
  level: EcLevel;
  mask: number;
  /** Modules per side (without the quiet zone). */
  size: number;
  /** modules[row][column], true = dark. */
  modules: boolean[][];
}

export interface QrOptions {
  /** Error correction level; M by default. */
  level?: EcLevel;
  /** The smallest version to use (a caller may want a fixed size). */
  minVersion?: number;
}

// Centre coordinates of alignment patterns, versions 1–10 (index 0 unused).
const ALIGNMENT: number[][] = [
  [], [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
];

const FORMAT_LEVEL_BITS: Record<EcLevel, number> = { L: 0b01, M: 0b00 };

const MASKS: ((r: number, c: number) => boolean)[] = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

/** Remainder of value·x^(degree of poly) ÷ poly over GF(2): the BCH check bits. */
function bchRemainder(value: number, poly: number): number {
  const degree = Math.floor(Math.log2(poly));
  let rem = value << degree;
  for (let bit = Math.floor(Math.log2(rem || 1)); bit >= degree; bit--) {
    if ((rem >>> bit) & 1) rem ^= poly << (bit - degree);
  }
  return rem;
}

class Grid {
  readonly dark: boolean[][];
  readonly reserved: boolean[][];

  constructor(readonly size: number) {
    this.dark = [];
    this.reserved = [];
    for (let i = 0; i < size; i++) {
      this.dark.push(new Array<boolean>(size).fill(false));
      this.reserved.push(new Array<boolean>(size).fill(false));
    }
  }

  fn(row: number, col: number, dark: boolean): void {
    if (row < 0 || col < 0 || row >= this.size || col >= this.size) return;
    this.dark[row]![col] = dark;
    this.reserved[row]![col] = true;
  }
}

function drawFinder(g: Grid, row: number, col: number): void {
  // The 7×7 finder plus its one-module light separator.
  for (let dr = -1; dr <= 7; dr++) {
    for (let dc = -1; dc <= 7; dc++) {
      const ring = Math.max(Math.abs(dr - 3), Math.abs(dc - 3));
      g.fn(row + dr, col + dc, ring !== 2 && ring !== 4);
    }
  }
}

function drawFunctionPatterns(g: Grid, version: number): void {
  const n = g.size;
  for (let i = 0; i < n; i++) {
    g.fn(6, i, i % 2 === 0);
    g.fn(i, 6, i % 2 === 0);
  }
  drawFinder(g, 0, 0);
  drawFinder(g, 0, n - 7);
  drawFinder(g, n - 7, 0);
  const centres = ALIGNMENT[version]!;
  for (const r of centres) {
    for (const c of centres) {
      // Skip the three that would sit on a finder.
      if ((r === 6 && c === 6) || (r === 6 && c === n - 7) || (r === n - 7 && c === 6)) continue;
      for (let dr = -2; dr <= 2; dr++) {
        for (let dc = -2; dc <= 2; dc++) g.fn(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
      }
    }
  }
  if (version >= 7) {
    const bits = (version << 12) | bchRemainder(version, 0x1f25);
    for (let i = 0; i < 18; i++) {
      const dark = ((bits >>> i) & 1) === 1;
      const a = n - 11 + (i % 3);
      const b = Math.floor(i / 3);
      g.fn(b, a, dark);
      g.fn(a, b, dark);
    }
  }
  drawFormat(g, "M", 0); // reserves the format areas; redrawn for each mask
}

function drawFormat(g: Grid, level: EcLevel, mask: number): void {
  const n = g.size;
  const data = (FORMAT_LEVEL_BITS[level] << 3) | mask;
  const bits = ((data << 10) | bchRemainder(data, 0x537)) ^ 0x5412;
  const bit = (i: number) => ((bits >>> i) & 1) === 1;
  // First copy, around the top-left finder.
  for (let i = 0; i <= 5; i++) g.fn(i, 8, bit(i));
  g.fn(7, 8, bit(6));
  g.fn(8, 8, bit(7));
  g.fn(8, 7, bit(8));
  for (let i = 9; i < 15; i++) g.fn(8, 14 - i, bit(i));
  // Second copy, split between the top-right and bottom-left finders.
  for (let i = 0; i < 8; i++) g.fn(8, n - 1 - i, bit(i));
  for (let i = 8; i < 15; i++) g.fn(n - 15 + i, 8, bit(i));
  g.fn(n - 8, 8, true); // the dark module
}

function placeData(g: Grid, data: Uint8Array): void {
  const n = g.size;
  let bitIndex = 0;
  let upward = true;
  for (let right = n - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5; // the vertical timing pattern takes a whole column
    for (let k = 0; k < n; k++) {
      const row = upward ? n - 1 - k : k;
      for (const col of [right, right - 1]) {
        if (g.reserved[row]![col]) continue;
        const byte = data[bitIndex >>> 3];
        // Remainder bits past the last codeword stay light.
        g.dark[row]![col] = byte !== undefined && ((byte >>> (7 - (bitIndex & 7))) & 1) === 1;
        bitIndex++;
      }
    }
    upward = !upward;
  }
}

function applyMask(g: Grid, mask: number): void {
  const test = MASKS[mask]!;
  for (let r = 0; r < g.size; r++) {
    for (let c = 0; c < g.size; c++) {
      if (!g.reserved[r]![c] && test(r, c)) g.dark[r]![c] = !g.dark[r]![c];
    }
  }
}

function linePenalty(line: boolean[]): number {
  let score = 0;
  let run = 1;
  for (let i = 1; i <= line.length; i++) {
    if (i < line.length && line[i] === line[i - 1]) run++;
    else {
      if (run >= 5) score += 3 + (run - 5);
      run = 1;
    }
  }
  // 1:1:3:1:1 finder look-alikes with four light modules on one side.
  const bits = line.map((d) => (d ? "1" : "0")).join("");
  for (const pattern of ["10111010000", "00001011101"]) {
    for (let i = bits.indexOf(pattern); i >= 0; i = bits.indexOf(pattern, i + 1)) score += 40;
  }
  return score;
}

/** ISO/IEC 18004 §7.8.3 penalty: lower means easier for a scanner. */
export function penalty(modules: boolean[][]): number {
  const n = modules.length;
  let score = 0;
  let darkCount = 0;
  for (let i = 0; i < n; i++) {
    score += linePenalty(modules[i]!);
    score += linePenalty(modules.map((row) => row[i]!));
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const d = modules[r]![c]!;
      if (d) darkCount++;
      if (r + 1 < n && c + 1 < n && d === modules[r]![c + 1] && d === modules[r + 1]![c] && d === modules[r + 1]![c + 1]) score += 3;
    }
  }
  const percent = (darkCount * 100) / (n * n);
  score += Math.floor(Math.abs(percent - 50) / 5) * 10;
  return score;
}

export function encodeQr(text: string, options: QrOptions = {}): QrCode {
  const level = options.level ?? "M";
  const payload = utf8Encode(text);
  const version = smallestVersion(payload, level, options.minVersion);
  const size = 17 + 4 * version;
  const data = codewords(payload, version, level);

  let best: QrCode | null = null;
  let bestScore = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    const g = new Grid(size);
    drawFunctionPatterns(g, version);
    placeData(g, data);
    applyMask(g, mask);
    drawFormat(g, level, mask);
    const score = penalty(g.dark);
    if (score < bestScore) {
      bestScore = score;
      best = { version, level, mask, size, modules: g.dark };
    }
  }
  return best!;
}
