// GnuPG 2.2's trust database (trustdb.gpg) for one key with ultimate ownertrust: what Heads'
// OEM reset leaves in heads/initrd/.gnupg after `--import-ownertrust` and a trustdb check.
// The bytes are the ones gpg itself writes for that key (checked byte for byte in the tests),
// so gpg reads the key as ultimately valid at once and never has to rebuild the file.
//
// Format facts (doc/DETAILS "Layout of the TrustDB", confirmed on files written by gpg 2.2.40):
// fixed 40-byte records, numbers big-endian, record 0 the version record, then a hash table
// of 29 records indexed by the fingerprint's first byte, then one trust record per key and one
// validity record per user ID.
import { ripemd160 } from "@noble/hashes/ripemd160";

export class TrustDbError extends Error {
  override readonly name = "TrustDbError";
}

export interface TrustedKey {
  /** The v4 fingerprint of the primary key: 20 bytes. */
  fingerprint: Uint8Array;
  /**
   * The key's user IDs in keyblock order, as the User ID packets hold them (a string is taken
   * as UTF-8). gpg marks the key valid only through a validity record per user ID; a trust
   * record alone lists the key with validity "-" (unknown) until a trustdb check runs.
   */
  userIds: readonly (string | Uint8Array)[];
  /**
   * When gpg should check the trustdb again: the key's expiry in seconds since the epoch, or 0
   * (the default) for a key that never expires, which is what gpg writes after its check.
   */
  nextCheck?: number;
}

const RECORD = 40;
const VERSION_RECORD = 1;
const HASH_TABLE_RECORD = 10;
const TRUST_RECORD = 12;
const VALID_RECORD = 13;
// DETAILS says version 2, but gpg 2.2 writes and requires 3.
const TRUSTDB_VERSION = 3;
// gpg's defaults (gpg(1): --marginals-needed 3, --completes-needed 1, --max-cert-depth 5,
// --min-cert-level 2) and trust model 1 = "pgp", the default for a new trustdb. gpg compares
// these with its options on every open and schedules a rebuild when one differs.
const MARGINALS = 3;
const COMPLETES = 1;
const MAX_CERT_DEPTH = 5;
const TRUST_MODEL_PGP = 1;
const MIN_CERT_LEVEL = 2;
// The ownertrust and validity value "ultimate" (the 6 of `FPR:6:` in --export-ownertrust).
const ULTIMATE = 6;
// (40 - 2) / 4 → 9 whole record numbers per hash table record, 256 slots → 29 records from record 1.
const SLOTS_PER_RECORD = Math.floor((RECORD - 2) / 4);
const HASH_TABLE_FIRST = 1;
const HASH_TABLE_RECORDS = Math.ceil(256 / SLOTS_PER_RECORD);
const TRUST_AT = HASH_TABLE_FIRST + HASH_TABLE_RECORDS;

const MAX_U32 = 0xffffffff;
const isU32 = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_U32;

/** trustdb.gpg in which `key` has ultimate ownertrust and ultimate validity, last checked at `createdSeconds`. */
export function ultimateTrustDb(key: TrustedKey, createdSeconds: number): Uint8Array {
  const { fingerprint, userIds, nextCheck = 0 } = key;
  if (fingerprint.length !== 20) throw new TrustDbError(`The fingerprint is ${fingerprint.length} bytes, but a v4 OpenPGP fingerprint has 20; pass the primary key's fingerprint.`);
  if (userIds.length === 0) throw new TrustDbError("The key has no user ID, and gpg only marks a key valid through its user IDs; pass the key's user IDs.");
  if (!isU32(createdSeconds)) throw new TrustDbError(`The creation time ${createdSeconds} is not a whole number of seconds between 1970 and 2106; pass the current time in seconds.`);
  if (!isU32(nextCheck)) throw new TrustDbError(`The next check time ${nextCheck} is not a whole number of seconds between 1970 and 2106; pass the key's expiry or 0.`);

  const db = new Uint8Array((TRUST_AT + 1 + userIds.length) * RECORD);
  const view = new DataView(db.buffer);
  const at = (recno: number) => recno * RECORD;

  // Version record: "gpg" magic, the trust parameters, the time of the last check, the time of
  // the next one, no free records (offset 28), and where the hash table starts (offset 36).
  db.set([VERSION_RECORD, 0x67, 0x70, 0x67, TRUSTDB_VERSION, MARGINALS, COMPLETES, MAX_CERT_DEPTH, TRUST_MODEL_PGP, MIN_CERT_LEVEL], 0);
  view.setUint32(12, createdSeconds);
  view.setUint32(16, nextCheck);
  view.setUint32(36, HASH_TABLE_FIRST);

  // The hash table is written whole even though one slot is used: gpg reads it as 29
  // consecutive records. The slot of the fingerprint's first byte holds the trust record's
  // number directly, as no other key shares it.
  for (let r = 0; r < HASH_TABLE_RECORDS; r++) db[at(HASH_TABLE_FIRST + r)] = HASH_TABLE_RECORD;
  const slot = fingerprint[0]!;
  view.setUint32(at(HASH_TABLE_FIRST + Math.floor(slot / SLOTS_PER_RECORD)) + 2 + (slot % SLOTS_PER_RECORD) * 4, TRUST_AT);

  // Trust record: fingerprint, ownertrust, depth 0, min_ownertrust 0, flags 0, then the head of
  // the validity list. gpg adds each user ID's record at the head, so the list runs from the
  // last user ID back to the first.
  const trust = at(TRUST_AT);
  db[trust] = TRUST_RECORD;
  db.set(fingerprint, trust + 2);
  db[trust + 22] = ULTIMATE;
  view.setUint32(trust + 26, TRUST_AT + userIds.length);

  // Validity records: RIPEMD-160 of the user ID (the uid hash of `--with-colons`), validity,
  // the next record in the list, and no full or marginal signature counts.
  userIds.forEach((uid, i) => {
    const valid = at(TRUST_AT + 1 + i);
    db[valid] = VALID_RECORD;
    db.set(ripemd160(typeof uid === "string" ? new TextEncoder().encode(uid) : uid), valid + 2);
    db[valid + 22] = ULTIMATE;
    view.setUint32(valid + 23, i === 0 ? 0 : TRUST_AT + i);
  });
  return db;
}
