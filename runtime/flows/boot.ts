// The boot flow: open the TPM, measure, then gui-init's main menu until the user powers
// off. As PID 1 it is the firmware's UI; `bootward menu` runs the same flow from a shell.
import type { Sys } from "../host/sys.ts";
import { openTpmDevice } from "../platform/tpm-device.ts";
import { readBoardConfig } from "../config/board.ts";
import { describeError } from "../errors.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { AttestationProvider, FlowContext, FlowUi } from "./context.ts";
import { guarded } from "./error-screen.ts";
import { flashDevice, FlashError } from "../flash/device.ts";
import { CbfsError } from "../flash/cbfs.ts";
import { loadUserFiles, userFilesPcr } from "../measure/user-files.ts";
import { TpmError } from "../../tpm/errors.ts";
import { SysError } from "../host/sys.ts";
import { createAttestation } from "./attestation.ts";
import { liveTotpUi } from "./live-totp.ts";
import { attestationAtStartup } from "./totp-failure.ts";
import { mainMenu } from "./main-menu.ts";
import { ownershipAtStartup, type OwnershipOutcome } from "./ownership.ts";
import { prepareForPowerChange, type PowerChoice } from "./power.ts";


export interface BootFlowOptions {
  tpmPath?: string;
  /** True as PID 1 on the firmware: "power off" powers the machine off. */
  firmware: boolean;
  attestation?: AttestationProvider;
  /** The recovery shell; busybox sh by default. */
  shell?: string[];
  /** Opens the TPM some other way than a device file (swtpm over TCP in tests). */
  openTpm?: () => Promise<Tpm>;
}

/**
 * The owner's keyring and config.user from the ROM, measured into PCR 7 before use; the
 * config is read again since config.user may have come with them. Returns what went wrong.
 */
async function installRomFiles(ctx: FlowContext): Promise<string | null> {
  try {
    const flash = flashDevice(ctx.sys, ctx.config);
    if (!flash) return null;
    await loadUserFiles(ctx.sys, flash, ctx.tpm, userFilesPcr(ctx.config.CONFIG_PCR));
    ctx.config = readBoardConfig(ctx.sys);
    return null;
  } catch (error) {
    if (!(error instanceof FlashError || error instanceof CbfsError || error instanceof TpmError || error instanceof SysError)) throw error;
    return `${describeError(error)}\n\nThe keyring and settings kept in the ROM are not in use, so /boot cannot be verified with them. If an OEM factory reset was interrupted, run it again from Options.`;
  }
}

/** Builds the flow context: board config, the TPM (its failure is remembered, not thrown) and the boot measurement. */
export async function startFlows(sys: Sys, ui: FlowUi, options: BootFlowOptions): Promise<FlowContext> {
  const ctx: FlowContext = {
    sys,
    ui: liveTotpUi(ui, sys, () => ctx.attestation),
    config: readBoardConfig(sys),
    tpm: null,
    firmware: options.firmware,
    attestation: options.attestation,
    shell: options.shell ?? ["sh"],
  };
  try {
    ctx.tpm = await (options.openTpm ? options.openTpm() : openTpmDevice(sys, options.tpmPath));
  } catch (error) {
    ctx.tpmError = describeError(error);
  }
  ctx.romProblem = (await installRomFiles(ctx)) ?? undefined;
  if (ctx.tpm && !ctx.attestation) ctx.attestation = createAttestation(ctx.tpm, sys, ctx.config, options.firmware);
  return ctx;
}

/**
 * What gui-init shows once before its first main menu, in its order: why the ROM's files are
 * not in use, the TOTP/HOTP check, then, with `ownership`, the ownership screen. The TOTP/HOTP
 * status comes before any offer, so no note on /boot can lead the owner past it.
 */
export async function startupScreens(ctx: FlowContext, ownership: boolean): Promise<OwnershipOutcome> {
  if (ctx.romProblem) await ctx.ui.prompt.message({ title: "The settings in the ROM could not be used", text: ctx.romProblem, tone: "error" });
  await attestationAtStartup(ctx);
  return ownership ? ownershipAtStartup(ctx) : { kind: "menu", shown: null };
}

/** Runs the menus until the user chooses power off (or reboot from the error screen); the TPM is shut down on the way out. */
export async function runBootFlow(ctx: FlowContext): Promise<PowerChoice> {
  let checked = false;
  const choice = await guarded(ctx, async () => {
    // An error screen's "menu" goes straight back to the menu.
    if (checked) return mainMenu(ctx);
    checked = true;
    // Only as the firmware: from a shell on a host, "OEM reset" would clear the host's own TPM.
    const startup = await startupScreens(ctx, ctx.firmware);
    return startup.kind === "reboot" ? "reboot" : mainMenu(ctx, startup.shown);
  });
  const problem = await prepareForPowerChange(ctx);
  ctx.ui.close();
  if (problem) ctx.sys.console.writeError(`${problem}\n`);
  return choice;
}
