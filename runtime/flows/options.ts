// Heads' Options menu, with only the items that work so far; the others (boot options,
// TPM/TOTP/HOTP, GPG, flashing …) join as their issues land.
import type { FlowContext } from "./context.ts";
import { recoveryShell } from "./recovery.ts";

type OptionsChoice = "recovery" | "back";

export async function optionsMenu(ctx: FlowContext): Promise<void> {
  for (;;) {
    const choice = await ctx.ui.prompt.menu<OptionsChoice>({
      title: "Options",
      items: [
        { key: "x", label: "Exit to recovery shell", value: "recovery" },
        { key: "r", label: "<-- Return to main menu", value: "back" },
      ],
      allowBack: true,
    });
    if (choice === "back") return;
    await recoveryShell(ctx, "User requested recovery shell");
  }
}
