// "Generate new TOTP/HOTP secret": 20 new random bytes sealed where Heads keeps them
// (seal-totp.sh's tpmr seal), with sealing/'s power-cut-safe reseal, and the otpauth URL
// the user scans.
import type { Sys } from "../host/sys.ts";
import type { Tpm } from "../../tpm/index.ts";
import { SECRET_BYTES, TOTP_SECRET } from "./constants.ts";
import { enrolment, type Enrolment } from "./enrol.ts";
import { reseal, type ResealOptions, type ResealResult } from "../sealing/seal.ts";

export interface TotpSealOptions extends ResealOptions {
  /** The label in the otpauth URL (CONFIG_BOARD_NAME). */
  boardName?: string;
}

export interface TotpSealResult extends ResealResult {
  /** The new secret: the caller programs the dongle with it, then zeroes it. */
  secret: Uint8Array;
  enrolment: Enrolment;
}

export async function sealNewTotpSecret(tpm: Tpm, sys: Sys, options: TotpSealOptions = {}): Promise<TotpSealResult> {
  const secret = sys.randomBytes(SECRET_BYTES);
  try {
    const sealed = await reseal(tpm, sys, TOTP_SECRET, secret, options);
    return { ...sealed, secret, enrolment: enrolment(secret, options.boardName) };
  } catch (e) {
    secret.fill(0);
    throw e;
  }
}
