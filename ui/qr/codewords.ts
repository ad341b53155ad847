// The codeword sequence of a byte-mode QR symbol: data bits, padding, per-block error
// correction and the interleaving (ISO/IEC 18004 §7.4–7.6), for versions 1–10.
import { errorCorrection } from "./reed-solomon.ts";

export type EcLevel = "L" | "M";
export const MAX_VERSION = 10;

// Per version 1–10 (index 0 unused): error correction codewords per block, and blocks.
const EC_PER_BLOCK: Record<EcLevel, number[]> = {
  L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18],
  M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26],
};
const BLOCKS: Record<EcLevel, number[]> = {
  L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4],
  M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5],
};

export class QrCapacityError extends Error {
  constructor(bytes: number, level: EcLevel) {
    super(`The text is ${bytes} bytes, more than a version ${MAX_VERSION} QR code at level ${level} holds; shorten it.`);
    this.name = "QrCapacityError";
  }
}

/** Modules left for data and error correction once the function patterns are placed. */
function rawDataModules(version: number): number {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const align = Math.floor(version / 7) + 2;
    modules -= (25 * align - 10) * align - 55;
    if (version >= 7) modules -= 36; // the two version information blocks
  }
  return modules;
}

export function totalCodewords(version: number): number {
  return Math.floor(rawDataModules(version) / 8);
}

export function dataCodewords(version: number, level: EcLevel): number {
  return totalCodewords(version) - EC_PER_BLOCK[level][version]! * BLOCKS[level][version]!;
}

// Text beyond ASCII is announced as UTF-8 (ECI 26); without it scanners guess the
// charset, and some guess Shift-JIS.
const ECI_BITS = 12;

function needsEci(payload: Uint8Array): boolean {
  return payload.some((b) => b >= 0x80);
}

/** Byte mode: 4-bit mode, a count of 8 bits (16 from version 10), the bytes. */
function segmentBits(version: number, payload: Uint8Array): number {
  return (needsEci(payload) ? ECI_BITS : 0) + 4 + (version < 10 ? 8 : 16) + 8 * payload.length;
}

export function smallestVersion(payload: Uint8Array, level: EcLevel, minVersion = 1): number {
  for (let v = Math.max(1, minVersion); v <= MAX_VERSION; v++) {
    if (segmentBits(v, payload) <= dataCodewords(v, level) * 8) return v;
  }
  throw new QrCapacityError(payload.length, level);
}

class BitWriter {
  readonly bytes: number[] = [];
  private bitCount = 0;

  put(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      if (this.bitCount % 8 === 0) this.bytes.push(0);
      if ((value >>> i) & 1) this.bytes[this.bytes.length - 1]! |= 0x80 >> this.bitCount % 8;
      this.bitCount++;
    }
  }

  get length(): number {
    return this.bitCount;
  }
}

function dataBytes(payload: Uint8Array, version: number, level: EcLevel): Uint8Array {
  const capacityBits = dataCodewords(version, level) * 8;
  const w = new BitWriter();
  if (needsEci(payload)) {
    w.put(0b0111, 4);
    w.put(26, 8);
  }
  w.put(0b0100, 4);
  w.put(payload.length, version < 10 ? 8 : 16);
  for (const b of payload) w.put(b, 8);
  w.put(0, Math.min(4, capacityBits - w.length)); // terminator
  if (w.length % 8) w.put(0, 8 - (w.length % 8));
  for (let pad = 0xec; w.length < capacityBits; pad ^= 0xec ^ 0x11) w.put(pad, 8);
  return Uint8Array.from(w.bytes);
}

/** All codewords of the symbol in placement order: interleaved data, then interleaved ECC. */
export function codewords(payload: Uint8Array, version: number, level: EcLevel): Uint8Array {
  const data = dataBytes(payload, version, level);
  const blockCount = BLOCKS[level][version]!;
  const ecLen = EC_PER_BLOCK[level][version]!;
  const total = totalCodewords(version);
  // Blocks differ by at most one data codeword; the short ones come first.
  const shortBlocks = blockCount - (total % blockCount);
  const shortData = Math.floor(total / blockCount) - ecLen;

  const blocks: Uint8Array[] = [];
  const eccs: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < blockCount; i++) {
    const len = shortData + (i < shortBlocks ? 0 : 1);
    const block = data.subarray(offset, offset + len);
    offset += len;
    blocks.push(block);
    eccs.push(errorCorrection(block, ecLen));
  }

  const out: number[] = [];
  for (let i = 0; i <= shortData; i++) {
    for (const block of blocks) if (i < block.length) out.push(block[i]!);
  }
  for (let i = 0; i < ecLen; i++) {
    for (const ecc of eccs) out.push(ecc[i]!);
  }
  return Uint8Array.from(out);
}
