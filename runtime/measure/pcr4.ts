// PCR 4 is the boot runtime's: extending it (recovery shell, USB boot, forced boot) moves
// it off the value the TOTP secret is sealed to, so no code can be shown for the rest of
// this boot: whatever the user does next, the firmware can no longer vouch for itself.
import { equalBytes } from "../../lib/bytes.ts";
import type { Tpm } from "../../tpm/index.ts";
import { extendPcr, measurement, type PcrHash } from "../../tpm/tpm2/policy.ts";

/** The boot runtime's PCR (Heads: usb-init, kexec-select-boot, recovery). */
export const BOOT_PCR = 4;

/** What is extended into PCR 4: Heads' strings, plus bootward's for the forced boot. */
export const PCR4_STRINGS = {
  recovery: "recovery",
  usb: "usb",
  generic: "generic",
  /** Heads has no string of its own for "Ignore tampering and force a boot"; bootward marks it so the TOTP dies with it. */
  unsafe: "unsafe-boot",
} as const;
export type Pcr4Reason = keyof typeof PCR4_STRINGS;

export async function extendPcr4(tpm: Tpm, reason: Pcr4Reason): Promise<Uint8Array> {
  return tpm.extend(BOOT_PCR, PCR4_STRINGS[reason]);
}

/** Which single extension turns the clean value into the live one, if it is one of ours. */
export function pcr4Reason(clean: Uint8Array, live: Uint8Array, hash: PcrHash): Pcr4Reason | null {
  for (const reason of Object.keys(PCR4_STRINGS) as Pcr4Reason[]) {
    const v = extendPcr(hash, clean, measurement(hash, new TextEncoder().encode(PCR4_STRINGS[reason])));
    if (equalBytes(v, live)) return reason;
  }
  return null;
}
