// The OEM factory reset as one wizard: warning → questions → TPM reset → new signing key in
// memory → its backup (an encrypted USB drive, or a protected file) → the public key into the
// firmware's keyring → /boot signed with a fresh rollback counter → a new TOTP secret sealed
// and its QR code shown → a summary of the secrets. Heads seals no TOTP during the reset;
// bootward does, so the owner leaves with everything set. Each step is noted in /boot first
// (pending.ts), so a power cut leaves a machine that says the reset is incomplete.
import { SysError } from "../../host/sys.ts";
import { generateSigningKey } from "../../../gpg/keygen.ts";
import { TrustDbError } from "../../../gpg/trustdb.ts";
import { ConfigError } from "../../config/parse.ts";
import { SignerError } from "../../../gpg/sign.ts";
import { TpmError } from "../../../tpm/errors.ts";
import { signBoot } from "../../boot/index.ts";
import { withWritableBoot } from "../../platform/boot-device.ts";
import { sealNewTotpSecret } from "../../attest/seal.ts";
import { enrolmentScreen } from "../../attest/enrol.ts";
import { flashDevice, FlashError, type FlashDevice } from "../../flash/device.ts";
import { CbfsError } from "../../flash/cbfs.ts";
import { describeError } from "../../errors.ts";
import { boardName, type FlowContext } from "../context.ts";
import { openBoot } from "../os-boot.ts";
import { isBootProblem } from "../boot-problems.ts";
import { askAnswers, TITLE, type Answers } from "./questions.ts";
import { clearMark, markStep, type ResetStep } from "../../ownership/pending.ts";
import { restartsAfter } from "./after.ts";
import { BackupDriveError, driveLabel } from "../../ownership/drive.ts";
import { installKeyring, keyCopyProblem, removeOldSignedSet, storeKeyringInRom, writeBackup, type KeyBackup } from "../../ownership/steps.ts";
import { usbDriveList } from "../../ownership/drive-list.ts";
import { PartitionError } from "../../ownership/partition.ts";
import { resetTpmAsking } from "../tpm-reset.ts";
import { KeyAlgorithmError, keyAlgorithm } from "../../ownership/rules.ts";

export type OemResetOutcome = "done" | "cancelled" | "failed";

function backupText(backup: KeyBackup | null): string {
  if (!backup) return "none; re-signing /boot needs a new OEM factory reset";
  if (backup.kind === "file") return `${backup.path} (protected by the signing key passphrase)`;
  return `the encrypted partition of ${driveLabel(backup.drive)} (opened with the signing key passphrase)`;
}

function summary(answers: Answers, fingerprint: string, totp: boolean, inRom: boolean, restart: boolean): string {
  return [
    "Write these down and keep them safe:",
    "",
    `TPM owner passphrase:    ${answers.tpmOwner}`,
    ...(answers.backup ? [`Signing key passphrase:  ${answers.keyPassphrase}`] : []),
    `Signing key:             ${answers.identity.name} <${answers.identity.email}>`,
    `Fingerprint:             ${fingerprint}`,
    `Secret key backup:       ${backupText(answers.backup)}`,
    "",
    totp ? "The TOTP secret is sealed: your authenticator app shows the code the header shows." : "No TOTP secret was sealed (see the message before this one).",
    "/boot is signed with the new key; its default entry is the first one.",
    inRom ? "Your public key is stored in the ROM." : "This board has no ROM bootward can write: the new keyring lasts until power off. Add your public key to the firmware image before rebooting.",
    ...(restart ? ["", "Press Enter to restart: the next boot measures the new ROM and shows your TOTP code."] : []),
  ].join("\n");
}

export async function oemResetWizard(ctx: FlowContext): Promise<OemResetOutcome> {
  const prompt = ctx.ui.prompt;
  const fail = async (what: string, error: unknown): Promise<OemResetOutcome> => {
    await prompt.message({ title: TITLE, text: `${what}: ${describeError(error)}\n\nRun the OEM factory reset again to finish taking ownership.`, tone: "error" });
    return "failed";
  };
  if (!ctx.tpm) {
    await prompt.message({ title: TITLE, text: `The OEM factory reset needs the TPM, which is not available (${ctx.tpmError ?? "no TPM"}).`, tone: "error" });
    return "failed";
  }
  const tpm = ctx.tpm;
  let algorithm;
  try {
    algorithm = keyAlgorithm(ctx.config.CONFIG_GPG_ALGO);
  } catch (error) {
    if (!(error instanceof KeyAlgorithmError)) throw error;
    return fail("The configuration cannot be used", error);
  }
  const go = await prompt.confirm({
    title: TITLE,
    text: "This takes ownership of the machine for you: the TPM is cleared (every secret sealed in it is lost), a new signing key is made, /boot is signed with it and a new TOTP secret is sealed. Continue?",
  });
  if (!go) return "cancelled";
  const answers = await askAnswers(prompt, ctx.sys.now(), { checkPath: (path) => keyCopyProblem(ctx.sys, path), drives: usbDriveList(ctx.sys) });
  if (!answers) return "cancelled";
  const bootDir = await openBoot(ctx);
  if (!bootDir) return "failed";
  let flash: FlashDevice | null;
  try {
    flash = flashDevice(ctx.sys, ctx.config);
  } catch (error) {
    if (!(error instanceof FlashError)) throw error;
    return fail("The ROM cannot be reached", error);
  }

  // Every step is noted in /boot before it starts; a note that cannot be written stops the reset there.
  const mark = async (step: ResetStep): Promise<boolean> => {
    try {
      await markStep(ctx.sys, ctx.firmware, bootDir, step);
      return true;
    } catch (error) {
      if (!isBootProblem(error)) throw error;
      await fail("/boot could not be written", error);
      return false;
    }
  };

  if (!(await mark("tpm"))) return "failed";
  try {
    await resetTpmAsking(ctx, tpm, answers.tpmOwner, TITLE);
  } catch (error) {
    if (!(error instanceof TpmError)) throw error;
    return fail("The TPM could not be reset", error);
  }
  if (!(await mark("key"))) return "failed";
  const progress = prompt.progress(`Generating the ${algorithm} signing key`);
  let key;
  let nextBoot: Map<number, Uint8Array> | undefined;
  try {
    try {
      key = await generateSigningKey(answers.identity, algorithm, new Date(ctx.sys.now()));
    } catch (error) {
      if (!(error instanceof SignerError)) throw error;
      return await fail("The signing key could not be made", error);
    }
    if (answers.backup) {
      if (!(await mark("backup"))) return "failed";
      const where = answers.backup.kind === "file" ? answers.backup.path : driveLabel(answers.backup.drive);
      progress.update(null, `Writing the key backup to ${where}`);
      try {
        await writeBackup(ctx.sys, answers.backup, key, answers.keyPassphrase);
      } catch (error) {
        if (!(error instanceof SysError || error instanceof BackupDriveError || error instanceof PartitionError || error instanceof SignerError)) throw error;
        return await fail(`The key backup could not be written to ${where}`, error);
      }
    }
    installKeyring(ctx.sys, key.binaryPublic);
    if (flash) {
      if (!(await mark("rom"))) return "failed";
      progress.update(null, `Writing the keyring to the ROM (${flash.name})`);
      try {
        nextBoot = await storeKeyringInRom(ctx, flash, tpm, key, answers.backup);
        // The ROM now holds what the reset wrote; whatever was wrong with it at startup is gone.
        delete ctx.romProblem;
      } catch (error) {
        if (!(error instanceof FlashError || error instanceof CbfsError || error instanceof ConfigError || error instanceof TrustDbError)) throw error;
        return await fail("The keyring could not be written to the ROM", error);
      }
    }
    if (!(await mark("sign"))) return "failed";
    progress.update(null, "Signing /boot");
    try {
      const signer = key.signer;
      try {
        await withWritableBoot(ctx.sys, ctx.firmware, async () => {
          removeOldSignedSet(ctx.sys, bootDir);
          await signBoot(ctx.sys, { bootDir, signer, tpm, ownerPassphrase: answers.tpmOwner, defaultIndex: 1 });
        });
      } finally {
        // The private key is not needed after /boot is signed (the backup drive holds it, protected).
        signer.forget();
      }
    } catch (error) {
      if (!isBootProblem(error)) throw error;
      return await fail("/boot could not be signed", error);
    }
  } finally {
    progress.done();
  }

  if (!(await mark("totp"))) return "failed";
  let sealed: Awaited<ReturnType<typeof sealNewTotpSecret>> | null = null;
  try {
    sealed = await sealNewTotpSecret(tpm, ctx.sys, { ownerPassphrase: answers.tpmOwner, boardName: boardName(ctx.config), ...(nextBoot ? { nextBoot } : {}) });
  } catch (error) {
    if (!(error instanceof TpmError)) throw error;
    await prompt.message({ title: TITLE, text: `The TOTP secret could not be sealed: ${describeError(error)}\n\nGenerate it later from Options, TPM/TOTP/HOTP Options.`, tone: "warning" });
  }
  try {
    // Everything that changes the machine is done: from here a power cut leaves the new owner's machine.
    await clearMark(ctx.sys, ctx.firmware, bootDir);
    if (sealed) await prompt.showQr(enrolmentScreen(sealed.enrolment, ctx.sys.now()));
  } catch (error) {
    if (!isBootProblem(error)) throw error;
    return await fail("/boot could not be written", error);
  } finally {
    sealed?.secret.fill(0);
  }
  await prompt.message({ title: `${TITLE}: done`, text: summary(answers, key.fingerprint, sealed !== null, flash !== null, restartsAfter(ctx, "done")), tone: "success" });
  return "done";
}
