// `bootward oem-reset`: the wizard on the console from a shell (--root/--tpm for fixtures).
import type { CommandContext } from "../../cli/context.ts";
import { UsageError } from "../../cli/context.ts";
import { startFlows } from "../boot.ts";
import { oemResetWizard } from "./wizard.ts";

export async function oemResetCommand(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0) throw new UsageError("oem-reset takes no arguments");
  const { createConsoleUi } = await import("../console-ui.ts");
  const ui = createConsoleUi(ctx.sys);
  const flows = await startFlows(ctx.sys, ui, { root: ctx.options.root, tpmPath: ctx.options.tpm, firmware: false });
  try {
    return (await oemResetWizard(flows)) === "done" ? 0 : 1;
  } finally {
    flows.tpm?.close();
    ui.close();
  }
}
