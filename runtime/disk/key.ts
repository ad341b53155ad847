// The disk unlock key (DUK) in the TPM, as Heads' kexec-seal-key.sh / kexec-unseal-key.sh
// keep it: 128 random bytes sealed at 0x81000003 (NV index 3 on TPM 1.2) to PCRs 0–7 plus a
// passphrase (PolicyPCR + PolicyAuthValue on 2.0: neither alone unseals).
//
// The values sealed to are those of the moment of unsealing at boot: PCRs 0–3, 5 and 7 as
// they are now (the firmware and the modules loaded this boot, which load the same way every
// boot), PCR 4 as the firmware leaves it — the key is unsealed before PCR 4 moves for the OS,
// so the OS can never unseal it (Heads' code seals to calcfuturepcr 4, the clean value) — and
// PCR 6 as it will be once the LUKS headers are measured into it from zero.
import type { Tpm, Secret } from "../../tpm/index.ts";
import { DISK_KEY_HANDLE, DISK_KEY_PCRS, measurement, predictPcr } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { futurePcr4, pcrHashOf } from "../sealing/eventlog.ts";
import { LUKS_HEADER_PCR } from "./headers.ts";

/** Heads' DUK: 128 random bytes. */
export const DISK_KEY_BYTES = 128;
/** Heads' MIN_PASSPHRASE_LENGTH for the DUK passphrase. */
export const DISK_KEY_PASSPHRASE_MIN = 12;
/** The LUKS key slot the DUK takes: the last one (31 on LUKS2, 7 on LUKS1). */
export const DISK_KEY_SLOT = { 1: 7, 2: 31 } as const;
/** Heads' earlier DUK slot, emptied without asking. */
export const LEGACY_DISK_KEY_SLOT = 1;

/** The PCR values the key is sealed to, given this boot's state and the headers' luksDump.txt text. */
export async function diskKeyPcrValues(tpm: Tpm, log: EventLog | null, headersText: string): Promise<Map<number, Uint8Array>> {
  const hash = pcrHashOf(tpm.pcrSize);
  const values = await tpm.pcrRead(DISK_KEY_PCRS);
  values.set(4, futurePcr4(log, hash));
  values.set(LUKS_HEADER_PCR, predictPcr(hash, [measurement(hash, new TextEncoder().encode(headersText))]));
  return values;
}

export async function sealDiskKey(tpm: Tpm, key: Uint8Array, passphrase: Secret, values: Map<number, Uint8Array>, ownerPassphrase?: Secret): Promise<void> {
  await tpm.seal(key, { handle: DISK_KEY_HANDLE, pcrs: DISK_KEY_PCRS, pcrValues: values, passphrase, ...(ownerPassphrase === undefined ? {} : { ownerPassphrase }) });
}

/** The key, if PCRs 0–7 hold the sealed values and the passphrase is right; a TpmPolicyError says which was wrong. */
export function unsealDiskKey(tpm: Tpm, passphrase: Secret): Promise<Uint8Array> {
  return tpm.unseal({ handle: DISK_KEY_HANDLE, pcrs: DISK_KEY_PCRS, passphrase });
}
