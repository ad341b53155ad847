// Whether the machine had an owner before, read only from what its owner alone could have set
// up: a keyring in the firmware (changing it means writing the ROM), a rollback counter or a
// sealed TOTP/HOTP secret in the TPM (defining, undefining or evicting either takes the TPM
// owner's authorization). Someone who can write /boot can change none of them, so they, and
// not files on /boot, decide whether the OEM factory reset is the default way on.
import type { Sys } from "../host/sys.ts";
import { TpmError, type Tpm } from "../../tpm/index.ts";
import { ROM_KEYRINGS } from "../boot/integrity/keyring.ts";
import { TOTP_SECRET } from "../attest/constants.ts";
import { describeError } from "../errors.ts";

export type TpmEvidence =
  | { readable: true; counters: number[]; sealedSecret: boolean }
  /** No TPM, a TPM 1.2 (not readable yet) or an error: nothing proves the TPM was never owned. */
  | { readable: false; why: string };

export interface OwnerEvidence {
  /** The firmware's keyring file (as cbfs-init installed it), or null when it holds none. */
  keyring: string | null;
  tpm: TpmEvidence;
}

/**
 * never-owned: no keyring and the TPM answered that it holds neither a counter nor a secret.
 * owned: any of them is there. unknown: no keyring, and the TPM could not be asked.
 */
export type Verdict = "never-owned" | "owned" | "unknown";

async function readTpmEvidence(tpm: Tpm | null, tpmError?: string): Promise<TpmEvidence> {
  if (!tpm) return { readable: false, why: tpmError ?? "there is no TPM" };
  try {
    const counters = await tpm.counters();
    // A reseal cut short leaves the secret at the pending handle only.
    const sealedSecret = (await tpm.slotInUse(TOTP_SECRET.handle)) || (await tpm.slotInUse(TOTP_SECRET.pendingHandle));
    return { readable: true, counters, sealedSecret };
  } catch (error) {
    if (!(error instanceof TpmError)) throw error;
    return { readable: false, why: describeError(error) };
  }
}

/** The keyring file cbfs-init installed from the firmware, or null; a file read, no TPM command. */
export function romKeyring(sys: Sys): string | null {
  return ROM_KEYRINGS.find((k) => sys.stat(k)) ?? null;
}

export async function readOwnerEvidence(sys: Sys, tpm: Tpm | null, tpmError?: string): Promise<OwnerEvidence> {
  return { keyring: romKeyring(sys), tpm: await readTpmEvidence(tpm, tpmError) };
}

export function verdict(evidence: OwnerEvidence): Verdict {
  const { keyring, tpm } = evidence;
  if (keyring || (tpm.readable && (tpm.counters.length > 0 || tpm.sealedSecret))) return "owned";
  return tpm.readable ? "never-owned" : "unknown";
}
