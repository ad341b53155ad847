// At startup, as gui-init's clean_boot_check and check_gpg_key: a machine without a key in
// the firmware, or whose /boot was never signed, has no owner yet. Rather than failing every
// boot, bootward says so and offers the OEM factory reset. So it does when an earlier reset
// was cut short.
import type { MenuItem } from "../../ui/prompt.ts";
import { mountBoot } from "../boot/device.ts";
import { ROM_KEYRINGS } from "../boot/keyring.ts";
import { SIGNATURE_FILE } from "../boot/signed-set.ts";
import { resolvePath } from "../paths.ts";
import type { FlowContext } from "./context.ts";
import { recoveryShell, restrictedBoot } from "./recovery.ts";
import { isBootProblem } from "./boot-problems.ts";
import { interruptedStep } from "./oem-reset/pending.ts";
import { restartsAfter } from "./oem-reset/after.ts";

export const NO_OWNER_TITLE = "This machine has no owner yet";
export const INCOMPLETE_TITLE = "Reset incomplete — start again";

interface Reason {
  title: string;
  why: string;
}

/** /boot mounted, or null when there is none to look at now (Default boot reports why). */
async function bootNow(ctx: FlowContext): Promise<string | null> {
  try {
    const bootDir = await mountBoot(ctx.sys, ctx.config, ctx.firmware, resolvePath(ctx.root, "/boot"));
    return ctx.sys.stat(bootDir) ? bootDir : null;
  } catch (error) {
    if (isBootProblem(error)) return null;
    throw error;
  }
}

/** An OEM reset that a power cut (or a crash) stopped half way, as its note in /boot tells. */
export async function interruptedReset(ctx: FlowContext): Promise<Reason | null> {
  const bootDir = await bootNow(ctx);
  const step = bootDir ? interruptedStep(ctx.sys, bootDir) : null;
  if (!step) return null;
  return {
    title: INCOMPLETE_TITLE,
    why: `An OEM factory reset did not finish.\nIt stopped while ${step}.\n\nThe TPM, the keys and /boot may be half changed, so TOTP and /boot checks can fail until the reset is run again.`,
  };
}

/**
 * Why the machine looks unowned, or null when it has a keyring and a signed /boot (or /boot
 * cannot be looked at now). An interrupted reset is offerToFinishReset's, asked before this,
 * so a user who went on from it is not asked the same again.
 */
export async function missingOwnership(ctx: FlowContext): Promise<Reason | null> {
  if (!ROM_KEYRINGS.some((k) => ctx.sys.stat(resolvePath(ctx.root, k)))) return { title: NO_OWNER_TITLE, why: "The firmware holds no OpenPGP public key, so no /boot can be verified." };
  const bootDir = await bootNow(ctx);
  if (bootDir && !ctx.sys.stat(`${bootDir}/${SIGNATURE_FILE}`)) return { title: NO_OWNER_TITLE, why: "/boot has never been signed (there is no kexec.sig)." };
  return null;
}

type Choice = "reset" | "menu" | "recovery";

async function offerReset(ctx: FlowContext, reason: (ctx: FlowContext) => Promise<Reason | null>): Promise<"reboot" | void> {
  for (;;) {
    const found = await reason(ctx);
    if (!found) return;
    const items: MenuItem<Choice>[] = [
      { key: "F", label: "OEM Factory Reset / Re-Ownership", value: "reset" },
      { key: "m", label: "Continue to the main menu", value: "menu" },
    ];
    if (!restrictedBoot(ctx)) items.push({ key: "x", label: "Exit to recovery shell", value: "recovery" });
    const choice = await ctx.ui.prompt.menu<Choice>({
      title: found.title,
      text: `${found.why}\n\nThe OEM factory reset takes ownership: it resets the TPM, makes your signing key, signs /boot and seals your TOTP secret.`,
      items,
    });
    if (choice === "menu" || choice === "back") return;
    if (choice === "recovery") await recoveryShell(ctx, found.title);
    else if (restartsAfter(ctx, await (await import("./oem-reset/wizard.ts")).oemResetWizard(ctx))) return "reboot";
  }
}

/** Offers the OEM factory reset until it is done or the user goes on without it; "reboot" after a finished reset on the firmware. */
export async function offerOwnership(ctx: FlowContext): Promise<"reboot" | void> {
  return offerReset(ctx, missingOwnership);
}

/** Before anything else at startup: an interrupted reset explains every failure that would follow it. */
export async function offerToFinishReset(ctx: FlowContext): Promise<"reboot" | void> {
  return offerReset(ctx, interruptedReset);
}
