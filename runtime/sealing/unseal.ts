// The boot-time unseal: the secret from its handle, else from a pending copy an interrupted
// reseal left behind; or why neither unseals. The success path costs what the TPM library's
// unseal costs (no key creation, no PCR read): the explanation is only worked out when it is
// needed.
import type { Sys } from "../host/sys.ts";
import { TpmError, TpmLockoutError, TpmPolicyError, type Tpm } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { explainUnsealFailure } from "./explain.ts";
import type { SealedSecret } from "./secret.ts";

export interface Unsealed {
  secret: Uint8Array;
  /** "pending": a reseal was interrupted after the old secret was removed. */
  source: "main" | "pending";
}

export interface UnsealFailure {
  failure: {
    /** absent: nothing sealed (never generated, or the TPM was reset); pcr: a bound PCR moved; passphrase: the passphrase was refused; error: the TPM failed otherwise. */
    kind: "absent" | "pcr" | "passphrase" | "error";
    pcrs: number[];
    explanation: string[];
  };
}

export interface UnsealSecretOptions {
  log?: EventLog | null;
}

export async function unsealSecret(tpm: Tpm, sys: Sys, secret: SealedSecret, options: UnsealSecretOptions = {}): Promise<Unsealed | UnsealFailure> {
  const pcrs = [...secret.pcrs];
  let mainError: TpmError;
  try {
    return { secret: await tpm.unseal({ handle: secret.handle, pcrs, passphrase: secret.passphrase }), source: "main" };
  } catch (e) {
    if (!(e instanceof TpmError)) throw e;
    mainError = e;
  }
  if (await mayHoldSecret(tpm, secret.pendingHandle)) {
    try {
      return { secret: await tpm.unseal({ handle: secret.pendingHandle, pcrs, passphrase: secret.passphrase }), source: "pending" };
    } catch (e) {
      if (!(e instanceof TpmError)) throw e;
    }
  }
  if (mainError instanceof TpmLockoutError) return { failure: { kind: "error", pcrs: [], explanation: [lockoutAdvice(mainError)] } };
  if (!(await mayHoldSecret(tpm, secret.handle))) return { failure: { kind: "absent", pcrs: [], explanation: [] } };
  if (!(mainError instanceof TpmPolicyError) || mainError.reason === "passphrase") {
    const kind = mainError instanceof TpmPolicyError ? "passphrase" : "error";
    return { failure: { kind, pcrs: [], explanation: [`The TPM did not unseal the secret: ${mainError.message}`] } };
  }
  const why = await explainUnsealFailure(tpm, sys, secret, { log: options.log });
  return { failure: { kind: "pcr", pcrs: why.pcrs, explanation: why.explanation } };
}

/** A TPM that cannot even say what is stored there may still hold it: only a clear "nothing" counts as absent. */
async function mayHoldSecret(tpm: Tpm, handle: number): Promise<boolean> {
  try {
    return (await tpm.sealedObject(handle)) !== null;
  } catch (e) {
    if (!(e instanceof TpmError)) throw e;
    return true;
  }
}

/** The lockout in one sentence with the way out (Heads #2205): wait with the machine on, or reset the TPM. */
export function lockoutAdvice(e: TpmLockoutError): string {
  const what = e.message.charAt(0).toUpperCase() + e.message.slice(1);
  const wait = e.secondsLeft === null ? "" : "Leave the machine on and wait, or ";
  return `${what}. ${wait}${wait ? "reset" : "Reset"} the TPM (TPM/TOTP/HOTP Options → Reset the TPM), which ends the lockout along with everything sealed in it.`;
}
