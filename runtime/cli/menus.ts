// `bootward menu` and `bootward oem-reset`: the firmware's screens on the console from a shell
// (--root/--tpm for fixtures), never as PID 1.
import { UsageError, type CommandContext } from "./context.ts";
import { runBootFlow, startFlows } from "../flows/boot.ts";
import { oemResetWizard } from "../flows/oem-reset/wizard.ts";

async function consoleFlows(ctx: CommandContext) {
  const { createConsoleUi } = await import("../flows/console-ui.ts");
  const ui = createConsoleUi(ctx.sys);
  return { ui, flows: await startFlows(ctx.sys, ui, { tpmPath: ctx.options.tpm, firmware: false }) };
}

export async function menuCommand(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0) throw new UsageError("menu takes no arguments");
  const { flows } = await consoleFlows(ctx);
  await runBootFlow(flows);
  return 0;
}

export async function oemResetCommand(args: string[], ctx: CommandContext): Promise<number> {
  if (args.length > 0) throw new UsageError("oem-reset takes no arguments");
  const { ui, flows } = await consoleFlows(ctx);
  try {
    return (await oemResetWizard(flows)) === "done" ? 0 : 1;
  } finally {
    flows.tpm?.close();
    ui.close();
  }
}
