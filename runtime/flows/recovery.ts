// The recovery shell, as Heads' recovery(): refused under Restricted Boot; otherwise the
// secrets on tmpfs are destroyed and PCR 4 is extended with "recovery" first, so nothing
// sealed to a normal boot can be unsealed from the shell. When the shell exits, the menus return.
import { SECRET_DIR, wipeSecretDir } from "../platform/secrets.ts";
import { describeError } from "../errors.ts";
import type { FlowContext } from "./context.ts";
import { BOOT_PCR, extendPcr4 } from "../measure/pcr4.ts";

export type RecoveryOutcome =
  | { kind: "refused"; reason: string }
  | { kind: "shell"; status: number };

export function restrictedBoot(ctx: FlowContext): boolean {
  return ctx.config.CONFIG_RESTRICTED_BOOT === "y";
}

/** Red, on the console: booting or a shell without a TPM leaves no trace of it in any PCR. */
export function notMeasured(ctx: FlowContext): string {
  return `\x1b[1;31m!!! Nothing was measured: the TPM could not be opened (${ctx.tpmError ?? "no TPM"}), so PCR ${BOOT_PCR} was not extended.\x1b[0m`;
}

export async function recoveryShell(ctx: FlowContext, reason: string): Promise<RecoveryOutcome> {
  const prompt = ctx.ui.prompt;
  if (restrictedBoot(ctx)) {
    const why = "Restricted Boot is enabled (CONFIG_RESTRICTED_BOOT=y): the recovery shell is disabled.";
    await prompt.message({ title: "Recovery shell refused", text: why, tone: "error" });
    return { kind: "refused", reason: why };
  }
  try {
    wipeSecretDir(ctx.sys);
  } catch (error) {
    const why = `The secrets in ${SECRET_DIR} could not be removed (${describeError(error)}), so the shell stays closed.`;
    await prompt.message({ title: "Recovery shell refused", text: why, tone: "error" });
    return { kind: "refused", reason: why };
  }
  if (ctx.tpm) {
    try {
      await extendPcr4(ctx.tpm, "recovery");
    } catch (error) {
      // Without the extend, secrets sealed to this boot would be unsealable from the shell.
      const why = `PCR ${BOOT_PCR} could not be extended (${describeError(error)}), so the shell stays closed.`;
      await prompt.message({ title: "Recovery shell refused", text: why, tone: "error" });
      return { kind: "refused", reason: why };
    }
  }
  const status = await ctx.ui.suspend(async () => {
    const measured = ctx.tpm ? `!!! Recovery shell: PCR ${BOOT_PCR} is extended, TPM secrets cannot be unsealed until a reboot.` : notMeasured(ctx);
    ctx.sys.console.write(`\r\n!!! ${reason}\r\n${measured}\r\n!!! Type "exit" to return to the menu.\r\n\r\n`);
    try {
      const result = await ctx.sys.exec(ctx.shell, { inheritStdio: true, env: { PS1: "recovery# " } });
      return result.status;
    } catch (error) {
      ctx.sys.console.write(`The shell could not start: ${describeError(error)}\r\n`);
      return 127;
    }
  });
  return { kind: "shell", status };
}
