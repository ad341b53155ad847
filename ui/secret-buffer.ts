// Typed secret bytes kept out of strings and React state, so they can be zeroed: strings
// are immutable and would linger in the heap until collected.
import { utf8Encode } from "./utf8.ts";

export class SecretBuffer {
  private bytes = new Uint8Array(64);
  private length = 0;
  /** Byte length of each character typed, so Backspace removes a whole character. */
  private widths: number[] = [];

  get characters(): number {
    return this.widths.length;
  }

  append(text: string): void {
    const add = utf8Encode(text);
    if (this.length + add.length > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + add.length));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes.fill(0);
      this.bytes = bigger;
    }
    this.bytes.set(add, this.length);
    this.length += add.length;
    add.fill(0);
    this.widths.push(add.length);
  }

  removeLast(): void {
    const width = this.widths.pop();
    if (width === undefined) return;
    this.bytes.fill(0, this.length - width, this.length);
    this.length -= width;
  }

  /** A copy of the bytes; the caller owns (and zeroes) it. */
  copy(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  wipe(): void {
    this.bytes.fill(0);
    this.length = 0;
    this.widths = [];
  }
}
