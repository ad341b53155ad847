// Sealing a secret as Heads' tpmr does (TPM 2.0: PolicyPCR over sha256 under the SRK; TPM 1.2:
// TPM_Seal to a TPM_PCR_INFO, the blob in NV), and replacing it so that a power cut at any
// moment leaves a secret that unseals:
//
//   1 seal the new secret at the pending handle      cut → main (old) still unseals
//   2 prove it unseals there                         cut → main (old) still unseals
//   3 record the PCR values                          (advisory; checked against the seal)
//   4 remove the main one                            cut → pending (new) unseals: unsealSecret falls back to it
//   5 seal the new secret at the main handle         cut → main (new) or pending (new)
//   6 prove it unseals there
//   7 remove the pending one                         cut → main (new); a stale pending copy is harmless
import type { Sys } from "../host/sys.ts";
import { equalBytes } from "../../lib/bytes.ts";
import { TpmError, type Secret, type Tpm } from "../../tpm/index.ts";
import type { EventLog } from "../../tpm/eventlog/parse.ts";
import { futurePcr4, pcrHashOf, readEventLog } from "./eventlog.ts";
import { recordMatchesSeal, writeRecord, type PcrRecord } from "./record.ts";
import type { SealedSecret } from "./secret.ts";
import { BOOT_PCR } from "../measure/pcr4.ts";

export class SealError extends TpmError {
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

export type ResealStep = "pending-sealed" | "pending-proven" | "recorded" | "main-evicted" | "main-sealed" | "main-proven" | "pending-evicted";

export interface SealOptions {
  /** The TPM owner passphrase (Heads sets one at "Reset the TPM"): persisting a 2.0 object or defining a 1.2 NV index needs it. */
  ownerPassphrase?: Secret;
  /** The firmware event log, for PCR 4's clean value; read from the Sys when omitted. */
  log?: EventLog | null;
  /** PCR values to seal to instead of the current ones: what a PCR will hold at the next boot (PCR 7 after the ROM's user files changed). */
  nextBoot?: ReadonlyMap<number, Uint8Array>;
}

export interface ResealOptions extends SealOptions {
  /** Called after each completed step; throwing stops there (tests simulate a power cut with it). */
  onStep?: (step: ResealStep) => void | Promise<void>;
}

export interface SealedValues extends PcrRecord {
  /** How the new secret was shown to unseal: by unsealing it, or (PCR 4 already extended in this boot) by the TPM's own binding digest. */
  proof: "unsealed" | "binding";
}

export interface ResealResult extends SealedValues {
  /** Why the PCR values could not be recorded (the seal stands), when they could not. */
  recordProblem?: string;
}

/** The bound PCRs as they are now, PCR 4 as the firmware leaves it, and the predicted ones. */
export async function sealValues(tpm: Tpm, sys: Sys, secret: SealedSecret, options: SealOptions = {}): Promise<PcrRecord> {
  const log = options.log !== undefined ? options.log : readEventLog(sys).log;
  const values = await tpm.pcrRead(secret.pcrs.filter((p) => p !== BOOT_PCR));
  if (secret.pcrs.includes(BOOT_PCR)) values.set(BOOT_PCR, futurePcr4(log, pcrHashOf(tpm.pcrSize)));
  for (const [pcr, value] of options.nextBoot ?? []) if (values.has(pcr)) values.set(pcr, value);
  return { pcrs: [...secret.pcrs], values };
}

/** Seal at one handle and show it unseals (or, when the sealed values are not this boot's — PCR 4 extended, PCR 7 for the next boot — that the TPM holds the binding we meant). */
export async function sealAndProve(tpm: Tpm, bytes: Uint8Array, handle: number, record: PcrRecord, passphrase: Secret | undefined, options: SealOptions, after?: (step: "sealed" | "proven") => Promise<void>): Promise<"unsealed" | "binding"> {
  await tpm.seal(bytes, { handle, pcrs: record.pcrs, pcrValues: record.values, passphrase, ownerPassphrase: options.ownerPassphrase });
  await after?.("sealed");
  const live = await tpm.pcrRead(record.pcrs);
  let proof: "unsealed" | "binding";
  if (record.pcrs.every((pcr) => equalBytes(live.get(pcr)!, record.values.get(pcr)!))) {
    const back = await tpm.unseal({ handle, pcrs: record.pcrs, passphrase });
    const ok = equalBytes(back, bytes);
    back.fill(0);
    if (!ok) throw new SealError(`the secret read back from 0x${handle.toString(16)} differs from the one sealed`);
    proof = "unsealed";
  } else {
    if (!(await recordMatchesSeal(tpm, handle, record))) throw new SealError(`the secret at 0x${handle.toString(16)} is not bound to the PCR values it was sealed to`);
    proof = "binding";
  }
  await after?.("proven");
  return proof;
}

/** Seal `bytes` as `secret` in place of what is there, proving each copy; the caller keeps and zeroes `bytes`. */
export async function reseal(tpm: Tpm, sys: Sys, secret: SealedSecret, bytes: Uint8Array, options: ResealOptions = {}): Promise<ResealResult> {
  const step = async (s: ResealStep) => options.onStep?.(s);
  const record = await sealValues(tpm, sys, secret, options);
  await sealAndProve(tpm, bytes, secret.pendingHandle, record, secret.passphrase, options, (s) => step(s === "sealed" ? "pending-sealed" : "pending-proven"));
  let recordProblem: string | undefined;
  try {
    await writeRecord(tpm, secret, record, options.ownerPassphrase);
    await step("recorded");
  } catch (e) {
    if (!(e instanceof TpmError)) throw e;
    recordProblem = e.message;
  }
  if (await tpm.sealedObject(secret.handle)) {
    await tpm.destroy(secret.handle, options.ownerPassphrase);
    await step("main-evicted");
  }
  const proof = await sealAndProve(tpm, bytes, secret.handle, record, secret.passphrase, options, (s) => step(s === "sealed" ? "main-sealed" : "main-proven"));
  await tpm.destroy(secret.pendingHandle, options.ownerPassphrase);
  await step("pending-evicted");
  return { ...record, proof, recordProblem };
}
