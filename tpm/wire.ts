// Big-endian marshalling as in TPM 2.0 Part 2 and TPM 1.2 Part 2. Readers check every
// length against the bytes left, so a hostile or corrupted answer ends in a TpmFormatError.
import { TpmFormatError } from "./errors.ts";

export class Writer {
  private buf = new Uint8Array(256);
  private n = 0;

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.n));
    // The old buffer may hold an authorization value: zero it rather than leave it to the GC.
    this.buf.fill(0);
    this.buf = b;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.n++] = v & 255;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf[this.n++] = (v >>> 8) & 255;
    this.buf[this.n++] = v & 255;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf[this.n++] = (v >>> 24) & 255;
    this.buf[this.n++] = (v >>> 16) & 255;
    this.buf[this.n++] = (v >>> 8) & 255;
    this.buf[this.n++] = v & 255;
    return this;
  }
  u64(v: bigint): this {
    return this.u32(Number((v >> 32n) & 0xffffffffn)).u32(Number(v & 0xffffffffn));
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  /** TPM2B: a 16-bit size, then the bytes. */
  sized(b: Uint8Array): this {
    if (b.length > 0xffff) throw new RangeError("TPM2B larger than 65535 bytes");
    return this.u16(b.length).bytes(b);
  }
  /** TPM 1.2 style: a 32-bit size, then the bytes. */
  sized32(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  get length(): number {
    return this.n;
  }
  /** Overwrite a 32-bit field already written (a command's size, once known). */
  patchU32(at: number, v: number): void {
    this.buf[at] = (v >>> 24) & 255;
    this.buf[at + 1] = (v >>> 16) & 255;
    this.buf[at + 2] = (v >>> 8) & 255;
    this.buf[at + 3] = v & 255;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.n);
  }

  wipe(): void {
    this.buf.fill(0);
    this.n = 0;
  }
}

export function marshal(build: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  build(w);
  return w.finish();
}

export class Reader {
  private o = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly what = "TPM response",
  ) {}

  private need(k: number): void {
    if (k < 0 || this.o + k > this.buf.length)
      throw new TpmFormatError(`${this.what} is truncated: needs ${k} more bytes at offset ${this.o}, has ${this.buf.length - this.o}`);
  }
  get offset(): number {
    return this.o;
  }
  get remaining(): number {
    return this.buf.length - this.o;
  }
  u8(): number {
    this.need(1);
    return this.buf[this.o++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.buf[this.o]! << 8) | this.buf[this.o + 1]!;
    this.o += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const b = this.buf;
    const v = ((b[this.o]! << 24) | (b[this.o + 1]! << 16) | (b[this.o + 2]! << 8) | b[this.o + 3]!) >>> 0;
    this.o += 4;
    return v;
  }
  u64(): bigint {
    const hi = this.u32();
    const lo = this.u32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  u16le(): number {
    this.need(2);
    const v = this.buf[this.o]! | (this.buf[this.o + 1]! << 8);
    this.o += 2;
    return v;
  }
  u32le(): number {
    this.need(4);
    const b = this.buf;
    const v = (b[this.o]! | (b[this.o + 1]! << 8) | (b[this.o + 2]! << 16) | (b[this.o + 3]! << 24)) >>> 0;
    this.o += 4;
    return v;
  }
  bytes(k: number): Uint8Array {
    this.need(k);
    const v = this.buf.slice(this.o, this.o + k);
    this.o += k;
    return v;
  }
  sized(max = 0xffff): Uint8Array {
    const k = this.u16();
    if (k > max) throw new TpmFormatError(`${this.what}: a sized field of ${k} bytes exceeds its maximum ${max}`);
    return this.bytes(k);
  }
  sized32(max: number): Uint8Array {
    const k = this.u32();
    if (k > max) throw new TpmFormatError(`${this.what}: a sized field of ${k} bytes exceeds its maximum ${max}`);
    return this.bytes(k);
  }
  /** A count of items that each take at least minItemSize bytes: bounded by what is left. */
  count(n: number, minItemSize: number, max = 0xffff): number {
    if (n > max || n * minItemSize > this.remaining) throw new TpmFormatError(`${this.what}: a list of ${n} items cannot fit`);
    return n;
  }
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  end(): void {
    if (this.remaining !== 0) throw new TpmFormatError(`${this.what} has ${this.remaining} unexpected trailing bytes`);
  }
}
