// Heads' Boot Options menu: the OS boot menu and the unsafe boot (hidden under Restricted
// Boot, which refuses it). USB boot joins when bootward can verify a USB image.
import type { MenuItem } from "../../ui/prompt.ts";
import type { FlowContext } from "./context.ts";
import { forceBoot, osBootMenu } from "./os-boot.ts";
import { restrictedBoot } from "./recovery.ts";

type BootOptionsChoice = "menu" | "force" | "back";

export async function bootOptionsMenu(ctx: FlowContext): Promise<void> {
  for (;;) {
    const items: MenuItem<BootOptionsChoice>[] = [{ key: "m", label: "Show OS boot menu", value: "menu" }];
    if (!restrictedBoot(ctx)) items.push({ key: "i", label: "Ignore tampering and force a boot (Unsafe!)", value: "force" });
    items.push({ key: "r", label: "<-- Return to main menu", value: "back" });
    const choice = await ctx.ui.prompt.menu<BootOptionsChoice>({ title: "Boot Options", items, allowBack: true });
    if (choice === "back") return;
    if (choice === "menu") await osBootMenu(ctx);
    else await forceBoot(ctx);
  }
}
