// The boot-time measurement the walking skeleton introduced, kept until runtime/measure
// takes over: PCR 16 (the debug PCR: resettable, measured by nobody else) gets H(string).
import type { Tpm } from "../../tpm/index.ts";

export const SKELETON_MEASUREMENT = "bootward walking skeleton";
export const SKELETON_PCR = 16;

/** Extends the measurement; returns PCR 16's new value. */
export function measureBoot(tpm: Tpm): Promise<Uint8Array> {
  return tpm.extend(SKELETON_PCR, SKELETON_MEASUREMENT);
}
