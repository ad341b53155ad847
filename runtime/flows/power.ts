// Leaving the menus for good: the TPM is shut down in order first, because an unclean stop
// counts as a dictionary-attack event and a few of them lock the TPM.
import { describeError } from "../errors.ts";
import type { FlowContext } from "./context.ts";

export type PowerChoice = "poweroff" | "reboot";

/** Shuts the TPM down (on the firmware) and closes the UI; the caller then powers off or reboots. */
export async function prepareForPowerChange(ctx: FlowContext): Promise<string | null> {
  let problem: string | null = null;
  if (ctx.tpm && ctx.firmware) {
    try {
      await ctx.tpm.shutdown();
    } catch (error) {
      problem = `TPM shutdown failed: ${describeError(error)}`;
    }
  }
  ctx.tpm?.close();
  ctx.tpm = null;
  ctx.tpmError = "closed for power off";
  return problem;
}
