// A power cut during the OEM reset must not leave a machine that only shows failures. Before
// its first change the wizard leaves a note in /boot naming the step it is on, and removes it
// once everything is done; at the next boot a note still there means "reset incomplete —
// start again". The note holds a step name only, never a secret.
import type { Sys } from "../host/sys.ts";
import { withWritableBoot } from "../platform/boot-device.ts";

/**
 * "kexec" first: Heads' hash lists skip such files and its reset deletes them; not ".txt",
 * so it is no signed list either.
 */
export const PENDING_FILE = "kexec_oem_reset.pending";

export type ResetStep = "tpm" | "key" | "backup" | "rom" | "sign" | "totp";

const STEP_TEXT: Readonly<Record<ResetStep, string>> = {
  tpm: "resetting the TPM",
  key: "making the signing key",
  backup: "writing the key backup",
  rom: "writing the keyring to the ROM",
  sign: "signing /boot",
  totp: "sealing the TOTP secret",
};

function isStep(text: string): text is ResetStep {
  return Object.keys(STEP_TEXT).includes(text);
}

/** Records the step about to start; the file is replaced whole and synced, so a cut leaves the old note or the new one. */
export async function markStep(sys: Sys, firmware: boolean, bootDir: string, step: ResetStep): Promise<void> {
  const path = `${bootDir}/${PENDING_FILE}`;
  await withWritableBoot(sys, firmware, async () => {
    sys.writeFile(`${path}.tmp`, `${step}\n`, 0o644);
    sys.rename(`${path}.tmp`, path);
    await sys.exec(["sync"]);
  });
}

export async function clearMark(sys: Sys, firmware: boolean, bootDir: string): Promise<void> {
  await withWritableBoot(sys, firmware, async () => {
    sys.remove(`${bootDir}/${PENDING_FILE}`);
    await sys.exec(["sync"]);
  });
}

/** What the interrupted reset was doing ("signing /boot"), or null when no reset was left unfinished. */
export function interruptedStep(sys: Sys, bootDir: string): string | null {
  const path = `${bootDir}/${PENDING_FILE}`;
  if (!sys.stat(path)) return null;
  const step = sys.readText(path).trim();
  // An unreadable note still means a reset started and did not finish.
  return isStep(step) ? STEP_TEXT[step] : "an unknown step";
}
