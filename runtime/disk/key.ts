// The disk unlock key (DUK) in the TPM, as Heads' kexec-seal-key.sh / kexec-unseal-key.sh
// keep it: 128 random bytes sealed at 0x81000003 (NV index 3 on TPM 1.2) to PCRs 0–7 plus a
// passphrase (PolicyPCR + PolicyAuthValue on 2.0: neither alone unseals).
//
// The values sealed to are those of the moment of unsealing at boot: PCRs 0–3, 5 and 7 as
// they are now (the firmware and the modules loaded this boot, which load the same way every
// boot), PCR 4 as the firmware leaves it — the key is unsealed before PCR 4 moves for the OS,
// so the OS can never unseal it (Heads' code seals to calcfuturepcr 4, the clean value) — and
// PCR 6 as it will be once the LUKS headers are measured into it from zero (setup.ts seals).
import type { Tpm, Secret } from "../../tpm/index.ts";
import { DISK_KEY_HANDLE, DISK_KEY_PCRS } from "../../tpm/index.ts";

/** Heads' DUK: 128 random bytes. */
export const DISK_KEY_BYTES = 128;
/** Heads' MIN_PASSPHRASE_LENGTH for the DUK passphrase. */
export const DISK_KEY_PASSPHRASE_MIN = 12;
/** The LUKS key slot the DUK takes: the last one (31 on LUKS2, 7 on LUKS1). */
export const DISK_KEY_SLOT = { 1: 7, 2: 31 } as const;
/** Heads' earlier DUK slot, emptied without asking. */
export const LEGACY_DISK_KEY_SLOT = 1;

/** The key, if PCRs 0–7 hold the sealed values and the passphrase is right; a TpmPolicyError says which was wrong. */
export function unsealDiskKey(tpm: Tpm, passphrase: Secret): Promise<Uint8Array> {
  return tpm.unseal({ handle: DISK_KEY_HANDLE, pcrs: DISK_KEY_PCRS, passphrase });
}
