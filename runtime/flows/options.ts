// Heads' Options menu, with only the items that work so far; the others (TPM/TOTP/HOTP,
// GPG, flashing, configuration …) join as their issues land.
import type { FlowContext } from "./context.ts";
import { recoveryShell } from "./recovery.ts";
import { bootOptionsMenu } from "./boot-options.ts";
import { signBootFlow } from "./sign-boot.ts";

type OptionsChoice = "boot" | "sign" | "recovery" | "back";

export async function optionsMenu(ctx: FlowContext): Promise<void> {
  for (;;) {
    const choice = await ctx.ui.prompt.menu<OptionsChoice>({
      title: "Options",
      items: [
        { key: "b", label: "Boot Options -->", value: "boot" },
        { key: "u", label: "Update checksums and sign all files in /boot", value: "sign" },
        { key: "x", label: "Exit to recovery shell", value: "recovery" },
        { key: "r", label: "<-- Return to main menu", value: "back" },
      ],
      allowBack: true,
    });
    if (choice === "back") return;
    if (choice === "boot") await bootOptionsMenu(ctx);
    else if (choice === "sign") await signBootFlow(ctx);
    else await recoveryShell(ctx, "User requested recovery shell");
  }
}
