// Hashes and the TPM key derivation functions (Part 1, 11.4.10), all in pure JS so the
// library runs on QuickJS without WebCrypto.
import { hmac } from "@noble/hashes/hmac";
import { sha1 as nobleSha1 } from "@noble/hashes/legacy";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2";
import { concat, u32be, utf8 } from "../../lib/bytes.ts";

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

export function sha1(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha1.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(nobleSha256, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** TPM 1.2 authorization HMACs (Part 1, 13.6) and the OSAP shared secret. */
export function hmacSha1(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(nobleSha1, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** KDFa with SHA-256 in counter mode; the label gets its terminating NUL here. */
export function kdfa(key: Uint8Array, label: string, contextU: Uint8Array, contextV: Uint8Array, bits: number): Uint8Array {
  const bytes = Math.ceil(bits / 8);
  const labelZ = concat(utf8(label), Uint8Array.of(0));
  const out = new Uint8Array(Math.ceil(bytes / 32) * 32);
  for (let i = 1, o = 0; o < bytes; i++, o += 32) out.set(hmacSha256(key, u32be(i), labelZ, contextU, contextV, u32be(bits)), o);
  return out.slice(0, bytes);
}

/** KDFe (the ECDH one) with SHA-256. */
export function kdfe(z: Uint8Array, label: string, partyU: Uint8Array, partyV: Uint8Array, bits: number): Uint8Array {
  const bytes = Math.ceil(bits / 8);
  const labelZ = concat(utf8(label), Uint8Array.of(0));
  const out = new Uint8Array(Math.ceil(bytes / 32) * 32);
  for (let i = 1, o = 0; o < bytes; i++, o += 32) out.set(sha256(u32be(i), z, labelZ, partyU, partyV), o);
  return out.slice(0, bytes);
}
