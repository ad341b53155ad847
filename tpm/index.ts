// bootward's TPM library: one version-neutral face over TPM 2.0 and TPM 1.2.
import { TpmArgumentError, TpmResponseError } from "./errors.ts";
import type { Tpm } from "./face.ts";
import type { Transport } from "./transport/transport.ts";
import { Tpm2Backend } from "./tpm2/backend.ts";
import { Tpm12Backend } from "./tpm12/backend.ts";
import { Tpm2Commands } from "./tpm2/commands.ts";
import { Tpm12Commands } from "./tpm12/commands.ts";
import { CC, TPM_CAP_TPM_PROPERTIES, TPM_PT_MANUFACTURER, TPM_ST_NO_SESSIONS, TPM_SU_CLEAR } from "./tpm2/constants.ts";
import { RC, responseError } from "./tpm2/rc.ts";
import { TPM_INVALID_POSTINIT, TPM_ST_CLEAR, TPM_TAG_RSP_COMMAND } from "./tpm12/constants.ts";
import { Reader, marshal } from "./wire.ts";

export * from "./face.ts";
export * from "./errors.ts";
export type { Transport } from "./transport/transport.ts";
export { PolicyCalculator, extendPcr, predictPcr, measurement } from "./tpm2/policy.ts";

export interface OpenOptions {
  /** Random bytes for nonces and salts; defaults to crypto.getRandomValues (shimmed on QuickJS). */
  random?: (n: number) => Uint8Array;
}

function defaultRandom(n: number): Uint8Array {
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (!c?.getRandomValues) throw new TpmArgumentError("no random source: pass options.random to openTpm");
  const out = new Uint8Array(n);
  for (let o = 0; o < n; o += 65536) c.getRandomValues(out.subarray(o, Math.min(n, o + 65536)));
  return out;
}

/**
 * Find out which TPM answers (a TPM 1.2 rejects the 2.0 tag with TPM_BADTAG), start it
 * if nobody has, and return the face for it.
 */
export async function openTpm(transport: Transport, options: OpenOptions = {}): Promise<Tpm> {
  const random = options.random ?? defaultRandom;
  const probe = marshal((w) => w.u16(TPM_ST_NO_SESSIONS).u32(22).u32(CC.GetCapability).u32(TPM_CAP_TPM_PROPERTIES).u32(TPM_PT_MANUFACTURER).u32(1));
  const answer = new Reader(await transport.send(probe), "TPM2_GetCapability response");
  const tag = answer.u16();
  answer.u32();
  const rc = answer.u32();
  // A TPM 1.2 answers any 2.0 command with its own response tag and an error code.
  if (tag === TPM_TAG_RSP_COMMAND) return openTpm12(transport, random);
  const t2 = new Tpm2Commands(transport, random);
  if (rc === RC.INITIALIZE) await t2.startup(TPM_SU_CLEAR);
  else if (rc !== 0) throw responseError("TPM2_GetCapability", rc);
  return Tpm2Backend.open(t2);
}

async function openTpm12(transport: Transport, random: (n: number) => Uint8Array): Promise<Tpm> {
  const t1 = new Tpm12Commands(transport, random);
  try {
    await t1.manufacturer();
  } catch (e) {
    if (!(e instanceof TpmResponseError) || e.rc !== TPM_INVALID_POSTINIT) throw e;
    await t1.startup(TPM_ST_CLEAR);
  }
  return new Tpm12Backend(t1);
}
