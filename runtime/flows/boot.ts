// The boot flow: open the TPM, measure, then gui-init's main menu until the user powers
// off. As PID 1 it is the firmware's UI; `bootward menu` runs the same flow from a shell.
import type { Sys } from "../host/sys.ts";
import type { CommandContext } from "../cli/context.ts";
import { UsageError } from "../cli/context.ts";
import { openTpmDevice } from "../tpm.ts";
import { readBoardConfig } from "../config/board.ts";
import { describeError } from "../errors.ts";
import type { Tpm } from "../../tpm/index.ts";
import type { AttestationProvider, FlowContext, FlowUi } from "./context.ts";
import { guarded } from "./error-screen.ts";
import { mainMenu } from "./main-menu.ts";
import { measureBoot } from "./measurement.ts";
import { prepareForPowerChange, type PowerChoice } from "./power.ts";

export { SKELETON_MEASUREMENT, SKELETON_PCR } from "./measurement.ts";

export interface BootFlowOptions {
  root: string;
  tpmPath?: string;
  /** True as PID 1 on the firmware: "power off" powers the machine off. */
  firmware: boolean;
  attestation?: AttestationProvider;
  /** The recovery shell; busybox sh by default. */
  shell?: string[];
  /** Opens the TPM some other way than a device file (swtpm over TCP in tests). */
  openTpm?: () => Promise<Tpm>;
}

/** Builds the flow context: board config, the TPM (its failure is remembered, not thrown) and the boot measurement. */
export async function startFlows(sys: Sys, ui: FlowUi, options: BootFlowOptions): Promise<FlowContext> {
  const ctx: FlowContext = {
    sys,
    ui,
    root: options.root,
    config: readBoardConfig(sys, options.root),
    tpm: null,
    firmware: options.firmware,
    attestation: options.attestation,
    shell: options.shell ?? ["sh"],
  };
  try {
    ctx.tpm = await (options.openTpm ? options.openTpm() : openTpmDevice(sys, options.tpmPath));
    await measureBoot(ctx.tpm);
  } catch (error) {
    ctx.tpmError = describeError(error);
  }
  return ctx;
}

/** Runs the menus until the user chooses power off (or reboot from the error screen); the TPM is shut down on the way out. */
export async function runBootFlow(ctx: FlowContext): Promise<PowerChoice> {
  const choice = await guarded(ctx, () => mainMenu(ctx));
  const problem = await prepareForPowerChange(ctx);
  ctx.ui.close();
  if (problem) ctx.sys.console.writeError(`${problem}\n`);
  return choice;
}

export async function menuCommand(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0) throw new UsageError(`menu takes no arguments`);
  const { createConsoleUi } = await import("./console-ui.ts");
  const ui = createConsoleUi(ctx.sys);
  const flows = await startFlows(ctx.sys, ui, { root: ctx.options.root, tpmPath: ctx.options.tpm, firmware: false });
  await runBootFlow(flows);
  return 0;
}
