// The QEMU board's demo machine has no key in the firmware, so bootward stops at the OEM
// reset offer before the main menu; tests about something else go on with "m".
import type { QemuBoard } from "../../initrd/qemu/board.ts";
import { NO_OWNER_TITLE } from "../../runtime/flows/ownership.ts";

export async function skipOwnershipOffer(qemu: QemuBoard, timeoutMs: number): Promise<void> {
  await qemu.waitFor(new RegExp(NO_OWNER_TITLE), timeoutMs);
  await qemu.waitFor(/Continue to the main menu/, 60_000);
  qemu.send("m");
}
