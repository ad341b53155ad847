// The disk unlock key (DUK) in the TPM, as Heads' kexec-seal-key.sh / kexec-unseal-key.sh
// keep it: 128 random bytes sealed at 0x81000003 (NV index 3 on TPM 1.2) to PCRs 0–7 plus a
// passphrase (PolicyPCR + PolicyAuthValue on 2.0: neither alone unseals).
//
// The values sealed to are those of the moment of unsealing at boot: PCRs 0–3, 5 and 7 as
// they are now (the firmware and the modules loaded this boot, which load the same way every
// boot), PCR 4 as the firmware leaves it — the key is unsealed before PCR 4 moves for the OS,
// so the OS can never unseal it (Heads' code seals to calcfuturepcr 4, the clean value) — and
// PCR 6 as it will be once the LUKS headers are measured into it from zero (setup.ts seals).
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { DISK_KEY_HANDLE, DISK_KEY_PCRS } from "../../tpm/index.ts";
import type { SealedSecret } from "../sealing/secret.ts";
import { unsealSecret, type UnsealFailure, type UnsealSecretOptions } from "../sealing/unseal.ts";

/** Heads' DUK: 128 random bytes. */
export const DISK_KEY_BYTES = 128;
/** Heads' MIN_PASSPHRASE_LENGTH for the DUK passphrase. */
export const DISK_KEY_PASSPHRASE_MIN = 12;
/** The LUKS key slot the DUK takes: the last one (31 on LUKS2, 7 on LUKS1). */
export const DISK_KEY_SLOT = { 1: 7, 2: 31 } as const;
/** Heads' earlier DUK slot, emptied without asking. */
export const LEGACY_DISK_KEY_SLOT = 1;

/** The disk key as a sealed secret: Heads' handle and PCRs, plus bootward's pending copy and record. */
export function diskKeySecret(passphrase: Uint8Array): SealedSecret {
  return {
    handle: DISK_KEY_HANDLE,
    /** bootward only: 0x81000004 on TPM 2.0, NV index 4 on 1.2, next to Heads' 3. */
    pendingHandle: DISK_KEY_HANDLE + 1,
    /** bootward only: 0x01800003 in TPM 2.0's owner NV range; on 1.2 NV index 5. */
    recordIndex: { "2.0": 0x01800000 | DISK_KEY_HANDLE, "1.2": DISK_KEY_HANDLE + 2 },
    /** 8 SHA-256 values and their header take 270 bytes. */
    recordSize: 512,
    pcrs: DISK_KEY_PCRS,
    passphrase,
    advice: 'If you updated the firmware, its settings or the kernel, reseal the key from "Update checksums and sign"; otherwise treat the machine as tampered with.',
  };
}

/** The TPM kept the key: `failure` says why (the PCRs that moved, a wrong passphrase, nothing sealed). */
export class DiskKeyUnsealError extends Error {
  override readonly name = "DiskKeyUnsealError";
  constructor(readonly failure: UnsealFailure["failure"]) {
    super(unsealProblem(failure));
  }
}

/**
 * The key, from its handle or from the pending copy an interrupted reseal left (so the boot
 * and `bootward disk unseal` agree), if PCRs 0–7 hold the sealed values and the passphrase is right.
 */
export async function unsealDiskKey(tpm: Tpm, sys: Sys, passphrase: Uint8Array, options: UnsealSecretOptions = {}): Promise<Uint8Array> {
  const got = await unsealSecret(tpm, sys, diskKeySecret(passphrase), options);
  if ("secret" in got) return got.secret;
  throw new DiskKeyUnsealError(got.failure);
}

function unsealProblem(failure: UnsealFailure["failure"]): string {
  if (failure.kind === "absent") return "The TPM holds no disk unlock key (it was reset, or the key was never sealed). Set the key up again from the default boot entry or the TPM/TOTP/HOTP options.";
  if (failure.kind === "passphrase") return `The disk unlock key passphrase was refused (${failure.explanation.join(" ")}). Each wrong passphrase counts toward the TPM's dictionary-attack lockout.`;
  if (failure.kind === "error") return failure.explanation.join(" ");
  return `The TPM did not release the disk unlock key.\n${failure.explanation.join("\n")}`;
}
