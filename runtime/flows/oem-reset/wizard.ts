// The OEM factory reset as one wizard: warning → questions → TPM reset → new signing key in
// memory → its backup (an encrypted USB drive, or a protected file) → the public key into the
// firmware's keyring → /boot signed with a fresh rollback counter → a new TOTP secret sealed
// and its QR code shown → a summary of the secrets. Heads seals no TOTP during the reset;
// bootward does, so the owner leaves with everything set. Each step is noted in /boot first
// (pending.ts), so a power cut leaves a machine that says the reset is incomplete.
import { SysError, type Sys } from "../../host/sys.ts";
import { generateSigningKey, type NewKey } from "../../../gpg/keygen.ts";
import { TrustDbError, ultimateTrustDb } from "../../../gpg/trustdb.ts";
import { ConfigError } from "../../config/parse.ts";
import { withUserSettings } from "../../config/user.ts";
import { SignerError } from "../../../gpg/sign.ts";
import { TpmError } from "../../../tpm/errors.ts";
import { fromHex } from "../../../lib/bytes.ts";
import { isSignedListName, signBoot, SIGNATURE_FILE, STAGING_DIR } from "../../boot/index.ts";
import { withWritableBoot } from "../../platform/boot-device.ts";
import { ROM_KEYRINGS } from "../../boot/integrity/keyring.ts";
import { sealNewTotpSecret } from "../../attest/seal.ts";
import { enrolmentScreen } from "../../attest/enrol.ts";
import { resolvePath } from "../../paths.ts";
import { flashDevice, FlashError, type FlashDevice } from "../../flash/device.ts";
import { CbfsError } from "../../flash/cbfs.ts";
import { userFiles, withUserFiles } from "../../flash/user-files.ts";
import { futureUserFilesPcr, userFilesPcr } from "../../measure/user-files.ts";
import { pcrHashOf, readEventLog } from "../../sealing/eventlog.ts";
import type { Tpm } from "../../../tpm/index.ts";
import { describeError } from "../../errors.ts";
import { boardName, type FlowContext } from "../context.ts";
import { openBoot } from "../os-boot.ts";
import { isBootProblem } from "../boot-problems.ts";
import { askAnswers, TITLE, type Answers, type KeyBackup } from "./questions.ts";
import { clearMark, markStep, type ResetStep } from "../../ownership/pending.ts";
import { restartsAfter } from "./after.ts";
import { BackupDriveError, driveLabel, formatBackupDrive } from "../../ownership/drive.ts";
import { usbDriveList } from "../../ownership/drive-list.ts";
import { PartitionError } from "../../ownership/partition.ts";
import { resetTpmAsking } from "../tpm-reset.ts";
import { KeyAlgorithmError, keyAlgorithm } from "../../ownership/rules.ts";

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

const TRUSTDB = "/.gnupg/trustdb.gpg";
const CONFIG_USER = "/etc/config.user";

/** The device /boot is mounted from, which Heads' reset keeps as CONFIG_BOOT_DEV. */
function bootDevice(ctx: FlowContext): string | null {
  const mounts = resolvePath(ctx.root, "/proc/mounts");
  if (!ctx.firmware || !ctx.sys.stat(mounts)) return null;
  const line = ctx.sys.readText(mounts).split("\n").find((l) => l.split(" ")[1] === "/boot");
  return line?.split(" ")[0] ?? null;
}

/** The owner's settings after the reset: the old ones, with the /boot device and whether a backup drive exists. */
function userSettings(ctx: FlowContext, old: Uint8Array | undefined, backup: KeyBackup | null): Uint8Array {
  const settings: Record<string, string> = { CONFIG_HAVE_GPG_KEY_BACKUP: backup?.kind === "drive" ? "y" : "n" };
  const device = bootDevice(ctx);
  if (device) settings.CONFIG_BOOT_DEV = device;
  return new TextEncoder().encode(withUserSettings(old ? new TextDecoder().decode(old) : "", settings));
}

/**
 * As Heads' reset writes the ROM: every heads/* file is rewritten, with the new keyring and
 * its ultimate trust, the owner's settings updated and their other files carried over.
 * Returns the PCR 7 value the next boot will measure, which the TOTP secret is sealed to.
 */
async function storeKeyringInRom(ctx: FlowContext, flash: FlashDevice, tpm: Tpm, key: NewKey, backup: KeyBackup | null): Promise<Map<number, Uint8Array>> {
  const current = await flash.read();
  const old = [...userFiles(current)];
  const kept = old.filter((f) => !f.path.startsWith("/.gnupg/") && f.path !== CONFIG_USER);
  const trustdb = ultimateTrustDb({ fingerprint: fromHex(key.fingerprint), userIds: key.userIds }, Math.floor(ctx.sys.now() / 1000));
  const config = userSettings(ctx, old.find((f) => f.path === CONFIG_USER)?.data, backup);
  const image = withUserFiles(current, [...kept, { path: KEYRING, data: key.binaryPublic }, { path: TRUSTDB, data: trustdb }, { path: CONFIG_USER, data: config }]);
  await flash.write(image);
  const pcr = userFilesPcr(ctx.config.CONFIG_PCR);
  return new Map([[pcr, futureUserFilesPcr(readEventLog(ctx.sys, ctx.root).log, pcrHashOf(tpm.pcrSize), [...userFiles(image)], pcr)]]);
}

function backupText(backup: KeyBackup | null): string {
  if (!backup) return "none; re-signing /boot needs a new OEM factory reset";
  if (backup.kind === "file") return `${backup.path} (protected by the signing key passphrase)`;
  return `the encrypted partition of ${driveLabel(backup.drive)} (opened with the signing key passphrase)`;
}

/** Writes the protected secret key where the owner chose; the drive is erased first. */
async function writeBackup(ctx: FlowContext, backup: KeyBackup, key: NewKey, passphrase: string): Promise<void> {
  const secretKey = await key.protectedSecret(passphrase);
  if (backup.kind === "file") {
    ctx.sys.writeFile(resolvePath(ctx.root, backup.path), secretKey, 0o600);
    return;
  }
  const luksPassphrase = new TextEncoder().encode(passphrase);
  try {
    await formatBackupDrive(ctx.sys, backup.drive, backup.share, luksPassphrase, { secretKey, publicKey: key.armoredPublic });
  } finally {
    luksPassphrase.fill(0);
  }
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
  const answers = await askAnswers(prompt, ctx.sys.now(), { checkPath: (path) => keyCopyProblem(ctx, path), drives: usbDriveList(ctx.sys, ctx.root) });
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
        await writeBackup(ctx, answers.backup, key, answers.keyPassphrase);
      } catch (error) {
        if (!(error instanceof SysError || error instanceof BackupDriveError || error instanceof PartitionError || error instanceof SignerError)) throw error;
        return await fail(`The key backup could not be written to ${where}`, error);
      }
    }
    installKeyring(ctx, key.binaryPublic);
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
    sealed = await sealNewTotpSecret(tpm, ctx.sys, { ownerPassphrase: answers.tpmOwner, boardName: boardName(ctx.config), root: ctx.root, ...(nextBoot ? { nextBoot } : {}) });
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
