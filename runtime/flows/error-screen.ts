// When a flow fails unexpectedly (a bug, a screen that cannot draw), the user gets a clear
// screen with the way out: power off, reboot, or the recovery shell; never a blank console.
// If even that screen fails, the error goes up to PID 1's plain-text fail-safe.
import { describeError } from "../errors.ts";
import type { FlowContext } from "./context.ts";
import type { PowerChoice } from "./power.ts";
import { recoveryShell } from "./recovery.ts";

type ErrorChoice = PowerChoice | "recovery" | "menu";

export async function errorScreen(ctx: FlowContext, error: unknown): Promise<PowerChoice | "menu"> {
  for (;;) {
    const choice = await ctx.ui.prompt.menu<ErrorChoice>({
      title: "bootward hit an unexpected error",
      text: `${describeError(error)}\n\nThe machine is in a safe state. Choose what to do next.`,
      items: [
        { key: "m", label: "Return to the main menu", value: "menu" },
        { key: "p", label: "Power Off", value: "poweroff" },
        { key: "r", label: "Reboot", value: "reboot" },
        { key: "x", label: "Exit to recovery shell", value: "recovery" },
      ],
    });
    if (choice === "back") continue;
    if (choice !== "recovery") return choice;
    const outcome = await recoveryShell(ctx, `Recovery after an error: ${describeError(error)}`);
    if (outcome.kind === "shell") return "menu";
  }
}

/**
 * Runs `flow` until it decides to power off or reboot. An exception in it shows the error
 * screen (after rebuilding the UI, which may be what broke); "menu" runs the flow again.
 */
export async function guarded(ctx: FlowContext, flow: () => Promise<PowerChoice>): Promise<PowerChoice> {
  for (;;) {
    try {
      return await flow();
    } catch (error) {
      ctx.ui.reset();
      const next = await errorScreen(ctx, error);
      if (next !== "menu") return next;
    }
  }
}
