// The slice of Web Crypto's `crypto.subtle` that openpgp reaches for, over primitives compiled
// into the binary (runtime/host/quickjs/native.c). openpgp v6 refuses to load without
// `crypto.subtle` and falls back to its own JS per operation when a method rejects with
// NotSupportedError, so:
//   - digest: SHA-256 and SHA-512 natively (what openpgp hashes signed data with), SHA-1 and
//     SHA-384 in JS (@noble/hashes) for the rare old key;
//   - importKey (public JWK only) and verify: Ed25519 and RSASSA-PKCS1-v1_5, natively — the
//     ~250 ms pure-JS Ed25519 check becomes well under a millisecond;
//   - everything else (sign, generateKey, private keys, encryption) rejects, so openpgp keeps
//     doing it in JS, as before.
// Free of std/os, so the Node tests check it against Node's own Web Crypto.
import { sha1 } from "@noble/hashes/sha1";
import { sha384 } from "@noble/hashes/sha2";

export interface CryptoPrimitives {
  sha256(data: Uint8Array): Uint8Array;
  sha512(data: Uint8Array): Uint8Array;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** s^e mod n as many bytes as n (without leading zeros) has; null when s ≥ n or n is not a modulus. */
  rsaPublic(n: Uint8Array, e: Uint8Array, s: Uint8Array): Uint8Array | null;
}

export class NotSupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotSupportedError";
  }
}

class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataError";
  }
}

type BufferSource = ArrayBufferView | ArrayBuffer;

// RFC 8017 §9.2 note 1: the DER DigestInfo prefix of each hash in EMSA-PKCS1-v1_5.
const DIGEST_INFO: Record<string, string> = {
  "SHA-1": "3021300906052b0e03021a05000414",
  "SHA-256": "3031300d060960864801650304020105000420",
  "SHA-384": "3041300d060960864801650304020205000430",
  "SHA-512": "3051300d060960864801650304020305000440",
};

interface PublicKey {
  readonly type: "public";
  readonly extractable: false;
  readonly algorithm: { name: string; hash?: { name: string } };
  readonly usages: string[];
  /** Ed25519: the 32-byte point; RSA: n and e. */
  readonly material: { x: Uint8Array } | { n: Uint8Array; e: Uint8Array };
}

function algorithmName(algorithm: unknown): string {
  const name = typeof algorithm === "string" ? algorithm : (algorithm as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name.toUpperCase() : String(name);
}

function bytesOf(data: BufferSource): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function fromBase64Url(text: unknown, field: string): Uint8Array {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new DataError(`JWK field ${field} is not base64url`);
  const standard = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(standard + "=".repeat((4 - (standard.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

function unsupported(method: string) {
  return () => Promise.reject(new NotSupportedError(`crypto.subtle.${method} is not available on this engine`));
}

export function makeSubtle(native: CryptoPrimitives) {
  const digests: Record<string, (data: Uint8Array) => Uint8Array> = {
    "SHA-1": sha1,
    "SHA-256": native.sha256,
    "SHA-384": sha384,
    "SHA-512": native.sha512,
  };

  function digestOf(name: string, data: Uint8Array): Uint8Array {
    const hash = digests[name];
    if (!hash) throw new NotSupportedError(`digest ${name} is not supported`);
    return hash(data);
  }

  function importPublic(format: string, keyData: unknown, algorithm: unknown, usages: string[]): PublicKey {
    const name = algorithmName(algorithm);
    const jwk = keyData as Record<string, unknown>;
    if (format !== "jwk" || typeof jwk !== "object" || jwk === null || "d" in jwk || usages.some((u) => u !== "verify")) {
      throw new NotSupportedError(`crypto.subtle.importKey supports public JWKs for verification only`);
    }
    if (name === "ED25519") {
      if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519") throw new DataError("not an Ed25519 JWK");
      const x = fromBase64Url(jwk.x, "x");
      if (x.length !== 32) throw new DataError("an Ed25519 public key is 32 bytes");
      return { type: "public", extractable: false, algorithm: { name: "Ed25519" }, usages, material: { x } };
    }
    if (name === "RSASSA-PKCS1-V1_5") {
      const hash = algorithmName((algorithm as { hash?: unknown }).hash);
      if (!DIGEST_INFO[hash]) throw new NotSupportedError(`RSASSA-PKCS1-v1_5 with ${hash} is not supported`);
      if (jwk.kty !== "RSA") throw new DataError("not an RSA JWK");
      return {
        type: "public",
        extractable: false,
        algorithm: { name: "RSASSA-PKCS1-v1_5", hash: { name: hash } },
        usages,
        material: { n: fromBase64Url(jwk.n, "n"), e: fromBase64Url(jwk.e, "e") },
      };
    }
    throw new NotSupportedError(`crypto.subtle.importKey does not support ${name}`);
  }

  /** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) encoded, then compared: nothing of the signature is parsed. */
  function verifyRsa(key: PublicKey, signature: Uint8Array, data: Uint8Array): boolean {
    if (!("n" in key.material)) throw new TypeError("the key is not an RSA key");
    const hash = key.algorithm.hash!.name;
    const recovered = native.rsaPublic(key.material.n, key.material.e, signature);
    if (recovered === null) return false;
    const t = [...fromHex(DIGEST_INFO[hash]!), ...digestOf(hash, data)];
    const k = recovered.length;
    if (k < t.length + 11) return false;
    const expected = new Uint8Array(k).fill(0xff);
    expected[0] = 0x00;
    expected[1] = 0x01;
    expected[k - t.length - 1] = 0x00;
    expected.set(t, k - t.length);
    return equal(recovered, expected);
  }

  return {
    digest(algorithm: unknown, data: BufferSource): Promise<ArrayBuffer> {
      return attempt(() => arrayBufferOf(digestOf(algorithmName(algorithm), bytesOf(data))));
    },
    importKey(format: string, keyData: unknown, algorithm: unknown, _extractable: boolean, usages: string[]): Promise<PublicKey> {
      return attempt(() => importPublic(format, keyData, algorithm, usages));
    },
    verify(algorithm: unknown, key: PublicKey, signature: BufferSource, data: BufferSource): Promise<boolean> {
      return attempt(() => {
        const name = algorithmName(algorithm);
        if (name !== algorithmName(key.algorithm)) throw new TypeError(`the key is for ${key.algorithm.name}, not ${name}`);
        if (name === "ED25519" && "x" in key.material) return native.ed25519Verify(key.material.x, bytesOf(data), bytesOf(signature));
        if (name === "RSASSA-PKCS1-V1_5") return verifyRsa(key, bytesOf(signature), bytesOf(data));
        throw new NotSupportedError(`crypto.subtle.verify does not support ${name}`);
      });
    },
    encrypt: unsupported("encrypt"),
    decrypt: unsupported("decrypt"),
    sign: unsupported("sign"),
    generateKey: unsupported("generateKey"),
    deriveKey: unsupported("deriveKey"),
    deriveBits: unsupported("deriveBits"),
    exportKey: unsupported("exportKey"),
    wrapKey: unsupported("wrapKey"),
    unwrapKey: unsupported("unwrapKey"),
  };
}
