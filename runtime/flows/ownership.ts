// At startup, as gui-init's clean_boot_check and check_gpg_key: a machine without a key in
// the firmware, or whose /boot was never signed, has no owner yet. Rather than failing every
// boot, bootward says so and offers the OEM factory reset.
import type { MenuItem } from "../../ui/prompt.ts";
import { mountBoot } from "../boot/device.ts";
import { ROM_KEYRINGS } from "../boot/keyring.ts";
import { SIGNATURE_FILE } from "../boot/signed-set.ts";
import { resolvePath } from "../paths.ts";
import type { FlowContext } from "./context.ts";
import { recoveryShell, restrictedBoot } from "./recovery.ts";
import { isBootProblem } from "./boot-problems.ts";

export const NO_OWNER_TITLE = "This machine has no owner yet";

/** Why the machine looks unowned, or null when it has a keyring and a signed /boot (or /boot cannot be looked at now). */
export async function missingOwnership(ctx: FlowContext): Promise<string | null> {
  if (!ROM_KEYRINGS.some((k) => ctx.sys.stat(resolvePath(ctx.root, k)))) return "The firmware holds no OpenPGP public key, so no /boot can be verified.";
  let bootDir: string;
  try {
    bootDir = await mountBoot(ctx.sys, ctx.config, ctx.firmware, resolvePath(ctx.root, "/boot"));
  } catch (error) {
    // No /boot now is Default boot's to report, with its reason; it says nothing about ownership.
    if (isBootProblem(error)) return null;
    throw error;
  }
  if (ctx.sys.stat(bootDir) && !ctx.sys.stat(`${bootDir}/${SIGNATURE_FILE}`)) return "/boot has never been signed (there is no kexec.sig).";
  return null;
}

type Choice = "reset" | "menu" | "recovery";

/** Offers the OEM factory reset until it is done or the user goes on without it. */
export async function offerOwnership(ctx: FlowContext): Promise<void> {
  for (;;) {
    const why = await missingOwnership(ctx);
    if (!why) return;
    const items: MenuItem<Choice>[] = [
      { key: "F", label: "OEM Factory Reset / Re-Ownership", value: "reset" },
      { key: "m", label: "Continue to the main menu", value: "menu" },
    ];
    if (!restrictedBoot(ctx)) items.push({ key: "x", label: "Exit to recovery shell", value: "recovery" });
    const choice = await ctx.ui.prompt.menu<Choice>({
      title: NO_OWNER_TITLE,
      text: `${why}\n\nThe OEM factory reset takes ownership: it resets the TPM, makes your signing key, signs /boot and seals your TOTP secret.`,
      items,
    });
    if (choice === "menu" || choice === "back") return;
    if (choice === "recovery") await recoveryShell(ctx, NO_OWNER_TITLE);
    else if ((await (await import("./oem-reset/wizard.ts")).oemResetWizard(ctx)) !== "done") continue;
  }
}
