// Leaving the menus for good: the TPM is shut down in order first, because an unclean stop
// counts as a dictionary-attack event and a few of them lock the TPM (Heads #1986). Every
// way to power off or reboot goes through powerChange: the menus, the error screen, a finished
// OEM reset, busybox's reboot/poweroff from the recovery shell and PID 1's fail-safe.
import type { Sys } from "../host/sys.ts";
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

/**
 * Sends the TPM its Shutdown (once: a second call finds it closed), then powers off or
 * reboots. A failed Shutdown is shown and the machine still goes down: staying up helps nobody.
 */
export async function powerChange(sys: Sys, flows: FlowContext | null, choice: PowerChoice): Promise<never> {
  const problem = flows ? await prepareForPowerChange(flows) : null;
  if (problem) sys.console.write(`${problem}\r\n`);
  return choice === "reboot" ? sys.reboot() : sys.poweroff();
}
