// Heads' main menu: the board and brand in the title, date and TOTP/HOTP in the text,
// d default boot, r refresh, o options, s system info, p power off.
import { formatDateTime } from "../../ui/components/status-header.tsx";
import type { Status, TotpStatus } from "../../ui/prompt.ts";
import { describeError } from "../errors.ts";
import { boardName, type FlowContext } from "./context.ts";
import { optionsMenu } from "./options.ts";
import { takeAttestationChange } from "./attestation.ts";
import type { PowerChoice } from "./power.ts";
import { showSystemInfo } from "./system-info.ts";

type MainChoice = "default" | "refresh" | "options" | "info" | "poweroff";

export const NOT_CONFIGURED = "not configured";

export function mainMenuTitle(ctx: FlowContext): string {
  return `${boardName(ctx.config)} | ${ctx.config.CONFIG_BRAND_NAME || "bootward"} Boot Menu`;
}

export interface AttestationView {
  totp: TotpStatus;
  hotp: string;
}

/** The TOTP code, or why there is none; the provider's failure is shown, never thrown. */
async function readTotp(ctx: FlowContext): Promise<TotpStatus> {
  if (!ctx.attestation) return { error: NOT_CONFIGURED };
  try {
    return (await ctx.attestation.status()) ?? { error: NOT_CONFIGURED };
  } catch (error) {
    return { error: `error (${describeError(error)})` };
  }
}

/** Asks the attestation provider; its failure is shown as the TOTP's state, never thrown. */
export async function readAttestation(ctx: FlowContext): Promise<AttestationView> {
  const totp = await readTotp(ctx);
  let hotp = NOT_CONFIGURED;
  try {
    hotp = (await ctx.attestation?.hotp?.()) ?? NOT_CONFIGURED;
  } catch (error) {
    hotp = `error (${describeError(error)})`;
  }
  return { totp, hotp };
}

export function attestationLine(view: AttestationView): string {
  const totp = "error" in view.totp ? view.totp.error : view.totp.code;
  return `TOTP: ${totp} | HOTP: ${view.hotp}`;
}

export function headerStatus(ctx: FlowContext, view: AttestationView): Status {
  // Green only when the TOTP secret unsealed; without a provider nothing vouches for the firmware.
  const { integrity, reason } = ctx.attestation?.integrity?.() ?? { integrity: "unknown", reason: "not verified yet" };
  return { board: boardName(ctx.config), integrity, reason, totp: view.totp, hotp: view.hotp };
}

/**
 * Loops until the user chooses to power off; the caller does it. `shown` is what a startup
 * screen showed: its HOTP result stands (each check moves the dongle's counter on), the TOTP
 * is read again since the code may have expired while that screen waited.
 */
export async function mainMenu(ctx: FlowContext, shown?: AttestationView | null): Promise<PowerChoice> {
  let view = shown && !takeAttestationChange(ctx) ? { ...shown, totp: await readTotp(ctx) } : await readAttestation(ctx);
  for (;;) {
    const prompt = ctx.ui.prompt;
    prompt.setStatus(headerStatus(ctx, view));
    const choice = await prompt.menu<MainChoice>({
      title: mainMenuTitle(ctx),
      text: `${formatDateTime(ctx.sys.now())}\n${attestationLine(view)}`,
      items: [
        { key: "d", label: "Default boot", value: "default" },
        { key: "r", label: "Refresh TOTP/HOTP", value: "refresh" },
        { key: "o", label: "Options -->", value: "options" },
        { key: "s", label: "System Info", value: "info" },
        { key: "p", label: "Power Off", value: "poweroff" },
      ],
    });
    switch (choice) {
      case "default":
        // Lazily: the verifier brings openpgp, which the first frame does not need.
        await (await import("./os-boot.ts")).defaultBoot(ctx);
        break;
      case "refresh":
        view = await readAttestation(ctx);
        break;
      case "options":
        if ((await optionsMenu(ctx)) === "reboot") return "reboot";
        if (takeAttestationChange(ctx)) view = await readAttestation(ctx);
        break;
      case "info":
        await showSystemInfo(ctx);
        break;
      case "poweroff":
        return "poweroff";
      case "back":
        break;
    }
  }
}
