// crypto.getRandomValues and randomUUID from the kernel, and `crypto.subtle` over the
// primitives compiled into the binary (see subtle.ts for what it offers and why).
import { fillRandom } from "./random.ts";
import { nativeCrypto } from "./native.ts";
import { makeSubtle } from "./subtle.ts";

export const subtle = makeSubtle(nativeCrypto);

const MAX_RANDOM = 65536;

export function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (!array || !ArrayBuffer.isView(array) || array instanceof Float32Array || array instanceof Float64Array || array instanceof DataView) {
    throw new TypeError("getRandomValues: an integer typed array is required");
  }
  if (array.byteLength > MAX_RANDOM) {
    const error = new Error(`getRandomValues: ${array.byteLength} bytes requested, at most ${MAX_RANDOM} allowed`);
    error.name = "QuotaExceededError";
    throw error;
  }
  fillRandom(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return array;
}

export function randomUUID(): string {
  const b = getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
