// What follows a finished OEM reset. Its TOTP secret is sealed to the PCR 7 the next boot
// measures from the new ROM, so in this boot it cannot unseal: on the firmware the machine
// restarts, as Heads' reset does, rather than show a false alarm.
import type { FlowContext } from "../context.ts";
import type { OemResetOutcome } from "./wizard.ts";

export function restartsAfter(ctx: FlowContext, outcome: OemResetOutcome): boolean {
  return outcome === "done" && ctx.firmware;
}
