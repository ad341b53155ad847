// The PCR values a secret was sealed to, kept so a later refusal can name the PCR that moved.
//
// Heads keeps no such record. bootward keeps it in a small TPM NV index next to the sealed
// object, not on /boot (mounted read-only, covered by the signed hash lists, shared with the
// OS) nor in tmpfs (gone at the next boot, which is when it is needed), and costs no signature.
// It holds public values only, and need not be trusted: the record is believed only when its
// values reproduce the sealed object's own binding digest (the 2.0 policy digest, the 1.2
// digestAtRelease), which the TPM keeps and nobody can forge a preimage of.
import { TpmError, TpmResponseError, type Tpm, type Secret } from "../../tpm/index.ts";
import type { SealedSecret } from "./secret.ts";

const MAGIC = [0x42, 0x57, 0x50, 0x31]; // "BWP1"
export const RECORD_SIZE = 256;

export interface PcrRecord {
  pcrs: number[];
  values: Map<number, Uint8Array>;
}

export class RecordError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "RecordError";
  }
}

/** The record's NV size: 256 bytes unless the secret names a larger one (8 SHA-256 PCRs need 270). */
export const recordSize = (secret: SealedSecret) => secret.recordSize ?? RECORD_SIZE;

export function encodeRecord(record: PcrRecord, capacity = RECORD_SIZE): Uint8Array {
  const pcrs = [...record.pcrs].sort((a, b) => a - b);
  const size = pcrs.length ? record.values.get(pcrs[0]!)!.length : 0;
  const need = 6 + pcrs.length * (1 + size);
  if (need > capacity) throw new RecordError(`${pcrs.length} PCRs do not fit the ${capacity}-byte record`);
  const out = new Uint8Array(capacity);
  out.set(MAGIC, 0);
  out[4] = size;
  out[5] = pcrs.length;
  let o = 6;
  for (const p of pcrs) out[o++] = p;
  for (const p of pcrs) {
    const v = record.values.get(p);
    if (!v || v.length !== size) throw new RecordError(`no ${size}-byte value for PCR ${p}`);
    out.set(v, o);
    o += size;
  }
  return out;
}

export function decodeRecord(bytes: Uint8Array): PcrRecord | null {
  if (bytes.length < 6 || MAGIC.some((m, i) => bytes[i] !== m)) return null;
  const size = bytes[4]!;
  const n = bytes[5]!;
  if ((size !== 20 && size !== 32) || n > 24 || 6 + n * (1 + size) > bytes.length) return null;
  const pcrs = Array.from(bytes.subarray(6, 6 + n));
  if (pcrs.some((p, i) => p > 23 || (i > 0 && p <= pcrs[i - 1]!))) return null;
  const values = new Map<number, Uint8Array>();
  pcrs.forEach((p, i) => values.set(p, bytes.slice(6 + n + i * size, 6 + n + (i + 1) * size)));
  return { pcrs, values };
}

export function recordIndex(tpm: Tpm, secret: SealedSecret): number {
  return secret.recordIndex[tpm.version];
}

/**
 * Store the record; defines the index with the owner passphrase when it is missing. Anyone
 * may write it (an empty index passphrase): it is believed only when it matches the seal.
 */
export async function writeRecord(tpm: Tpm, secret: SealedSecret, record: PcrRecord, ownerPassphrase?: Secret): Promise<void> {
  const index = recordIndex(tpm, secret);
  const capacity = recordSize(secret);
  const data = encodeRecord(record, capacity);
  const size = await tpm.nvSize(index);
  if (size !== null && size !== capacity) {
    throw new RecordError(`NV index 0x${index.toString(16)} holds something else (${size} bytes): leaving it alone`);
  }
  if (size === null) await tpm.nvDefine(index, capacity, { ownerPassphrase, auth: "" });
  await tpm.nvWrite(index, data, "");
}

export async function readRecord(tpm: Tpm, secret: SealedSecret): Promise<PcrRecord | null> {
  const index = recordIndex(tpm, secret);
  try {
    const capacity = recordSize(secret);
    if ((await tpm.nvSize(index)) !== capacity) return null;
    return decodeRecord(await tpm.nvRead(index, capacity));
  } catch (e) {
    if (e instanceof TpmResponseError) return null;
    throw e;
  }
}

/** Whether the record holds exactly the values the secret at `handle` is bound to. */
export async function recordMatchesSeal(tpm: Tpm, handle: number, record: PcrRecord): Promise<boolean> {
  const sealed = await tpm.sealedObject(handle);
  return sealed !== null && sealed.boundTo(record.pcrs, record.values);
}
