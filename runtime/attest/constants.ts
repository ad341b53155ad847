// Where the TOTP/HOTP secret lives and what it is bound to: Heads' choices (tpmr seal in
// seal-totp.sh), so a machine moves between Heads and bootward without resealing.
import { TOTP_HANDLE, TOTP_PCRS } from "../../tpm/index.ts";
import type { SealedSecret } from "../sealing/secret.ts";

/** PCRs 0,1,2,3,7 at their current values and 4 at its value before the boot runtime extends it. */
export const SEALED_PCRS: readonly number[] = TOTP_PCRS;

export const TOTP_SECRET: SealedSecret = {
  /** Heads' index 0x4d47 ("MG"): persistent handle 0x81004d47 on TPM 2.0, NV index 0x4d47 on 1.2. */
  handle: TOTP_HANDLE,
  /**
   * bootward only, next to Heads' index so an operator listing handles sees they belong
   * together: 0x81004d48 on TPM 2.0, NV index 0x4d48 on 1.2.
   */
  pendingHandle: 0x4d48,
  /** bootward only: 0x01804d47 in TPM 2.0's owner NV range; on 1.2, whose NV index 0x4d47 is the secret itself, 0x4d49. */
  recordIndex: { "2.0": 0x01804d47, "1.2": 0x4d49 },
  pcrs: SEALED_PCRS,
};

/** 20 random bytes (tpmtotp reads exactly 20 from stdin). */
export const SECRET_BYTES = 20;

/** Heads' HOTP counter file: the next counter to use, decimal; neither hashed nor signed. */
export const HOTP_COUNTER_FILE = "/boot/kexec_hotp_counter";
/** Heads' dongle branding file, next to the counter. */
export const HOTP_KEY_FILE = "/boot/kexec_hotp_key";
