// Heads' Options menu, with only the items that work so far; the others (GPG, flashing,
// configuration …) join as their issues land.
import type { FlowContext } from "./context.ts";
import { restartsAfter } from "./oem-reset/after.ts";
import { recoveryShell } from "./recovery.ts";
import { tpmOptionsMenu } from "./tpm-options.ts";

type OptionsChoice = "boot" | "tpm" | "sign" | "oem" | "recovery" | "back";

/** Returns "reboot" when a finished OEM reset needs the machine restarted. */
export async function optionsMenu(ctx: FlowContext): Promise<"reboot" | void> {
  for (;;) {
    const choice = await ctx.ui.prompt.menu<OptionsChoice>({
      title: "Options",
      items: [
        { key: "b", label: "Boot Options -->", value: "boot" },
        { key: "t", label: "TPM/TOTP/HOTP Options -->", value: "tpm" },
        { key: "u", label: "Update checksums and sign all files in /boot", value: "sign" },
        { key: "F", label: "OEM Factory Reset / Re-Ownership", value: "oem" },
        { key: "x", label: "Exit to recovery shell", value: "recovery" },
        { key: "r", label: "<-- Return to main menu", value: "back" },
      ],
      allowBack: true,
    });
    if (choice === "back") return;
    // The /boot and ownership flows load openpgp; they are imported when chosen.
    if (choice === "boot") await (await import("./boot-options.ts")).bootOptionsMenu(ctx);
    else if (choice === "tpm") await tpmOptionsMenu(ctx);
    else if (choice === "sign") await (await import("./sign-boot.ts")).signBootFlow(ctx);
    else if (choice === "oem") {
      if (restartsAfter(ctx, await (await import("./oem-reset/wizard.ts")).oemResetWizard(ctx))) return "reboot";
    }
    else await recoveryShell(ctx, "User requested recovery shell");
  }
}
