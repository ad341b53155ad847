// GnuPG's keybox (pubring.kbx), the form Heads keeps the ROM keyring in: a header blob, then
// one blob per OpenPGP keyblock or X.509 certificate. Only the OpenPGP keyblocks are taken
// out; every length and offset is checked against the bytes really present, and each blob's
// SHA-1 checksum must hold, so a truncated or bit-flipped keybox is refused, not half-read.
import { sha1 } from "@noble/hashes/legacy";

export class KeyboxError extends Error {
  override readonly name = "KeyboxError";
}

export interface KeyboxKeyblock {
  /** The transferable public key as GnuPG stored it (may carry ring-trust packets). */
  keyblock: Uint8Array;
  /** Uppercase hex fingerprints the blob lists: the primary key first, then its subkeys. */
  fingerprints: string[];
}

const MAGIC = [0x4b, 0x42, 0x58, 0x66]; // "KBXf"
const HEADER_TYPE = 1;
const EMPTY_TYPE = 0;
const OPENPGP_TYPE = 2;
const X509_TYPE = 3;
const HEADER_LENGTH = 32;
// Every blob starts with its u32 length and its type byte.
const BLOB_PREFIX = 5;
const CHECKSUM_LENGTH = 20;
// Length, type, version, flags, keyblock offset and length, key count and key-info size.
const BLOB_FIXED = 20;
const FINGERPRINT_LENGTH = 20;
const MIN_KEY_INFO = 28;

/** A keybox begins with its header blob: type 1, version 1, magic "KBXf" at byte 8. */
export function isKeybox(data: Uint8Array): boolean {
  return data.length >= 12 && data[4] === HEADER_TYPE && MAGIC.every((b, i) => data[8 + i] === b);
}

const u32 = (d: Uint8Array, at: number) => ((d[at]! << 24) >>> 0) + (d[at + 1]! << 16) + (d[at + 2]! << 8) + d[at + 3]!;
const u16 = (d: Uint8Array, at: number) => (d[at]! << 8) + d[at + 1]!;
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();

function checksumHolds(blob: Uint8Array): boolean {
  const want = blob.subarray(blob.length - CHECKSUM_LENGTH);
  const got = sha1(blob.subarray(0, blob.length - CHECKSUM_LENGTH));
  return got.every((b, i) => b === want[i]);
}

function openpgpBlob(blob: Uint8Array, where: string): KeyboxKeyblock {
  if (blob.length < BLOB_FIXED + CHECKSUM_LENGTH) throw new KeyboxError(`${where} is ${blob.length} bytes, too short for an OpenPGP blob`);
  if (blob[5] !== 1) throw new KeyboxError(`${where} has blob version ${blob[5]}, which bootward does not read; export the keys with gpg --export into pubring.gpg instead`);
  if (!checksumHolds(blob)) throw new KeyboxError(`${where} fails its SHA-1 checksum; the keybox is corrupted`);
  const offset = u32(blob, 8);
  const length = u32(blob, 12);
  const keys = u16(blob, 16);
  const infoSize = u16(blob, 18);
  if (keys === 0) throw new KeyboxError(`${where} lists no key`);
  if (infoSize < MIN_KEY_INFO) throw new KeyboxError(`${where} has key records of ${infoSize} bytes, fewer than the ${MIN_KEY_INFO} the format requires`);
  const infoEnd = BLOB_FIXED + keys * infoSize;
  const dataEnd = blob.length - CHECKSUM_LENGTH;
  if (infoEnd > dataEnd) throw new KeyboxError(`${where} lists ${keys} keys that do not fit in the blob`);
  if (length === 0 || offset < infoEnd || offset > dataEnd || length > dataEnd - offset) {
    throw new KeyboxError(`${where} places its keyblock at bytes ${offset}..${offset + length}, outside the blob's ${dataEnd} data bytes`);
  }
  const fingerprints: string[] = [];
  for (let k = 0; k < keys; k++) {
    const at = BLOB_FIXED + k * infoSize;
    fingerprints.push(hex(blob.subarray(at, at + FINGERPRINT_LENGTH)));
  }
  return { keyblock: blob.slice(offset, offset + length), fingerprints };
}

/** The OpenPGP keyblocks of a keybox, in file order; X.509 and deleted (empty) blobs are skipped. */
export function keyboxKeyblocks(data: Uint8Array): KeyboxKeyblock[] {
  if (!isKeybox(data)) throw new KeyboxError("the file does not start with a keybox header (magic KBXf)");
  const out: KeyboxKeyblock[] = [];
  let at = 0;
  for (let index = 0; at < data.length; index++) {
    const where = `keybox blob ${index} (byte ${at})`;
    if (data.length - at < BLOB_PREFIX) throw new KeyboxError(`${where} is cut off after ${data.length - at} bytes; the keybox is truncated`);
    const length = u32(data, at);
    const type = data[at + 4]!;
    const min = index === 0 ? HEADER_LENGTH : BLOB_PREFIX;
    if (length < min) throw new KeyboxError(`${where} claims a length of ${length} bytes, less than any blob can have`);
    if (length > data.length - at) throw new KeyboxError(`${where} claims ${length} bytes but only ${data.length - at} remain; the keybox is truncated`);
    const blob = data.subarray(at, at + length);
    if (index === 0) {
      if (type !== HEADER_TYPE || blob[5] !== 1) throw new KeyboxError(`${where} is not a version 1 keybox header`);
    } else if (type === OPENPGP_TYPE) out.push(openpgpBlob(blob, where));
    else if (type === HEADER_TYPE) throw new KeyboxError(`${where} is a second header blob; the keybox is malformed`);
    else if (type !== EMPTY_TYPE && type !== X509_TYPE) throw new KeyboxError(`${where} has unknown blob type ${type}`);
    at += length;
  }
  return out;
}
