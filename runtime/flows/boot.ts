// The boot flow. For now (walking skeleton) it is the first screen: the TPM's version and
// PCRs 0–7, PCR 16 extended with a fixed string, and power off. The menus of gui-init
// replace it as the UI issue lands.
import type { Sys } from "../host/sys.ts";
import type { CommandContext } from "../cli/context.ts";
import { openTpmDevice } from "../tpm.ts";
import type { Tpm } from "../../tpm/index.ts";
import { toHex } from "../../tpm/bytes.ts";
import { readBoardConfig } from "../config/board.ts";
import { waitForChoice } from "./keys.ts";
import { VERSION } from "../version.ts";
import { describeError } from "../errors.ts";

/** What the skeleton extends into PCR 16 (the debug PCR: resettable, measured by nobody else). */
export const SKELETON_MEASUREMENT = "bootward walking skeleton";
export const SKELETON_PCR = 16;

export interface BootFlowOptions {
  root: string;
  tpmPath?: string;
  /** True as PID 1 on the firmware: "power off" powers the machine off. */
  firmware: boolean;
}

export async function firstScreen(sys: Sys, options: BootFlowOptions): Promise<"poweroff" | "reboot"> {
  const say = (line: string) => sys.console.write(line + "\r\n");
  const config = readBoardConfig(sys, options.root);
  say("");
  say(`bootward ${VERSION} on ${config.CONFIG_BOARD_NAME ?? config.CONFIG_BOARD ?? "an unknown board"}`);
  let tpm: Tpm | undefined;
  try {
    tpm = await openTpmDevice(sys, options.tpmPath);
    const info = await tpm.info();
    say(`TPM ${info.version} (manufacturer ${info.manufacturer}, firmware ${info.firmware})`);
    const pcrs = await tpm.pcrRead([0, 1, 2, 3, 4, 5, 6, 7]);
    const bank = tpm.version === "2.0" ? "sha256" : "sha1";
    for (const [index, value] of pcrs) say(`PCR ${String(index).padStart(2)} (${bank}): ${toHex(value)}`);
    const extended = await tpm.extend(SKELETON_PCR, SKELETON_MEASUREMENT);
    say(`PCR ${SKELETON_PCR} extended with "${SKELETON_MEASUREMENT}": ${toHex(extended)}`);
  } catch (error) {
    say(`TPM: ${describeError(error)}`);
  }
  say("");
  say(options.firmware ? "Press p to power off, r to reboot." : "Press p or r to leave (power off is PID 1's job).");
  const key = await waitForChoice(sys, ["p", "r"]);
  // An orderly TPM shutdown before the power goes: an unclean stop counts as a
  // dictionary-attack event and a few of them lock the TPM.
  if (tpm && options.firmware) await tpm.shutdown().catch((error) => say(`TPM shutdown: ${describeError(error)}`));
  return key === "r" ? "reboot" : "poweroff";
}

export async function menuCommand(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0) {
    const { UsageError } = await import("../cli/context.ts");
    throw new UsageError(`menu takes no arguments`);
  }
  await firstScreen(ctx.sys, { root: ctx.options.root, tpmPath: ctx.options.tpm, firmware: false });
  return 0;
}
