// LZ4 frame decoding, for the LZ4-compressed CBFS files cbfstool makes (-c lz4). Format facts
// from the LZ4 frame and block specifications: magic 0x184D2204 (LE), FLG, BD, optional
// content size and dictionary id, a header checksum byte, then blocks — a u32 LE size (high bit:
// stored uncompressed; 0: end mark), the block, an optional u32 checksum — and an optional
// content checksum. A block is a run of sequences: a token (literal count, match length − 4),
// extra length bytes of 255 each, the literals, a u16 LE offset back into the output, extra
// match length bytes. Checksums are skipped: the CBFS hash attribute, when present, is the
// integrity check; every length and offset is bounded here so damage is an error, never a read
// or write outside the buffers.

export class Lz4Error extends Error {
  override name = "Lz4Error";
}

const MAGIC = 0x184d2204;

const le32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

function need(input: Uint8Array, at: number, count: number): void {
  if (at + count > input.length) throw new Lz4Error("the LZ4 data ends too early");
}

/** Adds the 255-valued extension bytes of a literal or match length. */
function extendLength(input: Uint8Array, state: { at: number }, end: number, length: number): number {
  let total = length;
  for (;;) {
    if (state.at >= end) throw new Lz4Error("an LZ4 length runs past its block");
    const b = input[state.at++]!;
    total += b;
    if (b !== 255) return total;
  }
}

function decodeBlock(input: Uint8Array, start: number, end: number, out: Uint8Array, written: number): number {
  const state = { at: start };
  let pos = written;
  while (state.at < end) {
    const token = input[state.at++]!;
    let literals = token >>> 4;
    if (literals === 15) literals = extendLength(input, state, end, literals);
    if (state.at + literals > end) throw new Lz4Error("LZ4 literals run past their block");
    if (pos + literals > out.length) throw new Lz4Error("the LZ4 data decompresses to more than its stated size");
    out.set(input.subarray(state.at, state.at + literals), pos);
    state.at += literals;
    pos += literals;
    if (state.at === end) break;
    if (state.at + 2 > end) throw new Lz4Error("an LZ4 match offset runs past its block");
    const offset = input[state.at]! | (input[state.at + 1]! << 8);
    state.at += 2;
    if (offset === 0 || offset > pos) throw new Lz4Error("an LZ4 match points before the start of the data");
    let length = (token & 15) + 4;
    if ((token & 15) === 15) length = extendLength(input, state, end, length);
    if (pos + length > out.length) throw new Lz4Error("the LZ4 data decompresses to more than its stated size");
    // Byte by byte: a match may overlap the bytes it is producing.
    for (let i = 0; i < length; i++, pos++) out[pos] = out[pos - offset]!;
  }
  return pos;
}

/** Decompresses an LZ4 frame whose decompressed size is known (CBFS records it). */
export function lz4Decompress(input: Uint8Array, size: number): Uint8Array {
  need(input, 0, 7);
  if (le32(input, 0) !== MAGIC) throw new Lz4Error("the data is not an LZ4 frame");
  const flags = input[4]!;
  if (flags >>> 6 !== 1) throw new Lz4Error("the LZ4 frame has an unknown version");
  if (flags & 1) throw new Lz4Error("the LZ4 frame needs a dictionary");
  let at = 6 + (flags & 8 ? 8 : 0) + 1;
  const blockChecksums = (flags & 16) !== 0;
  const out = new Uint8Array(size);
  let written = 0;
  for (;;) {
    need(input, at, 4);
    const word = le32(input, at);
    at += 4;
    if (word === 0) break;
    const length = word & 0x7fffffff;
    need(input, at, length + (blockChecksums ? 4 : 0));
    if (word & 0x80000000) {
      if (written + length > size) throw new Lz4Error("the LZ4 data decompresses to more than its stated size");
      out.set(input.subarray(at, at + length), written);
      written += length;
    } else {
      written = decodeBlock(input, at, at + length, out, written);
    }
    at += length + (blockChecksums ? 4 : 0);
  }
  if (written !== size) throw new Lz4Error(`the LZ4 data decompresses to ${written} bytes, not the ${size} stated`);
  return out;
}
