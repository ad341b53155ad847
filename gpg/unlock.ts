// Unlocking a passphrase-protected secret key with the passphrase as bytes. openpgp's face
// takes passphrases as strings, which the engine can neither zero nor free on demand
// (DESIGN.md, rule 5: secrets live in Uint8Arrays, zeroed after use). So the string-to-key
// step (RFC 4880 §3.7) runs here on the bytes the user typed, and openpgp does the rest
// (cipher, checksum or AEAD tag, key validation) through each key packet's own decrypt.
import * as openpgp from "openpgp";
import { sha1 } from "@noble/hashes/legacy";
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2";
import { joinBytes } from "../lib/bytes.ts";
import { SignerError } from "./errors.ts";

/** The S2K specifier of a key packet as openpgp 6 holds it (its type declarations omit it). */
interface S2K {
  type: string;
  algorithm: number;
  salt: Uint8Array | null;
  getCount(): number;
  produceKey(passphrase: string, size: number, config?: unknown): Promise<Uint8Array>;
}

/** Methods openpgp 6's PrivateKey has but its type declarations omit. */
type FullPrivateKey = openpgp.PrivateKey & { validate(): Promise<void>; clearPrivateParams(): void };

interface ProtectedPacket {
  s2k: S2K | null;
  isDecrypted(): boolean | null;
  isDummy(): boolean;
  decrypt(passphrase: string): Promise<unknown>;
}

/** RFC 4880 §9.4 hash ids → hashes. MD5 and RIPEMD-160 are refused, as GnuPG 2.2 no longer makes them. */
const HASHES = new Map([
  [2, sha1],
  [8, sha256],
  [9, sha384],
  [10, sha512],
  [11, sha224],
]);

/** The repeated salt‖passphrase is fed in chunks of about this size instead of one count-sized buffer (65 MiB for GnuPG's default). */
const CHUNK = 64 * 1024;

/** RFC 4880 §3.7.1: simple, salted and iterated-salted S2K over the passphrase bytes. */
export function stringToKey(s2k: S2K, passphrase: Uint8Array, size: number): Uint8Array {
  if (!["simple", "salted", "iterated"].includes(s2k.type)) throw new SignerError(`the secret key is protected with the ${s2k.type} S2K, which bootward does not support; export it again with GnuPG 2.2 defaults`);
  const hash = HASHES.get(s2k.algorithm);
  if (!hash) throw new SignerError(`the secret key is protected with S2K hash ${s2k.algorithm}, which bootward does not support; export it again with GnuPG 2.2 defaults`);
  const salt = s2k.type === "simple" ? new Uint8Array(0) : s2k.salt ?? new Uint8Array(0);
  const data = joinBytes([salt, passphrase]);
  const count = s2k.type === "iterated" ? Math.max(s2k.getCount(), data.length) : data.length;
  const repeated = new Uint8Array(Math.max(1, Math.floor(CHUNK / Math.max(1, data.length))) * data.length);
  for (let at = 0; at < repeated.length; at += data.length) repeated.set(data, at);
  const out = new Uint8Array(size);
  try {
    // Each further context is preloaded with one more zero byte (RFC 4880 §3.7.1.1).
    for (let filled = 0, prefix = 0; filled < size; prefix++) {
      const h = hash.create();
      h.update(new Uint8Array(prefix));
      let left = count;
      while (left > 0) {
        const n = Math.min(left, repeated.length);
        h.update(repeated.subarray(0, n));
        left -= n;
      }
      const digest = h.digest();
      out.set(digest.subarray(0, size - filled), filled);
      filled += Math.min(digest.length, size - filled);
      digest.fill(0);
    }
    return out;
  } finally {
    data.fill(0);
    repeated.fill(0);
  }
}

/**
 * Decrypts every protected key packet of `key` in place with `passphrase` and validates the
 * result. On failure no secret parameter stays decrypted and a SignerError says why.
 */
export async function unlockSecretKey(key: openpgp.PrivateKey, passphrase: Uint8Array): Promise<openpgp.PrivateKey> {
  try {
    for (const k of key.getKeys()) {
      const packet = k.keyPacket as unknown as ProtectedPacket;
      if (packet.isDummy() || packet.isDecrypted() !== false || packet.s2k === null) continue;
      const s2k = packet.s2k;
      // The packet asks its S2K for the key; this instance answers from the bytes, and the
      // string openpgp passes along is an empty placeholder.
      s2k.produceKey = async (_placeholder, size) => stringToKey(s2k, passphrase, size);
      try {
        await packet.decrypt("");
      } finally {
        delete (s2k as Partial<S2K>).produceKey;
      }
    }
    await (key as FullPrivateKey).validate();
    return key;
  } catch (error) {
    (key as FullPrivateKey).clearPrivateParams();
    if (error instanceof SignerError) throw error;
    throw new SignerError("the passphrase does not unlock the secret key");
  }
}
