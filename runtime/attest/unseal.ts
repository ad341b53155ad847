// The boot-time unseal: the secret from the main handle, else from a pending copy an
// interrupted reseal left behind; or why neither unseals. The success path costs what the
// TPM library's unseal costs (no CreatePrimary, no PCR read): the explanation is only
// worked out when it is needed.
import type { Sys } from "../host/sys.ts";
import { TpmError, TpmLockoutError, TpmPolicyError, type Tpm } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { SEALED_PCRS, TOTP_MAIN_HANDLE, TOTP_PENDING_HANDLE } from "./constants.ts";
import { explainTotpFailure } from "./explain.ts";
import { sealedPolicy } from "./record.ts";

export interface UnsealedTotp {
  secret: Uint8Array;
  /** "pending": a reseal was interrupted after the old secret was evicted; offer the QR again and finish it. */
  source: "main" | "pending";
}

export interface TotpFailure {
  failure: {
    /** absent: nothing sealed (never generated, or the TPM was reset); pcr: a bound PCR moved; error: the TPM failed otherwise. */
    kind: "absent" | "pcr" | "error";
    pcrs: number[];
    explanation: string[];
  };
}

export interface UnsealTotpOptions {
  root?: string;
  log?: EventLog | null;
}

export async function unsealTotp(tpm: Tpm, sys: Sys, options: UnsealTotpOptions = {}): Promise<UnsealedTotp | TotpFailure> {
  let mainError: TpmError;
  try {
    return { secret: await tpm.unseal({ handle: TOTP_MAIN_HANDLE, pcrs: [...SEALED_PCRS] }), source: "main" };
  } catch (e) {
    if (!(e instanceof TpmError)) throw e;
    mainError = e;
  }
  if (tpm.version === "2.0" && (await sealedPolicy(tpm, TOTP_PENDING_HANDLE))) {
    try {
      return { secret: await tpm.unseal({ handle: TOTP_PENDING_HANDLE, pcrs: [...SEALED_PCRS] }), source: "pending" };
    } catch (e) {
      if (!(e instanceof TpmError)) throw e;
    }
  }
  if (mainError instanceof TpmLockoutError) return { failure: { kind: "error", pcrs: [], explanation: [lockoutAdvice(mainError)] } };
  const mainExists = tpm.version === "2.0" ? (await sealedPolicy(tpm, TOTP_MAIN_HANDLE)) !== null : !/nothing is sealed|not defined|BADINDEX/i.test(mainError.message);
  if (!mainExists) {
    return { failure: { kind: "absent", pcrs: [], explanation: ["No TOTP/HOTP secret is sealed in this TPM: generate one (TPM/TOTP/HOTP options)."] } };
  }
  if (!(mainError instanceof TpmPolicyError) || mainError.reason === "passphrase") {
    return { failure: { kind: "error", pcrs: [], explanation: [`The TPM did not unseal the secret: ${mainError.message}`] } };
  }
  const why = await explainTotpFailure(tpm, sys, { root: options.root, log: options.log });
  return { failure: { kind: "pcr", pcrs: why.pcrs, explanation: why.explanation } };
}

/** The lockout in one sentence with the way out (Heads #2205): wait with the machine on, or reset the TPM. */
export function lockoutAdvice(e: TpmLockoutError): string {
  const what = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  const wait = e.secondsLeft === null ? "" : "Leave the machine on and wait, or ";
  return `${what}. ${wait}${wait ? "reset" : "Reset"} the TPM (TPM/TOTP/HOTP Options → Reset the TPM), which ends the lockout along with everything sealed in it.`;
}
