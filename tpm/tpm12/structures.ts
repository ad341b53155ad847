// The TPM 1.2 structures bootward builds and reads (Part 2): PCR selections and composites,
// TPM_PCR_INFO, TPM_STORED_DATA (the sealed blob Heads keeps in NV), TPM_NV_DATA_PUBLIC,
// TPM_KEY (the SRK parameters of TakeOwnership), TPM_COUNTER_VALUE and the flag structures.
import { TpmArgumentError, TpmFormatError } from "../errors.ts";
import { sha1 } from "../crypto/hash.ts";
import { Reader, Writer, marshal } from "../wire.ts";
import {
  TPM_ALG_RSA,
  TPM_ES_RSAESOAEP_SHA1_MGF1,
  TPM_KEY_STORAGE,
  TPM_LOC_ZERO,
  TPM_SS_NONE,
  TPM_TAG_COUNTER_VALUE,
  TPM_TAG_NV_ATTRIBUTES,
  TPM_TAG_NV_DATA_PUBLIC,
  TPM_TAG_PERMANENT_FLAGS,
  TPM_TAG_STCLEAR_FLAGS,
} from "./constants.ts";

/**
 * TPM_PCR_INFO (not _LONG) selects with two bytes, as tpmtotp's sealfile2 does for PCRs
 * below 16: the blob then is the one Heads reads back.
 */
export const SEAL_SELECT_SIZE = 2;
/** TPM_PCR_INFO_SHORT in NV public areas selects 24 PCRs (tpmtotp's nv_definespace). */
const NV_SELECT_SIZE = 3;

export function pcrSelect(pcrs: number[], size: number): Uint8Array {
  const sel = new Uint8Array(size);
  for (const p of pcrs) {
    if (!Number.isInteger(p) || p < 0 || p >= size * 8) throw new TpmArgumentError(`PCR ${p} cannot be selected with ${size} select bytes (PCRs 0-${size * 8 - 1})`);
    sel[p >> 3]! |= 1 << (p & 7);
  }
  return sel;
}

export function selectedPcrs(sel: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < sel.length * 8; i++) if (sel[i >> 3]! & (1 << (i & 7))) out.push(i);
  return out;
}

/** The TPM_COMPOSITE_HASH of TPM_PCR_COMPOSITE {select, values of the selected PCRs in ascending order}. */
export function compositeHash(pcrs: number[], values: Map<number, Uint8Array>): Uint8Array {
  const sorted = [...new Set(pcrs)].sort((a, b) => a - b);
  const w = new Writer().u16(SEAL_SELECT_SIZE).bytes(pcrSelect(sorted, SEAL_SELECT_SIZE)).u32(20 * sorted.length);
  for (const p of sorted) {
    const v = values.get(p);
    if (!v || v.length !== 20) throw new TpmArgumentError(`a SHA-1 value for PCR ${p} is needed (20 bytes)`);
    w.bytes(v);
  }
  return sha1(w.finish());
}

/** TPM_PCR_INFO; the TPM fills digestAtCreation itself. */
export function pcrInfo(pcrs: number[], digestAtRelease: Uint8Array): Uint8Array {
  return marshal((w) => w.u16(SEAL_SELECT_SIZE).bytes(pcrSelect(pcrs, SEAL_SELECT_SIZE)).bytes(digestAtRelease).bytes(new Uint8Array(20)));
}

export interface StoredData {
  /** The exact TPM_STORED_DATA bytes (NV may hold more). */
  bytes: Uint8Array;
  pcrs: number[];
  digestAtRelease: Uint8Array | null;
}

/** TPM_STORED_DATA {ver, sealInfoSize, sealInfo (TPM_PCR_INFO or empty), encDataSize, encData}. */
export function parseStoredData(data: Uint8Array, what: string): StoredData {
  const r = new Reader(data, what);
  r.bytes(4);
  const info = r.sized32(1024);
  const enc = r.sized32(1024);
  if (enc.length === 0) throw new TpmFormatError(`${what} holds no encrypted data`);
  const bytes = data.slice(0, r.offset);
  if (info.length === 0) return { bytes, pcrs: [], digestAtRelease: null };
  const i = new Reader(info, `${what} TPM_PCR_INFO`);
  const pcrs = selectedPcrs(i.sized(8));
  const digestAtRelease = i.bytes(20);
  i.bytes(20);
  i.end();
  return { bytes, pcrs, digestAtRelease };
}

export interface NvPublic {
  index: number;
  permission: number;
  size: number;
}

function pcrInfoShortNone(w: Writer): void {
  w.u16(NV_SELECT_SIZE).bytes(new Uint8Array(NV_SELECT_SIZE)).u8(TPM_LOC_ZERO).bytes(new Uint8Array(20));
}

export function nvDataPublic(p: NvPublic): Uint8Array {
  return marshal((w) => {
    w.u16(TPM_TAG_NV_DATA_PUBLIC).u32(p.index);
    pcrInfoShortNone(w);
    pcrInfoShortNone(w);
    w.u16(TPM_TAG_NV_ATTRIBUTES).u32(p.permission).u8(0).u8(0).u8(0).u32(p.size);
  });
}

export function parseNvDataPublic(r: Reader): NvPublic {
  if (r.u16() !== TPM_TAG_NV_DATA_PUBLIC) throw new TpmFormatError("TPM_NV_DATA_PUBLIC has the wrong tag");
  const index = r.u32();
  for (let k = 0; k < 2; k++) {
    r.sized(8);
    r.u8();
    r.bytes(20);
  }
  if (r.u16() !== TPM_TAG_NV_ATTRIBUTES) throw new TpmFormatError("TPM_NV_ATTRIBUTES has the wrong tag");
  const permission = r.u32();
  r.bytes(3);
  return { index, permission, size: r.u32() };
}

/** The SRK template of TPM_TakeOwnership: a 2048-bit RSA storage key, as tpmtotp's takeown asks for. */
export function srkParams(authDataUsage: number): Uint8Array {
  return marshal((w) =>
    w
      .bytes(Uint8Array.of(1, 1, 0, 0))
      .u16(TPM_KEY_STORAGE)
      .u32(0)
      .u8(authDataUsage)
      .u32(TPM_ALG_RSA)
      .u16(TPM_ES_RSAESOAEP_SHA1_MGF1)
      .u16(TPM_SS_NONE)
      .sized32(marshal((p) => p.u32(2048).u32(2).u32(0)))
      .u32(0)
      .u32(0)
      .u32(0),
  );
}

/** TPM_KEY or TPM_KEY12 (both start with 4 bytes of version or tag): checked for shape only. */
export function skipKey(r: Reader): void {
  r.bytes(4);
  r.u16();
  r.u32();
  r.u8();
  r.u32();
  r.u16();
  r.u16();
  r.sized32(1024);
  r.sized32(1024);
  r.sized32(1024);
  r.sized32(4096);
}

/** TPM_PUBKEY {TPM_KEY_PARMS, TPM_STORE_PUBKEY}: the endorsement key's modulus and exponent. */
export function parsePubkey(r: Reader): { modulus: Uint8Array; exponent: number } {
  const alg = r.u32();
  r.u16();
  r.u16();
  const parms = new Reader(r.sized32(1024), "TPM_RSA_KEY_PARMS");
  if (alg !== TPM_ALG_RSA) throw new TpmFormatError(`the endorsement key is not RSA (algorithm ${alg})`);
  parms.u32();
  parms.u32();
  const e = parms.sized32(4);
  let exponent = 0;
  for (const b of e) exponent = exponent * 256 + b;
  const modulus = r.sized32(512);
  if (modulus.length < 128) throw new TpmFormatError(`the endorsement key's modulus has ${modulus.length} bytes`);
  return { modulus, exponent };
}

/**
 * TPM_COUNTER_VALUE {tag, label[4], counter} read as one 80-bit big-endian number: its 20
 * hex digits are what tpmtotp's counter_read prints after "<id>: ", and it moves by one per
 * increment like the 2.0 counter.
 */
export function parseCounterValue(r: Reader): bigint {
  const b = r.bytes(10);
  if (((b[0]! << 8) | b[1]!) !== TPM_TAG_COUNTER_VALUE) throw new TpmFormatError("TPM_COUNTER_VALUE has the wrong tag");
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export interface PermanentFlags {
  disable: boolean;
  /** Whether an owner may be installed (not whether one is: that is TPM_CAP_PROP_OWNER). */
  ownership: boolean;
  deactivated: boolean;
  physicalPresenceLifetimeLock: boolean;
  physicalPresenceCMDEnable: boolean;
  nvLocked: boolean;
}

export function parsePermanentFlags(r: Reader): PermanentFlags {
  if (r.u16() !== TPM_TAG_PERMANENT_FLAGS) throw new TpmFormatError("TPM_PERMANENT_FLAGS has the wrong tag");
  const f = r.bytes(16).map((b) => (b ? 1 : 0));
  return { disable: !!f[0], ownership: !!f[1], deactivated: !!f[2], physicalPresenceLifetimeLock: !!f[6], physicalPresenceCMDEnable: !!f[8], nvLocked: !!f[15] };
}

export interface StclearFlags {
  deactivated: boolean;
  physicalPresence: boolean;
  physicalPresenceLock: boolean;
}

export function parseStclearFlags(r: Reader): StclearFlags {
  if (r.u16() !== TPM_TAG_STCLEAR_FLAGS) throw new TpmFormatError("TPM_STCLEAR_FLAGS has the wrong tag");
  const f = r.bytes(4);
  return { deactivated: !!f[0], physicalPresence: !!f[2], physicalPresenceLock: !!f[3] };
}
