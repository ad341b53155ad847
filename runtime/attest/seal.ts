// Sealing the TOTP/HOTP secret as Heads' tpmr does (PolicyPCR over sha256:0,1,2,3,4,7; no
// passphrase; fixedTPM|fixedParent|adminWithPolicy under the SRK), and replacing it so that
// a power cut at any moment leaves a secret that unseals:
//
//   1 seal the new secret at the pending handle      cut → main (old) still unseals
//   2 prove it unseals there                         cut → main (old) still unseals
//   3 record the PCR values                          (advisory; checked against the policy)
//   4 evict the main handle                          cut → pending (new) unseals: unsealTotp falls back to it
//   5 seal the new secret at the main handle         cut → main (new) or pending (new)
//   6 prove it unseals there
//   7 evict the pending handle                       cut → main (new); a stale pending copy is harmless
import type { Sys } from "../host/sys.ts";
import { equalBytes } from "../../tpm/bytes.ts";
import { TpmError, type Secret, type Tpm } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { SEALED_PCRS, SECRET_BYTES, TOTP_MAIN_HANDLE, TOTP_PENDING_HANDLE } from "./constants.ts";
import { futurePcr4, pcrHashOf, readEventLog } from "./eventlog.ts";
import { enrolment, type Enrolment } from "./enrol.ts";
import { policyFor, sealedPolicy, writeRecord, type PcrRecord } from "./record.ts";
import { BOOT_PCR } from "../measure/pcr4.ts";

export class SealError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

export type ResealStep = "pending-sealed" | "pending-proven" | "recorded" | "main-evicted" | "main-sealed" | "main-proven" | "pending-evicted";

export interface SealOptions {
  /** The TPM owner passphrase (Heads sets one at "Reset the TPM"); making objects persistent needs it. */
  ownerPassphrase?: Secret;
  /** The firmware event log, for PCR 4's clean value; read from the Sys when omitted. */
  log?: EventLog | null;
  /** --root for fixture trees. */
  root?: string;
  /** PCR values to seal to instead of the current ones: what a PCR will hold at the next boot (PCR 7 after the ROM's user files changed). */
  nextBoot?: ReadonlyMap<number, Uint8Array>;
}

export interface ResealOptions extends SealOptions {
  /** The label in the otpauth URL (CONFIG_BOARD_NAME). */
  boardName?: string;
  /** Called after each completed step; throwing stops there (tests simulate a power cut with it). */
  onStep?: (step: ResealStep) => void | Promise<void>;
}

export interface SealedValues extends PcrRecord {
  /** How the new secret was shown to unseal: by unsealing it, or (PCR 4 already extended in this boot) by the TPM's own policy digest. */
  proof: "unsealed" | "policy";
}

export interface ResealResult extends SealedValues {
  /** The new secret: the caller programs the dongle with it, then zeroes it. */
  secret: Uint8Array;
  enrolment: Enrolment;
  /** Why the PCR values could not be recorded (the seal stands), when they could not. */
  recordProblem?: string;
}

/** PCRs 0-3 and 7 as they are now, PCR 4 as the firmware leaves it. */
export async function sealValues(tpm: Tpm, sys: Sys, options: SealOptions = {}): Promise<PcrRecord> {
  const log = options.log !== undefined ? options.log : readEventLog(sys, options.root).log;
  const current = SEALED_PCRS.filter((p) => p !== BOOT_PCR);
  const values = await tpm.pcrRead(current);
  values.set(BOOT_PCR, futurePcr4(log, pcrHashOf(tpm.pcrSize)));
  for (const [pcr, value] of options.nextBoot ?? []) if (values.has(pcr)) values.set(pcr, value);
  return { pcrs: [...SEALED_PCRS], values };
}

/** Seal at one handle and show it unseals (or, when the sealed values are not this boot's — PCR 4 extended, PCR 7 for the next boot — that the TPM holds the policy we meant). */
export async function sealAndProve(tpm: Tpm, secret: Uint8Array, handle: number, record: PcrRecord, options: SealOptions, after?: (step: "sealed" | "proven") => Promise<void>): Promise<"unsealed" | "policy"> {
  await tpm.seal(secret, { handle, pcrs: record.pcrs, pcrValues: record.values, ownerPassphrase: options.ownerPassphrase });
  await after?.("sealed");
  const live = await tpm.pcrRead(record.pcrs);
  let proof: "unsealed" | "policy";
  if (record.pcrs.every((pcr) => equalBytes(live.get(pcr)!, record.values.get(pcr)!))) {
    const back = await tpm.unseal({ handle, pcrs: record.pcrs });
    const ok = equalBytes(back, secret);
    back.fill(0);
    if (!ok) throw new SealError(`the secret read back from 0x${handle.toString(16)} differs from the one sealed`);
    proof = "unsealed";
  } else {
    const policy = await sealedPolicy(tpm, handle);
    if (!policy) throw new SealError("the PCRs in this boot differ from the values sealed to (PCR 4 extended by the recovery shell?) and this TPM cannot show the sealed policy: reboot and generate the secret from the menu");
    if (!equalBytes(policy, policyFor(record))) throw new SealError(`the object at 0x${handle.toString(16)} is not bound to the PCR values it was sealed to`);
    proof = "policy";
  }
  await after?.("proven");
  return proof;
}

async function exists(tpm: Tpm, handle: number): Promise<boolean> {
  // Reading its policy is the cheapest question "is anything there?" on 2.0; on 1.2 seal() overwrites in place.
  return (await sealedPolicy(tpm, handle)) !== null;
}

/** "Generate new TOTP/HOTP secret": 20 new random bytes, sealed, proven, switched in atomically. */
export async function sealNewTotpSecret(tpm: Tpm, sys: Sys, options: ResealOptions = {}): Promise<ResealResult> {
  const step = async (s: ResealStep) => options.onStep?.(s);
  const record = await sealValues(tpm, sys, options);
  const secret = sys.randomBytes(SECRET_BYTES);
  try {
    const twoStep = tpm.version === "2.0";
    let proof: "unsealed" | "policy";
    let recordProblem: string | undefined;
    if (twoStep) {
      await sealAndProve(tpm, secret, TOTP_PENDING_HANDLE, record, options, (s) => step(s === "sealed" ? "pending-sealed" : "pending-proven"));
      try {
        await writeRecord(tpm, record, options.ownerPassphrase);
        await step("recorded");
      } catch (e) {
        if (!(e instanceof TpmError)) throw e;
        recordProblem = e.message;
      }
      if (await exists(tpm, TOTP_MAIN_HANDLE)) {
        await tpm.destroy(TOTP_MAIN_HANDLE, options.ownerPassphrase);
        await step("main-evicted");
      }
      proof = await sealAndProve(tpm, secret, TOTP_MAIN_HANDLE, record, options, (s) => step(s === "sealed" ? "main-sealed" : "main-proven"));
      await tpm.destroy(TOTP_PENDING_HANDLE, options.ownerPassphrase);
      await step("pending-evicted");
    } else {
      // TPM 1.2 keeps the sealed blob in an NV index that one NV write replaces whole.
      proof = await sealAndProve(tpm, secret, TOTP_MAIN_HANDLE, record, options, (s) => step(s === "sealed" ? "main-sealed" : "main-proven"));
      recordProblem = "PCR records are kept on TPM 2.0 only";
    }
    return { ...record, proof, secret, enrolment: enrolment(secret, options.boardName), recordProblem };
  } catch (e) {
    secret.fill(0);
    throw e;
  }
}

/** After an interrupted reseal left only the pending copy: move it to the main handle (needs the owner passphrase). */
export async function finishPendingReseal(tpm: Tpm, secret: Uint8Array, sys: Sys, options: SealOptions = {}): Promise<SealedValues> {
  const record = await sealValues(tpm, sys, options);
  const proof = await sealAndProve(tpm, secret, TOTP_MAIN_HANDLE, record, options);
  // The record is advisory: a failure to write it must not undo the finished move.
  if (tpm.version === "2.0") await writeRecord(tpm, record, options.ownerPassphrase).catch((e) => { if (!(e instanceof TpmError)) throw e; });
  await tpm.destroy(TOTP_PENDING_HANDLE, options.ownerPassphrase);
  return { ...record, proof };
}
