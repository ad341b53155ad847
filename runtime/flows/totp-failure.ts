// gui-init's step 5: when the sealed secret does not unseal at startup, a red header and
// Heads' menu (generate / reset the TPM / ignore / recovery) that says why: which PCR moved
// and which measured component the event log shows in it.
import { failureWords } from "../attest/provider.ts";
import { boardName, type FlowContext } from "./context.ts";
import { recoveryShell } from "./recovery.ts";
import { generateSecret, resetTpm } from "./tpm-options.ts";

type FailureChoice = "generate" | "reset" | "ignore" | "recovery";

/** Runs before the main menu; returns when the user chose a way on (or nothing failed). */
export async function attestationAtStartup(ctx: FlowContext): Promise<void> {
  const provider = ctx.attestation;
  if (!provider?.failure) return;
  try {
    await provider.status();
  } catch {
    // The main menu reads it again and shows the error in the header.
    return;
  }
  for (let failure = provider.failure(); failure; failure = provider.failure()) {
    const prompt = ctx.ui.prompt;
    prompt.setStatus({ board: boardName(ctx.config), integrity: "tampered", reason: failureWords(failure), totp: { error: failureWords(failure) } });
    const moved = failure.pcrs.length > 0 ? ` because PCR ${failure.pcrs.join(", ")} moved` : "";
    const choice = await prompt.menu<FailureChoice>({
      title: "ERROR: the TOTP/HOTP secret did not unseal",
      text: [
        `No TOTP/HOTP code: the TPM refused to unseal the secret${moved}.`,
        ...failure.explanation,
        "",
        "If you just updated the firmware or changed its settings or keys, generate a new secret. If you did not, do not trust this machine: the firmware may have been tampered with.",
      ].join("\n"),
      items: [
        { key: "g", label: "Generate new TOTP/HOTP secret", value: "generate" },
        { key: "p", label: "Reset the TPM", value: "reset" },
        { key: "i", label: "Ignore error and continue to main menu", value: "ignore" },
        { key: "x", label: "Exit to recovery shell", value: "recovery" },
      ],
    });
    switch (choice) {
      case "generate":
        if (await generateSecret(ctx)) return;
        break;
      case "reset":
        if (await resetTpm(ctx)) return;
        break;
      case "ignore":
        return;
      case "recovery":
        await recoveryShell(ctx, "The TOTP/HOTP secret did not unseal");
        return;
      case "back":
        break;
    }
    await provider.status();
  }
}
