// A sealed secret, described once for both TPM versions: where it lives, what it is bound
// to, and where reseal keeps a copy while it rewrites it. The TOTP/HOTP secret is one; the
// disk unlock key is another.
import type { Secret } from "../../tpm/index.ts";

export interface SealedSecret {
  /** Heads' index: persistent handle 0x81000000|index on TPM 2.0 (0x81004d47), NV index on TPM 1.2 (0x4d47). */
  handle: number;
  /** Where a new secret waits, proven unsealable, while `handle` is rewritten; the same kind of index. */
  pendingHandle: number;
  /**
   * Where the values sealed to are recorded, so a refusal can name the PCR that moved: an NV
   * index of each TPM version (on 1.2 the handles are NV indices themselves, so it differs).
   */
  recordIndex: Readonly<Record<"1.2" | "2.0", number>>;
  /** The record's size in bytes when 256 is too small for the bound PCRs. */
  recordSize?: number;
  /** Bound PCRs: at their values now, except PCR 4 (what the firmware leaves there) and those the seal predicts. */
  pcrs: readonly number[];
  /** Needed on top of the PCRs (the disk key's passphrase); the TOTP/HOTP secret has none. */
  passphrase?: Secret;
  /** What to do when a bound PCR other than 4 moved, said after the explanation; the TOTP/HOTP secret's advice when absent. */
  advice?: string;
}
