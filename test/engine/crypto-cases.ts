// Crypto cases for the native module, each with the answer of an oracle on Node: node:crypto
// (OpenSSL), and for digests and the RSA operation also the JS code the firmware used before
// (@noble/hashes, BigInt). Known-answer vectors first, then random inputs.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, webcrypto, type KeyObject } from "node:crypto";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2";

export type CryptoCase =
  | { op: "digest"; hash: "SHA-256" | "SHA-512"; data: string }
  | { op: "file"; path: string }
  | { op: "ed25519"; x: string; data: string; signature: string }
  | { op: "rsa"; hash: "SHA-256" | "SHA-512"; n: string; e: string; data: string; signature: string }
  | { op: "rsaPublic"; n: string; e: string; s: string };

export interface Labelled {
  label: string;
  case: CryptoCase;
  expected: unknown;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fromHex = (h: string) => Buffer.from(h, "hex");
const big = (b: Uint8Array) => BigInt(`0x0${hex(b)}`);
const bytesOf = (x: bigint, length: number) => fromHex(x.toString(16).padStart(length * 2, "0"));

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  for (let b = base % modulus, x = exponent; x > 0n; x >>= 1n, b = (b * b) % modulus) if (x & 1n) result = (result * b) % modulus;
  return result;
}

/** FIPS 180-2 appendix B/C and the classic long-message vectors. */
export const SHA_VECTORS: { label: string; hash: "SHA-256" | "SHA-512"; data: Uint8Array; digest: string }[] = [
  { label: "SHA-256 of the empty string", hash: "SHA-256", data: new Uint8Array(), digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { label: "SHA-256 of abc", hash: "SHA-256", data: Buffer.from("abc"), digest: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
  { label: "SHA-256 of the two-block message", hash: "SHA-256", data: Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), digest: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  { label: "SHA-256 of a million a", hash: "SHA-256", data: Buffer.alloc(1_000_000, "a"), digest: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
  { label: "SHA-512 of the empty string", hash: "SHA-512", data: new Uint8Array(), digest: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
  { label: "SHA-512 of abc", hash: "SHA-512", data: Buffer.from("abc"), digest: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
];

/** RFC 8032 §7.1 tests 1–3: secret key, public key, message, signature. */
export const ED25519_VECTORS = [
  {
    secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
    public: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    message: "",
    signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  },
  {
    secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
    public: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    message: "72",
    signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  },
  {
    secret: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    public: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    message: "af82",
    signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  },
];

/** The order of the Ed25519 base point (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

export function ed25519Key(secretHex: string): { privateKey: KeyObject; x: string } {
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  const privateKey = createPrivateKey({ key: Buffer.concat([fromHex("302e020100300506032b657004220420"), fromHex(secretHex)]), format: "der", type: "pkcs8" });
  const x = createPublicKey(privateKey).export({ format: "jwk" }).x!;
  return { privateKey, x };
}

/** The same signature with S + L in place of S: the same point equation, a second encoding RFC 8032 forbids. */
export function nonCanonicalS(signature: Uint8Array): Buffer {
  const s = big(Buffer.from(signature.subarray(32)).reverse()) + L;
  return Buffer.concat([signature.subarray(0, 32), bytesOf(s, 32).reverse()]);
}

function edCase(label: string, x: string, data: Uint8Array, signature: Uint8Array): Labelled {
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  return { label, case: { op: "ed25519", x, data: hex(data), signature: hex(signature) }, expected: verify(null, data, key, signature) };
}

function flip(bytes: Uint8Array, at: number): Buffer {
  const out = Buffer.from(bytes);
  out[at % out.length]! ^= 1 << (at % 8);
  return out;
}

export function digestCases(): Labelled[] {
  const out: Labelled[] = SHA_VECTORS.map((v) => ({ label: `known answer: ${v.label}`, case: { op: "digest", hash: v.hash, data: hex(v.data) }, expected: v.digest }));
  // Every length around the 64- and 128-byte block boundaries and the length field, then large.
  const lengths = [...Array.from({ length: 140 }, (_, i) => i), 239, 240, 255, 256, 1000, 4096 + 7, (1 << 20) + 13];
  for (const length of lengths) {
    const data = randomBytes(length);
    for (const [hash, js] of [["SHA-256", nobleSha256], ["SHA-512", nobleSha512]] as const) {
      const expected = createHash(hash.replace("-", "").toLowerCase()).update(data).digest("hex");
      if (hex(js(data)) !== expected) throw new Error(`the JS ${hash} disagrees with node:crypto on ${length} bytes`);
      out.push({ label: `random: ${hash} of ${length} bytes`, case: { op: "digest", hash, data: hex(data) }, expected });
    }
  }
  return out;
}

export function ed25519Cases(): Labelled[] {
  const out: Labelled[] = [];
  for (const [i, v] of ED25519_VECTORS.entries()) {
    out.push({ label: `known answer: RFC 8032 test ${i + 1}`, case: { op: "ed25519", x: Buffer.from(v.public, "hex").toString("base64url"), data: v.message, signature: v.signature }, expected: true });
  }
  for (let i = 0; i < 24; i++) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const x = publicKey.export({ format: "jwk" }).x!;
    const data = randomBytes(i * 37);
    const signature = sign(null, data, privateKey);
    out.push(edCase(`random: Ed25519 good signature ${i}`, x, data, signature));
    out.push(edCase(`random: Ed25519 signature with bit ${i * 23} flipped`, x, data, flip(signature, i * 23)));
    if (data.length > 0) out.push(edCase(`random: Ed25519 message with bit ${i * 11} flipped`, x, flip(data, i * 11), signature));
    out.push(edCase(`random: Ed25519 random signature ${i}`, x, data, randomBytes(64)));
  }
  return out;
}

export interface RsaKey {
  bits: number;
  n: Uint8Array;
  e: Uint8Array;
  privateKey: KeyObject;
}

export function rsaKey(bits: number, publicExponent = 65537): RsaKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: bits, publicExponent });
  const jwk = publicKey.export({ format: "jwk" });
  return { bits, n: Buffer.from(jwk.n!, "base64url"), e: Buffer.from(jwk.e!, "base64url"), privateKey };
}

export function rsaCase(label: string, key: RsaKey, hash: "SHA-256" | "SHA-512", data: Uint8Array, signature: Uint8Array, expected: boolean): Labelled {
  return {
    label,
    case: { op: "rsa", hash, n: Buffer.from(key.n).toString("base64url"), e: Buffer.from(key.e).toString("base64url"), data: hex(data), signature: hex(signature) },
    expected,
  };
}

/** Node's own Web Crypto verdict: what the shim must answer for the same call. */
export async function webVerifyRsa(key: RsaKey, hash: string, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const jwk = { kty: "RSA", n: Buffer.from(key.n).toString("base64url"), e: Buffer.from(key.e).toString("base64url") };
  const imported = await webcrypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["verify"]);
  return webcrypto.subtle.verify("RSASSA-PKCS1-v1_5", imported, signature, data);
}

export async function rsaCases(keys: RsaKey[]): Promise<Labelled[]> {
  const out: Labelled[] = [];
  for (const key of keys) {
    for (const hash of ["SHA-256", "SHA-512"] as const) {
      for (let i = 0; i < 3; i++) {
        const data = randomBytes(1 + i * 500);
        const signature = sign(hash.replace("-", "").toLowerCase(), data, key.privateKey);
        const variants: [string, Uint8Array, Uint8Array][] = [
          ["good signature", data, signature],
          ["signature with a flipped bit", data, flip(signature, i * 97 + 5)],
          ["message with a flipped bit", flip(data, i * 13), signature],
        ];
        for (const [what, d, s] of variants) {
          out.push(rsaCase(`RSA-${key.bits} e=${big(key.e)} ${hash}: ${what} (${d.length} bytes)`, key, hash, d, s, await webVerifyRsa(key, hash, d, s)));
        }
      }
    }
  }
  return out;
}

/** The raw public operation on random odd moduli, exponents and bases, against BigInt. */
export function rsaPublicCases(): Labelled[] {
  const out: Labelled[] = [];
  for (let i = 0; i < 40; i++) {
    const nBytes = 1 + ((i * 53) % 512);
    const n = randomBytes(nBytes);
    n[0]! |= 0x80;
    n[nBytes - 1]! |= 1;
    const e = randomBytes(1 + (i % 5));
    if (big(e) === 0n) e[0] = 3;
    const s = bytesOf(big(randomBytes(nBytes)) % big(n), nBytes);
    out.push({ label: `random: s^e mod n, ${nBytes * 8}-bit n, ${e.length}-byte e`, case: { op: "rsaPublic", n: hex(n), e: hex(e), s: hex(s) }, expected: hex(bytesOf(modPow(big(s), big(e), big(n)), nBytes)) });
  }
  const n = fromHex("c3");
  out.push({ label: "s = n is refused", case: { op: "rsaPublic", n: hex(n), e: "03", s: "c3" }, expected: null });
  out.push({ label: "an even modulus is refused", case: { op: "rsaPublic", n: "c4", e: "03", s: "05" }, expected: null });
  out.push({ label: "a zero exponent is refused", case: { op: "rsaPublic", n: "c3", e: "00", s: "05" }, expected: null });
  return out;
}

/** Integer cube root, rounded up. */
function cubeRootCeil(x: bigint): bigint {
  let lo = 0n;
  let hi = 1n << BigInt(Math.ceil(x.toString(2).length / 3) + 1);
  while (lo < hi) {
    const mid = (lo + hi) >> 1n;
    if (mid * mid * mid < x) lo = mid + 1n;
    else hi = mid;
  }
  return lo;
}

/**
 * Bleichenbacher's 2006 forgery for e = 3: 00 01 FF 00 DigestInfo H, then garbage instead of
 * the rest of the padding. A verifier that parses the padding instead of rebuilding it accepts
 * it; s³ < n, so no private key is involved. Returns the forged signature and what s³ is.
 */
export function bleichenbacherForgery(key: RsaKey, data: Uint8Array): { signature: Buffer; encoded: Buffer } {
  const k = key.n.length;
  const digestInfo = fromHex("3031300d060960864801650304020105000420");
  const prefix = Buffer.concat([fromHex("0001ff00"), digestInfo, createHash("sha256").update(data).digest()]);
  const target = big(Buffer.concat([prefix, Buffer.alloc(k - prefix.length)]));
  const s = cubeRootCeil(target);
  return { signature: bytesOf(s, k), encoded: bytesOf(s ** 3n, k) };
}
