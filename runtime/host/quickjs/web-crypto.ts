// The slice of Web Crypto that openpgp and otplib reach for. openpgp v6 refuses to load
// without `crypto.subtle`, then falls back to its own JS per operation when a subtle
// method rejects — so every method except digest rejects with NotSupportedError.
import { sha1 } from "@noble/hashes/sha1";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2";
import { fillRandom } from "./random.ts";

type Hash = (data: Uint8Array) => Uint8Array;

const DIGESTS: Record<string, Hash> = {
  "SHA-1": sha1,
  "SHA-256": sha256,
  "SHA-384": sha384,
  "SHA-512": sha512,
};

export class NotSupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotSupportedError";
  }
}

function algorithmName(algorithm: unknown): string {
  const name = typeof algorithm === "string" ? algorithm : (algorithm as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name.toUpperCase() : String(name);
}

function bytesOf(data: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function unsupported(method: string) {
  return () => Promise.reject(new NotSupportedError(`crypto.subtle.${method} is not available on this engine`));
}

export const subtle = {
  digest(algorithm: unknown, data: ArrayBufferView | ArrayBuffer): Promise<ArrayBuffer> {
    const name = algorithmName(algorithm);
    const hash = DIGESTS[name];
    if (!hash) return Promise.reject(new NotSupportedError(`digest ${name} is not supported`));
    try {
      const out = hash(bytesOf(data));
      return Promise.resolve(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
    } catch (error) {
      return Promise.reject(error);
    }
  },
  encrypt: unsupported("encrypt"),
  decrypt: unsupported("decrypt"),
  sign: unsupported("sign"),
  verify: unsupported("verify"),
  generateKey: unsupported("generateKey"),
  deriveKey: unsupported("deriveKey"),
  deriveBits: unsupported("deriveBits"),
  importKey: unsupported("importKey"),
  exportKey: unsupported("exportKey"),
  wrapKey: unsupported("wrapKey"),
  unwrapKey: unsupported("unwrapKey"),
};

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
