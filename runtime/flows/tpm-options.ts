// Heads' TPM/TOTP/HOTP Options: generate a new secret (gated by an integrity check of /boot
// after a failure, Heads §3.6), reset the TPM, and mismatch troubleshooting.
import { TpmError } from "../../tpm/index.ts";
import { describeError } from "../errors.ts";
import { sealNewTotpSecret, type TotpSealResult } from "../attest/seal.ts";
import { programDongle } from "../attest/hotp.ts";
import { failureWords, type UnsealFailure } from "../attest/provider.ts";
import { SEALED_PCRS } from "../attest/constants.ts";
import { boardName, type FlowContext } from "./context.ts";
import { boardDongle, markAttestationChanged, onWritableBoot } from "./attestation.ts";
import { timeTroubleshooting } from "./clock.ts";
import { enrol } from "./enrol.ts";
import { resetTpmAsking } from "./tpm-reset.ts";
import { askNewPassphrase } from "./new-passphrase.ts";
import { isBootProblem } from "./boot-problems.ts";
import { ROLLBACK_FILE } from "../boot/index.ts";

type TpmChoice = "generate" | "reset" | "troubleshoot" | "disk" | "back";

export async function tpmOptionsMenu(ctx: FlowContext): Promise<void> {
  for (;;) {
    const choice = await ctx.ui.prompt.menu<TpmChoice>({
      title: "TPM/TOTP/HOTP Options",
      items: [
        { key: "g", label: "Generate new TOTP/HOTP secret", value: "generate" },
        { key: "r", label: "Reset the TPM", value: "reset" },
        { key: "t", label: "TOTP/HOTP does not match after refresh, troubleshoot", value: "troubleshoot" },
        { key: "d", label: "Set up or reseal the disk unlock key (then sign /boot)", value: "disk" },
        { key: "m", label: "<-- Return to the Options menu", value: "back" },
      ],
      allowBack: true,
    });
    if (choice === "back") return;
    if (choice === "generate") await generateSecret(ctx);
    else if (choice === "reset") await resetTpm(ctx);
    else if (choice === "disk") await (await import("./sign-boot.ts")).signBootFlow(ctx, { diskKey: true });
    else await timeTroubleshooting(ctx);
  }
}

async function noTpm(ctx: FlowContext, title: string): Promise<false> {
  await ctx.ui.prompt.message({ title, text: `There is no TPM to work with: ${ctx.tpmError ?? "none was opened"}.`, tone: "error" });
  return false;
}

/** After a failure, a new secret is only sealed over a /boot that verifies and with the user's word that the change was theirs. */
async function integrityGate(ctx: FlowContext, failure: UnsealFailure): Promise<boolean> {
  const prompt = ctx.ui.prompt;
  // The verifier brings openpgp: loaded only when a gate is really passed.
  const problem = await (await import("./os-boot.ts")).bootVerifyProblem(ctx);
  const report = [`The secret stopped unsealing (${failureWords(failure)}).`, ...failure.explanation, "", problem ? `/boot: ${problem}` : "/boot: the signature and every file's hash verify."];
  if (problem) {
    await prompt.message({
      title: "Generating a new secret is refused",
      text: [...report, "", "Sealing a new secret now would vouch for firmware nobody checked. Sign /boot with your key first (Options → Update checksums and sign), or investigate the change."].join("\n"),
      tone: "error",
    });
    return false;
  }
  return prompt.confirm({
    title: "Integrity report",
    text: [...report, "", "Seal a new secret to the firmware as it is now? Do so only if you made the change yourself."].join("\n"),
    defaultYes: false,
  });
}

export interface GenerateOptions {
  /** Already known (right after Reset the TPM): not asked again. */
  ownerPassphrase?: Uint8Array;
  /** Right after Reset the TPM the old failure is moot: no gate. */
  afterReset?: boolean;
}

/** "Generate new TOTP/HOTP secret"; true when a new secret is sealed and shown. */
export async function generateSecret(ctx: FlowContext, options: GenerateOptions = {}): Promise<boolean> {
  const title = "Generate new TOTP/HOTP secret";
  const tpm = ctx.tpm;
  if (!tpm) return noTpm(ctx, title);
  const failure = options.afterReset ? null : (ctx.attestation?.failure?.() ?? null);
  if (failure && !(await integrityGate(ctx, failure))) return false;
  const prompt = ctx.ui.prompt;
  let asked: Uint8Array | null = null;
  if (!options.ownerPassphrase) {
    asked = await prompt.password({ title, label: "TPM owner passphrase (empty if none was set)" });
    if (asked === null) return false;
  }
  const owner = options.ownerPassphrase ?? asked!;
  const progress = prompt.progress("Sealing a new TOTP/HOTP secret to the firmware's measurements");
  let result: TotpSealResult;
  try {
    result = await sealNewTotpSecret(tpm, ctx.sys, { ownerPassphrase: owner.length > 0 ? owner : undefined, boardName: boardName(ctx.config) });
  } catch (error) {
    progress.done();
    if (!(error instanceof TpmError)) throw error;
    await prompt.message({
      title: "No new secret",
      text: `${describeError(error)}\nIf the TPM has no owner yet, reset it first (TPM/TOTP/HOTP Options → Reset the TPM).`,
      tone: "error",
    });
    return false;
  } finally {
    asked?.fill(0);
  }
  progress.done();
  markAttestationChanged(ctx);
  try {
    await enrol(ctx, result.enrolment, result.secret);
    await programBoardDongle(ctx, result.secret);
  } finally {
    result.secret.fill(0);
  }
  const notes = [`Sealed to PCRs ${SEALED_PCRS.join(", ")} as they are now (PCR 4 at its value before the boot runtime extends it).`];
  if (result.proof === "binding") notes.push("PCR 4 was already extended in this boot: the code appears after a reboot.");
  if (result.recordProblem) notes.push(`The PCR values were not recorded (${result.recordProblem}): a later failure cannot name the PCR that moved.`);
  await prompt.message({ title: "New TOTP/HOTP secret sealed", text: notes.join("\n"), tone: "success" });
  return true;
}

async function programBoardDongle(ctx: FlowContext, secret: Uint8Array): Promise<void> {
  const dongle = boardDongle(ctx.sys, ctx.config);
  if (!dongle) return;
  const prompt = ctx.ui.prompt;
  const pin = await prompt.password({ title: "Program the HOTP dongle", label: `${dongle.name} Admin PIN (empty to skip)` });
  if (pin === null || pin.length === 0) {
    pin?.fill(0);
    await prompt.message({ title: "HOTP dongle not programmed", text: "The dongle keeps its old secret: its check will fail until you generate a new secret again.", tone: "warning" });
    return;
  }
  try {
    const answer = await onWritableBoot(ctx.sys, ctx.config, ctx.firmware, () => programDongle(secret, dongle, pin, ctx.sys));
    const ok = answer.result === "Success";
    await prompt.message({ title: ok ? "HOTP dongle programmed" : "HOTP dongle not programmed", text: ok ? "The dongle now checks codes from the new secret." : `${answer.result}: ${answer.detail}`, tone: ok ? "success" : "error" });
  } catch (error) {
    await prompt.message({ title: "HOTP dongle not programmed", text: describeError(error), tone: "error" });
  } finally {
    pin.fill(0);
  }
}

/** Asks for a new owner passphrase twice until both agree; null when cancelled. */
function newOwnerPassphrase(ctx: FlowContext): Promise<Uint8Array | null> {
  return askNewPassphrase(ctx.ui.prompt, {
    title: "Reset the TPM",
    what: "TPM owner passphrase",
    min: 1,
    max: 32,
    validate: (v) => (v.length >= 1 && v.length <= 32 ? null : "The owner passphrase has 1 to 32 bytes."),
  });
}

/** Heads' "Reset the TPM": clear it, take ownership with a new passphrase, then generate a new secret. */
export async function resetTpm(ctx: FlowContext): Promise<boolean> {
  const title = "Reset the TPM";
  const tpm = ctx.tpm;
  if (!tpm) return noTpm(ctx, title);
  const prompt = ctx.ui.prompt;
  const go = await prompt.confirm({
    title,
    text: "Clearing the TPM destroys everything sealed in it: the TOTP/HOTP secret, the disk unlock key and the /boot rollback counter. Afterwards a new secret is generated here, and /boot must be signed again (Options → Update checksums and sign). Reset the TPM?",
    defaultYes: false,
  });
  if (!go) return false;
  const owner = await newOwnerPassphrase(ctx);
  if (!owner) return false;
  try {
    const progress = prompt.progress("Clearing the TPM and creating its storage key");
    try {
      await resetTpmAsking(ctx, tpm, owner, title);
      progress.done();
    } catch (error) {
      progress.done();
      if (!(error instanceof TpmError)) throw error;
      await prompt.message({ title: "The TPM was not reset", text: describeError(error), tone: "error" });
      return false;
    }
    markAttestationChanged(ctx);
    await forgetRollbackFile(ctx);
    return await generateSecret(ctx, { ownerPassphrase: owner, afterReset: true });
  } finally {
    owner.fill(0);
  }
}

/**
 * The counter /boot/kexec_rollback.txt names went with the reset. As Heads' reset_tpm, the
 * file goes too, so the next "Update checksums and sign" creates a new counter instead of
 * failing to read the old one. Without a /boot there is nothing to forget: the signing flow
 * says what to do should the file turn up later.
 */
async function forgetRollbackFile(ctx: FlowContext): Promise<void> {
  try {
    await onWritableBoot(ctx.sys, ctx.config, ctx.firmware, async () => {
      const file = `/boot/${ROLLBACK_FILE}`;
      if (ctx.sys.stat(file)) ctx.sys.remove(file);
    });
  } catch (error) {
    if (!isBootProblem(error)) throw error;
  }
}
