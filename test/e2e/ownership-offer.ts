// Tests about something else go past the startup's ownership screen with "m": the QEMU board's
// demo machine has no key in the firmware, so every boot shows one (which one depends on what
// the TPM holds: nothing, a sealed TOTP secret, or a TPM 1.2 that cannot be asked).
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { OWNERSHIP_TITLES } from "../../runtime/flows/ownership.ts";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ANY_TITLE = new RegExp(OWNERSHIP_TITLES.map(escape).join("|"));

export async function skipOwnershipOffer(qemu: QemuBoard, timeoutMs: number): Promise<void> {
  await qemu.waitFor(ANY_TITLE, timeoutMs);
  await qemu.waitFor(/Continue to the main menu/, 60_000);
  qemu.send("m");
}
