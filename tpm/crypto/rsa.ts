// RSA public-key encryption with OAEP (RFC 8017, SHA-256 and MGF1-SHA-256): how a salt is
// sent to an RSA storage key in TPM2_StartAuthSession.
import { concat, u32be } from "../bytes.ts";
import { TpmArgumentError } from "../errors.ts";
import { sha256 } from "./hash.ts";

export function bytesToBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function bigIntToBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) r = (r * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return r;
}

function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / 32) * 32);
  for (let i = 0, o = 0; o < length; i++, o += 32) out.set(sha256(seed, u32be(i)), o);
  return out.slice(0, length);
}

/** RSAES-OAEP-ENCRYPT; `seed` is 32 random bytes. */
export function rsaOaepEncrypt(modulus: Uint8Array, exponent: number, message: Uint8Array, label: Uint8Array, seed: Uint8Array): Uint8Array {
  const k = modulus.length;
  const hLen = 32;
  if (message.length > k - 2 * hLen - 2) throw new TpmArgumentError(`message of ${message.length} bytes too long for RSA-OAEP with a ${k * 8}-bit key`);
  const db = new Uint8Array(k - hLen - 1);
  db.set(sha256(label));
  db[k - hLen - 1 - message.length - 1] = 1;
  db.set(message, k - hLen - 1 - message.length);
  const dbMask = mgf1(seed, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ dbMask[i]!;
  const seedMask = mgf1(db, hLen);
  const maskedSeed = seed.map((b, i) => b ^ seedMask[i]!);
  const em = concat(Uint8Array.of(0), maskedSeed, db);
  const n = bytesToBigInt(modulus);
  const c = modPow(bytesToBigInt(em), BigInt(exponent === 0 ? 65537 : exponent), n);
  return bigIntToBytes(c, k);
}
