// RSA public-key encryption with OAEP (RFC 8017): with SHA-256 it is how a salt is sent to an
// RSA storage key in TPM2_StartAuthSession; with SHA-1 and the label "TCPA" it is how
// TPM_TakeOwnership sends the owner and SRK authorizations to a TPM 1.2's endorsement key.
import { concat, u32be } from "../../lib/bytes.ts";
import { TpmArgumentError } from "../errors.ts";
import { sha1, sha256 } from "./hash.ts";

export type OaepHash = "sha256" | "sha1";
const HASHES = { sha256: { f: sha256, len: 32 }, sha1: { f: sha1, len: 20 } } as const;

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

function mgf1(hash: OaepHash, seed: Uint8Array, length: number): Uint8Array {
  const { f, len } = HASHES[hash];
  const out = new Uint8Array(Math.ceil(length / len) * len);
  for (let i = 0, o = 0; o < length; i++, o += len) out.set(f(seed, u32be(i)), o);
  return out.slice(0, length);
}

/** RSAES-OAEP-ENCRYPT; `seed` has the hash's length (32 or 20 random bytes). */
export function rsaOaepEncrypt(modulus: Uint8Array, exponent: number, message: Uint8Array, label: Uint8Array, seed: Uint8Array, hash: OaepHash = "sha256"): Uint8Array {
  const k = modulus.length;
  const { f, len: hLen } = HASHES[hash];
  if (seed.length !== hLen) throw new TpmArgumentError(`an OAEP seed for ${hash} has ${hLen} bytes, not ${seed.length}`);
  if (message.length > k - 2 * hLen - 2) throw new TpmArgumentError(`message of ${message.length} bytes too long for RSA-OAEP with a ${k * 8}-bit key`);
  const db = new Uint8Array(k - hLen - 1);
  db.set(f(label));
  db[k - hLen - 1 - message.length - 1] = 1;
  db.set(message, k - hLen - 1 - message.length);
  const dbMask = mgf1(hash, seed, db.length);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ dbMask[i]!;
  const seedMask = mgf1(hash, db, hLen);
  const maskedSeed = seed.map((b, i) => b ^ seedMask[i]!);
  const em = concat(Uint8Array.of(0), maskedSeed, db);
  const n = bytesToBigInt(modulus);
  const c = modPow(bytesToBigInt(em), BigInt(exponent === 0 ? 65537 : exponent), n);
  return bigIntToBytes(c, k);
}
