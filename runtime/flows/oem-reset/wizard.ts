// The OEM factory reset as one wizard: warning → questions → TPM reset → new signing key in
// memory → the public key into the firmware's keyring → /boot signed with a fresh rollback
// counter → a new TOTP secret sealed and its QR code shown → a summary of the secrets.
// Heads seals no TOTP during the reset; bootward does, so the owner leaves with everything set.
import { SysError, type Sys } from "../../host/sys.ts";
import { generateSigningKey } from "../../../gpg/keygen.ts";
import { SignerError } from "../../../gpg/sign.ts";
import { TpmError } from "../../../tpm/errors.ts";
import { isSignedListName, signBoot, SIGNATURE_FILE, STAGING_DIR } from "../../boot/index.ts";
import { withWritableBoot } from "../../boot/device.ts";
import { ROM_KEYRINGS } from "../../boot/keyring.ts";
import { sealNewTotpSecret } from "../../attest/seal.ts";
import { enrolmentScreen } from "../../attest/enrol.ts";
import { resolvePath } from "../../paths.ts";
import { flashDevice, FlashError, type FlashDevice } from "../../flash/device.ts";
import { CbfsError } from "../../flash/cbfs.ts";
import { userFiles, withUserFiles } from "../../flash/user-files.ts";
import { futureUserFilesPcr, userFilesPcr } from "../../measure/user-files.ts";
import { pcrHashOf, readEventLog } from "../../attest/eventlog.ts";
import type { Tpm } from "../../../tpm/index.ts";
import { describeError } from "../../errors.ts";
import { boardName, type FlowContext } from "../context.ts";
import { openBoot } from "../os-boot.ts";
import { isBootProblem } from "../boot-problems.ts";
import { askAnswers, TITLE, type Answers } from "./questions.ts";
import { resetTpmAsking } from "../tpm-reset.ts";
import { KeyAlgorithmError, keyAlgorithm } from "./rules.ts";

export type OemResetOutcome = "done" | "cancelled" | "failed";

/** GnuPG's binary keyring, which Heads' gpg reads too; the reset replaces whatever keyring was there. */
const KEYRING = "/.gnupg/pubring.gpg";

/** Heads' generate_checksums starts from nothing: every kexec* file of the old owner goes. */
function removeOldSignedSet(sys: Sys, bootDir: string): void {
  for (const name of sys.readdir(bootDir)) {
    if (isSignedListName(name) || name === SIGNATURE_FILE || name === STAGING_DIR) removeTree(sys, `${bootDir}/${name}`);
  }
}

function removeTree(sys: Sys, path: string): void {
  if (sys.stat(path)?.kind === "dir") for (const name of sys.readdir(path)) removeTree(sys, `${path}/${name}`);
  sys.remove(path);
}

function installKeyring(ctx: FlowContext, publicKey: Uint8Array): void {
  const dir = resolvePath(ctx.root, "/.gnupg");
  if (!ctx.sys.stat(dir)) ctx.sys.mkdir(dir, 0o700);
  // Older keyrings would be read first and still trust the previous owner.
  for (const old of ROM_KEYRINGS) if (old !== KEYRING && ctx.sys.stat(resolvePath(ctx.root, old))) ctx.sys.remove(resolvePath(ctx.root, old));
  const path = resolvePath(ctx.root, KEYRING);
  ctx.sys.writeFile(`${path}.tmp`, publicKey, 0o644);
  ctx.sys.rename(`${path}.tmp`, path);
}

function keyCopyProblem(ctx: FlowContext, path: string): string | null {
  if (!path.startsWith("/") || path.endsWith("/")) return "Give the full path of a file, such as /media/privkey.sec.";
  const full = resolvePath(ctx.root, path);
  if (ctx.sys.stat(full.slice(0, full.lastIndexOf("/")) || "/")?.kind !== "dir") return `${path.slice(0, path.lastIndexOf("/")) || "/"} is not a directory; mount the USB drive there first.`;
  if (ctx.sys.stat(full)) return `${path} already exists; choose another name so no key is overwritten.`;
  return null;
}

/**
 * Replaces the keyring among the ROM's user files and writes the image; returns the PCR 7
 * value the next boot will measure, which the TOTP secret is sealed to.
 */
async function storeKeyringInRom(ctx: FlowContext, flash: FlashDevice, tpm: Tpm, publicKey: Uint8Array): Promise<Map<number, Uint8Array>> {
  const current = await flash.read();
  // As Heads' reset: heads/* is rewritten with the new keyring, and the owner's settings carried over.
  const kept = [...userFiles(current)].filter((f) => !f.path.startsWith("/.gnupg/"));
  const image = withUserFiles(current, [...kept, { path: KEYRING, data: publicKey }]);
  await flash.write(image);
  const pcr = userFilesPcr(ctx.config.CONFIG_PCR);
  return new Map([[pcr, futureUserFilesPcr(readEventLog(ctx.sys, ctx.root).log, pcrHashOf(tpm.pcrSize), [...userFiles(image)], pcr)]]);
}

function summary(answers: Answers, fingerprint: string, totp: boolean, inRom: boolean): string {
  return [
    "Write these down and keep them safe:",
    "",
    `TPM owner passphrase:    ${answers.tpmOwner}`,
    ...(answers.keyCopy ? [`Signing key passphrase:  ${answers.keyPassphrase}`] : []),
    `Signing key:             ${answers.identity.name} <${answers.identity.email}>`,
    `Fingerprint:             ${fingerprint}`,
    answers.keyCopy ? `Secret key copy:         ${answers.keyCopy} (protected by the signing key passphrase)` : "Secret key copy:         none; re-signing /boot needs a new OEM factory reset",
    "",
    totp ? "The TOTP secret is sealed: your authenticator app shows the code the header shows." : "No TOTP secret was sealed (see the message before this one).",
    "/boot is signed with the new key; its default entry is the first one.",
    inRom ? "Your public key is stored in the ROM." : "This board has no ROM bootward can write: the new keyring lasts until power off. Add your public key to the firmware image before rebooting.",
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
  const answers = await askAnswers(prompt, ctx.sys.now(), (path) => keyCopyProblem(ctx, path));
  if (!answers) return "cancelled";
  const bootDir = await openBoot(ctx);
  if (!bootDir) return "failed";
  let flash: FlashDevice | null;
  try {
    flash = flashDevice(ctx.sys, ctx.config, ctx.root);
  } catch (error) {
    if (!(error instanceof FlashError)) throw error;
    return fail("The ROM cannot be reached", error);
  }

  try {
    await resetTpmAsking(ctx, tpm, answers.tpmOwner, TITLE);
  } catch (error) {
    if (!(error instanceof TpmError)) throw error;
    return fail("The TPM could not be reset", error);
  }
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
    if (answers.keyCopy) {
      try {
        progress.update(null, `Writing the protected secret key copy to ${answers.keyCopy}`);
        ctx.sys.writeFile(resolvePath(ctx.root, answers.keyCopy), await key.protectedSecret(answers.keyPassphrase), 0o600);
      } catch (error) {
        if (!(error instanceof SysError)) throw error;
        return await fail(`The secret key copy could not be written to ${answers.keyCopy}`, error);
      }
    }
    installKeyring(ctx, key.binaryPublic);
    if (flash) {
      progress.update(null, `Writing the keyring to the ROM (${flash.name})`);
      try {
        nextBoot = await storeKeyringInRom(ctx, flash, tpm, key.binaryPublic);
      } catch (error) {
        if (!(error instanceof FlashError || error instanceof CbfsError)) throw error;
        return await fail("The keyring could not be written to the ROM", error);
      }
    }
    progress.update(null, "Signing /boot");
    try {
      const signer = key.signer;
      await withWritableBoot(ctx.sys, ctx.firmware, async () => {
        removeOldSignedSet(ctx.sys, bootDir);
        await signBoot(ctx.sys, { bootDir, signer, tpm, ownerPassphrase: answers.tpmOwner, defaultIndex: 1 });
      });
    } catch (error) {
      if (!isBootProblem(error)) throw error;
      return await fail("/boot could not be signed", error);
    }
  } finally {
    progress.done();
  }

  let sealed = false;
  try {
    const result = await sealNewTotpSecret(tpm, ctx.sys, { ownerPassphrase: answers.tpmOwner, boardName: boardName(ctx.config), root: ctx.root, ...(nextBoot ? { nextBoot } : {}) });
    try {
      await prompt.showQr(enrolmentScreen(result.enrolment, ctx.sys.now()));
    } finally {
      result.secret.fill(0);
    }
    sealed = true;
  } catch (error) {
    if (!(error instanceof TpmError)) throw error;
    await prompt.message({ title: TITLE, text: `The TOTP secret could not be sealed: ${describeError(error)}\n\nGenerate it later from Options, TPM/TOTP/HOTP Options.`, tone: "warning" });
  }
  await prompt.message({ title: `${TITLE}: done`, text: summary(answers, key.fingerprint, sealed, flash !== null), tone: "success" });
  return "done";
}
