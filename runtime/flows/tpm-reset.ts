// Clearing and taking ownership of the TPM, for "Reset the TPM" and the OEM factory reset.
// Where the platform hierarchy is locked (SeaBIOS, or a finalize earlier in this boot) and
// the TPM already has an owner, clearing needs the current owner passphrase: it is asked.
import { TpmClearAuthError, type Secret, type Tpm } from "../../tpm/index.ts";
import type { FlowContext } from "./context.ts";

export async function resetTpmAsking(ctx: FlowContext, tpm: Tpm, ownerPassphrase: Secret, title: string): Promise<void> {
  const options = { ownerPassphrase, primaryKeyType: ctx.config.CONFIG_PRIMARY_KEY_TYPE === "ecc" ? ("ecc" as const) : ("rsa" as const) };
  try {
    await tpm.reset(options);
  } catch (error) {
    if (!(error instanceof TpmClearAuthError)) throw error;
    const current = await ctx.ui.prompt.password({ title, label: "Current TPM owner passphrase (the TPM can only be cleared with it here)" });
    if (current === null) throw error;
    try {
      await tpm.reset({ ...options, currentOwnerPassphrase: current });
    } finally {
      current.fill(0);
    }
  }
}
